/* BLAS daxpy with increments: y[i*incy] += a * x[i*incx] for i < n.
 * Callers pass positive increments here; a zero or negative one makes the
 * translated code take the original loop. */
void axpy_inc(int n, double a, const double *x, int incx, double *y, int incy)
{
    for (int i = 0; i < n; i++)
        y[i * incy] += a * x[i * incx];
}
