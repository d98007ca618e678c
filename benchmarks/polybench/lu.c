/* lu: in-place LU factorization without pivoting (Crout form) of the n x n matrix A:
 * L on and below the diagonal, the unit upper U above it (right-looking, k-i-j). */
void lu(int n, double *restrict A)
{
    for (int k = 0; k < n; k++) {
        for (int j = k + 1; j < n; j++)
            A[k * n + j] /= A[k * n + k];
        for (int i = k + 1; i < n; i++)
            for (int j = k + 1; j < n; j++)
                A[i * n + j] -= A[i * n + k] * A[k * n + j];
    }
}
