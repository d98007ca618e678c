/* BLAS sscal with an increment: every incx-th element of x scaled by a. */
void scal_inc(int n, float a, float *x, int incx)
{
    for (int i = 0; i < n; i++)
        x[i * incx] = a * x[i * incx];
}
