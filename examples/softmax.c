/* softmax.c - numerically stable softmax: a max reduction, an exp-sum
 * reduction and a normalisation map. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

void softmax(int n, const double *x, double *y)
{
    if (n <= 0)
        return;
    double mx = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > mx)
            mx = x[i];
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        y[i] = exp(x[i] - mx);
        total += y[i];
    }
    for (int i = 0; i < n; i++)
        y[i] /= total;
}

int main(void)
{
    int n = 1000000;
    double *logits = malloc(sizeof(double) * n);
    double *probs = malloc(sizeof(double) * n);
    if (!logits || !probs)
        return 1;
    for (int i = 0; i < n; i++)
        logits[i] = 8.0 * sin(0.37 * i) + 0.5 * cos(0.011 * i);

    softmax(n, logits, probs);

    double s = 0.0, best = 0.0;
    int arg = 0;
    for (int i = 0; i < n; i++) {
        s += probs[i];
        if (probs[i] > best) {
            best = probs[i];
            arg = i;
        }
    }
    printf("softmax n=%d sum=%.12f max=%.6e at %d\n", n, s, best, arg);
    free(logits);
    free(probs);
    return 0;
}
