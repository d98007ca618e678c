/* mvt: x1 := x1 + A y1 and x2 := x2 + A^T y2, with A n x n. */
void mvt(int n, double *restrict x1, double *restrict x2, const double *y1, const double *y2, const double *A)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            x1[i] += A[i * n + j] * y1[j];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            x2[i] += A[j * n + i] * y2[j];
}
