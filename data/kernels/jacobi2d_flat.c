/* Interior update of a 5-point Jacobi step on an n x n grid; in and out are
 * plain double pointers (the caller may pass the same grid twice). */
void jacobi2d_flat(int n, double *in, double *out)
{
    for (int i = 1; i < n - 1; i++)
        for (int j = 1; j < n - 1; j++)
            out[i * n + j] = 0.2 * (in[i * n + j] + in[(i - 1) * n + j] + in[(i + 1) * n + j]
                                    + in[i * n + j - 1] + in[i * n + j + 1]);
}
