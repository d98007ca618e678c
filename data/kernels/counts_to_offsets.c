/* Exclusive scan building CSR row offsets from per-row counts:
 * offset[i] = count[0] + ... + count[i-1], offset[n] = the total. */
int counts_to_offsets(int n, const int *count, int *offset)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        offset[i] = total;
        total += count[i];
    }
    offset[n] = total;
    return total;
}
