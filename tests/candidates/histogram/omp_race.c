#include <omp.h>

/* Count how often each bin index occurs.  Every bin[i] is in [0, nbins);
 * hist (nbins entries) is cleared first. */
void histogram(int n, int nbins, const int *bin, int *hist)
{
    #pragma omp parallel for
    for (int b = 0; b < nbins; b++)
        hist[b] = 0;
    #pragma omp parallel for
    for (int i = 0; i < n; i++)
        hist[bin[i]]++;
}
