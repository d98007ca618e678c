/* saxpy.c - single-precision a*x + y, the "hello world" of parallel kernels.
 *
 *   paralift translate examples/saxpy.c --to openmp
 */
#include <stdio.h>
#include <stdlib.h>

void saxpy(int n, float a, const float *x, float *y)
{
    for (int i = 0; i < n; i++)
        y[i] = a * x[i] + y[i];
}

int main(void)
{
    const int n = 1 << 20;
    float *x = malloc(sizeof(float) * n);
    float *y = malloc(sizeof(float) * n);
    if (!x || !y)
        return 1;
    for (int i = 0; i < n; i++) {
        x[i] = (float)(i % 1000) / 1000.0f;
        y[i] = (float)((i * 7) % 13) - 6.0f;
    }

    saxpy(n, 2.5f, x, y);

    double checksum = 0.0;
    for (int i = 0; i < n; i++)
        checksum += y[i];
    printf("saxpy n=%d checksum=%.6f y[12345]=%.6f\n", n, checksum, y[12345]);
    free(x);
    free(y);
    return 0;
}
