/* Indexed scatter: dst[idx[i]] = src[i].  When idx repeats a position the
 * last write (largest i) wins, so the loop order matters unless idx is a
 * permutation. */
void scatter(int n, const int *idx, const double *src, double *dst)
{
    for (int i = 0; i < n; ++i) {
        dst[idx[i]] = src[i];
    }
}
