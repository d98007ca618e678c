/* Strided copy between two buffers with start offsets, as a packing step of
 * a halo exchange does: y[offy + i*incy] = x[offx + i*incx]. */
void copy_off(int n, const int *x, int offx, int incx, int *y, int offy, int incy)
{
    for (int i = 0; i < n; i++)
        y[offy + i * incy] = x[offx + i * incx];
}
