/* C (m x n, row-major) = a b^T. */
void outer_flat(int m, int n, double *a, double *b, double *C)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            C[i * n + j] = a[i] * b[j];
}
