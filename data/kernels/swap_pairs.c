/* Swap neighbouring elements pairwise (0<->1, 2<->3, ...) into out; a last
 * odd element is copied. */
void swap_pairs(int n, const int *in, int *out)
{
    for (int i = 0; i + 1 < n; i += 2) {
        out[i] = in[i + 1];
        out[i + 1] = in[i];
    }
    if (n % 2 == 1)
        out[n - 1] = in[n - 1];
}
