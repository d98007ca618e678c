/* C = alpha * A + C on an m x n block of two row-major matrices with their
 * own leading dimensions (a sub-matrix update, as in blocked LU). */
void geam_ld(int m, int n, float alpha, const float *a, int lda, float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            c[i * ldc + j] = alpha * a[i * lda + j] + c[i * ldc + j];
}
