/* histogram.c - count bin indices; parallel versions need atomics or
 * per-thread bins. */
#include <stdio.h>
#include <stdlib.h>

void histogram(int n, int nbins, const int *bin, int *hist)
{
    for (int b = 0; b < nbins; b++)
        hist[b] = 0;
    for (int i = 0; i < n; i++)
        hist[bin[i]]++;
}

int main(void)
{
    const int n = 4000000, nbins = 64;
    int *bin = malloc(sizeof(int) * n);
    int hist[64];
    if (!bin)
        return 1;
    unsigned int state = 12345u;          /* small deterministic LCG */
    for (int i = 0; i < n; i++) {
        state = state * 1664525u + 1013904223u;
        bin[i] = (int)((state >> 8) % (unsigned)nbins);
    }

    histogram(n, nbins, bin, hist);

    long total = 0, weighted = 0;
    for (int b = 0; b < nbins; b++) {
        total += hist[b];
        weighted += (long)b * hist[b];
    }
    printf("histogram n=%d total=%ld weighted=%ld hist[0]=%d hist[63]=%d\n",
           n, total, weighted, hist[0], hist[63]);
    free(bin);
    return 0;
}
