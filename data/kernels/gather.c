/* Indexed gather: dst[i] = src[idx[i]]; every idx[i] is a valid index of src. */
void gather(int n, const int *idx, const double *src, double *dst)
{
    int i;
    for (i = 0; i < n; i++)
        dst[i] = src[idx[i]];
}
