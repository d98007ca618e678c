/* BLAS ddot with increments. */
double dot_inc(int n, const double *x, int incx, const double *y, int incy)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i * incx] * y[i * incy];
    return s;
}
