/* Product of the elements of x (intended for values close to 1, so the
 * result neither overflows nor underflows for moderate n). */
double product(int n, const double *x)
{
    double p = 1.0;
    for (int i = 0; i < n; ++i) {
        p *= x[i];
    }
    return p;
}
