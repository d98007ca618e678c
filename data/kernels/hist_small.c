/* Class counts: labels[i] is in [0, nclass) and there are few classes
 * (tens), many samples. counts is cleared first. */
void hist_small(int n, const int *labels, int nclass, int *counts)
{
    for (int c = 0; c < nclass; c++)
        counts[c] = 0;
    for (int i = 0; i < n; i++)
        counts[labels[i]] += 1;
}
