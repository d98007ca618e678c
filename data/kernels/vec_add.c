/* Element-wise vector addition c = a + b. */
void vec_add(int n, const double *a, const double *b, double *c)
{
    int i;
    for (i = 0; i < n; ++i) {
        c[i] = a[i] + b[i];
    }
}
