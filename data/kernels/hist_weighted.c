/* Weighted class histogram: mass[cls[i]] += w[i], cls[i] in [0, nclass).
 * Adds to whatever mass holds on entry. */
void hist_weighted(int n, const int *cls, const double *w, int nclass, double *mass)
{
    for (int i = 0; i < n; i++)
        mass[cls[i]] += w[i];
}
