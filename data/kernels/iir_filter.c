/* First-order IIR low-pass filter: y[0] = alpha*x[0],
 * y[i] = alpha*x[i] + (1 - alpha)*y[i-1].  Each output needs the previous one. */
void iir_filter(int n, double alpha, const double *x, double *y)
{
    double prev = 0.0;
    int i;
    for (i = 0; i < n; ++i) {
        prev = alpha * x[i] + (1.0 - alpha) * prev;
        y[i] = prev;
    }
}
