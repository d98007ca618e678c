/* Inclusive prefix sum of integers: out[i] = in[0] + ... + in[i]. */
void cumsum_int(int n, const int *in, int *out)
{
    int s = 0;
    for (int i = 0; i < n; i++) {
        s += in[i];
        out[i] = s;
    }
}
