/* jacobi-1d: tsteps sweeps of the 3-point average, ping-ponging between A and B (length n). */
void jacobi_1d(int tsteps, int n, double *restrict A, double *restrict B)
{
    for (int t = 0; t < tsteps; t++) {
        for (int i = 1; i < n - 1; i++)
            B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1]);
        for (int i = 1; i < n - 1; i++)
            A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1]);
    }
}
