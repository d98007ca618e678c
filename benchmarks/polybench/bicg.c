/* bicg: s := A^T r and q := A p, with A n x m (row-major). */
void bicg(int n, int m, const double *A, double *restrict s, double *restrict q,
          const double *p, const double *r)
{
    for (int j = 0; j < m; j++)
        s[j] = 0.0;
    for (int i = 0; i < n; i++) {
        q[i] = 0.0;
        for (int j = 0; j < m; j++)
            q[i] += A[i * m + j] * p[j];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            s[j] += r[i] * A[i * m + j];
}
