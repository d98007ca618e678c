/* conv1d.c - smoothing a noisy signal with a 1-D filter. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

void conv1d(int n, int k, const float *x, const float *w, float *y)
{
    int half = k / 2;
    for (int i = 0; i < n; ++i) {
        float acc = 0.0f;
        for (int j = 0; j < k; ++j) {
            int src = i + j - half;
            if (src >= 0 && src < n)
                acc += w[j] * x[src];
        }
        y[i] = acc;
    }
}

int main(void)
{
    enum { N = 1 << 20, K = 15 };
    float *x = malloc(sizeof(float) * N);
    float *y = malloc(sizeof(float) * N);
    float w[K];
    if (!x || !y)
        return 1;
    for (int i = 0; i < N; i++)
        x[i] = sinf(0.002f * (float)i) + 0.1f * (float)((i * 37) % 11 - 5);
    float wsum = 0.0f;
    for (int j = 0; j < K; j++) {
        float d = (float)(j - K / 2);
        w[j] = expf(-d * d / 8.0f);
        wsum += w[j];
    }
    for (int j = 0; j < K; j++)
        w[j] /= wsum;

    conv1d(N, K, x, w, y);

    double checksum = 0.0;
    for (int i = 0; i < N; i++)
        checksum += y[i];
    printf("conv1d n=%d k=%d checksum=%.4f y[1000]=%.6f\n", N, K, checksum, y[1000]);
    free(x);
    free(y);
    return 0;
}
