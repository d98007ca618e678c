/* prefix_sum.c - inclusive scan. The loop carries a dependence through the
 * running sum, so paralift keeps it sequential and reports why. */
#include <stdio.h>
#include <stdlib.h>

void prefix_sum(int n, const double *x, double *y)
{
    double running = 0.0;
    for (int i = 0; i < n; ++i) {
        running += x[i];
        y[i] = running;
    }
}

int main(void)
{
    int n = 1000000;
    double *x = malloc(sizeof(double) * n);
    double *y = malloc(sizeof(double) * n);
    if (!x || !y)
        return 1;
    for (int i = 0; i < n; i++)
        x[i] = (i % 3 == 0) ? 0.5 : 0.25;

    prefix_sum(n, x, y);

    printf("prefix_sum n=%d last=%.3f y[999]=%.3f\n", n, y[n - 1], y[999]);
    free(x);
    free(y);
    return 0;
}
