/* fdtd-2d: tmax steps of the 2-D FDTD (Yee) update of ex, ey, hz (nx x ny);
 * the source term at step t is fict[t]. */
void fdtd_2d(int tmax, int nx, int ny, double *restrict ex, double *restrict ey, double *restrict hz,
             const double *fict)
{
    for (int t = 0; t < tmax; t++) {
        for (int j = 0; j < ny; j++)
            ey[j] = fict[t];
        for (int i = 1; i < nx; i++)
            for (int j = 0; j < ny; j++)
                ey[i * ny + j] = ey[i * ny + j] - 0.5 * (hz[i * ny + j] - hz[(i - 1) * ny + j]);
        for (int i = 0; i < nx; i++)
            for (int j = 1; j < ny; j++)
                ex[i * ny + j] = ex[i * ny + j] - 0.5 * (hz[i * ny + j] - hz[i * ny + j - 1]);
        for (int i = 0; i < nx - 1; i++)
            for (int j = 0; j < ny - 1; j++)
                hz[i * ny + j] = hz[i * ny + j] - 0.7 * (ex[i * ny + j + 1] - ex[i * ny + j]
                                                        + ey[(i + 1) * ny + j] - ey[i * ny + j]);
    }
}
