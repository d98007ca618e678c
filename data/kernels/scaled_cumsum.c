/* Running energy: e[i] = sum over k <= i of (gain * x[k])^2, in double. */
void scaled_cumsum(int n, double gain, const double *x, double *e)
{
    double acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += (gain * x[i]) * (gain * x[i]);
        e[i] = acc;
    }
}
