/* dot.c - dot product, a sum reduction. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

double dot(int n, const double *x, const double *y)
{
    double result = 0.0;
    int i;
    for (i = 0; i < n; i++) {
        result += x[i] * y[i];
    }
    return result;
}

int main(void)
{
    int n = 2000000;
    double *x = malloc(n * sizeof *x);
    double *y = malloc(n * sizeof *y);
    if (x == NULL || y == NULL)
        return 1;
    for (int i = 0; i < n; ++i) {
        x[i] = sin(0.001 * i);
        y[i] = cos(0.0007 * i);
    }
    double d = dot(n, x, y);
    printf("dot n=%d result=%.10f\n", n, d);
    free(x);
    free(y);
    return 0;
}
