/* out[i] = in[i*stride + offset] where that index is inside in (n elements);
 * other outputs are left as they are. */
void gather_strided(int n, int stride, int offset, float *in, float *out)
{
    for (int i = 0; i < n; i++) {
        int idx = i * stride + offset;
        if (idx >= 0 && idx < n)
            out[i] = in[idx];
    }
}
