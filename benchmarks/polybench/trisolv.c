/* trisolv: solve L x = b by forward substitution, L n x n lower triangular. */
void trisolv(int n, const double *L, double *restrict x, const double *b)
{
    for (int i = 0; i < n; i++) {
        x[i] = b[i];
        for (int j = 0; j < i; j++)
            x[i] -= L[i * n + j] * x[j];
        x[i] = x[i] / L[i * n + i];
    }
}
