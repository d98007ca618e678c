/* seidel-2d: tsteps in-place Gauss-Seidel sweeps of the 9-point average on an n x n grid. */
void seidel_2d(int tsteps, int n, double *restrict A)
{
    for (int t = 0; t < tsteps; t++)
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                A[i * n + j] = (A[(i - 1) * n + j - 1] + A[(i - 1) * n + j] + A[(i - 1) * n + j + 1]
                                + A[i * n + j - 1] + A[i * n + j] + A[i * n + j + 1]
                                + A[(i + 1) * n + j - 1] + A[(i + 1) * n + j] + A[(i + 1) * n + j + 1]) / 9.0;
}
