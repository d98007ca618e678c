#include <math.h>

/* Direct O(n^2) gravitational forces (G = 1) with Plummer softening eps2 on
 * n bodies at (x, y, z) with masses mass.  Writes the force on each body. */
void nbody_forces(int n, double eps2, const double *x, const double *y,
                  const double *z, const double *mass,
                  double *fx, double *fy, double *fz)
{
    for (int i = 0; i < n; i++) {
        double ax = 0.0, ay = 0.0, az = 0.0;
        for (int j = 0; j < n; j++) {
            if (j == i)
                continue;
            double dx = x[j] - x[i];
            double dy = y[j] - y[i];
            double dz = z[j] - z[i];
            double r2 = dx * dx + dy * dy + dz * dz + eps2;
            double inv = 1.0 / (r2 * sqrt(r2));
            ax += mass[j] * dx * inv;
            ay += mass[j] * dy * inv;
            az += mass[j] * dz * inv;
        }
        fx[i] = mass[i] * ax;
        fy[i] = mass[i] * ay;
        fz[i] = mass[i] * az;
    }
}
