/* One explicit heat-equation step on the interior of an nz x ny x nx grid
 * flattened as (z*ny + y)*nx + x. */
void heat3d_flat(int nz, int ny, int nx, float alpha, float *u, float *v)
{
    for (int z = 1; z < nz - 1; z++)
        for (int y = 1; y < ny - 1; y++)
            for (int x = 1; x < nx - 1; x++) {
                int c = (z * ny + y) * nx + x;
                v[c] = u[c] + alpha * (u[c - 1] + u[c + 1] + u[c - nx] + u[c + nx]
                                       + u[c - nx * ny] + u[c + nx * ny] - 6.0f * u[c]);
            }
}
