/* dst = src reversed, written with a descending loop. */
void reverse_copy(int n, double *src, double *dst)
{
    for (int i = n - 1; i >= 0; i--)
        dst[n - 1 - i] = src[i];
}
