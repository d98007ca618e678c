/* nbody.c - direct O(n^2) gravitational forces plus one Euler step. */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

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

int main(void)
{
    const int n = 2000;
    const double dt = 1e-3;
    double *buf = malloc(sizeof(double) * 10 * n);
    if (!buf)
        return 1;
    double *x = buf, *y = buf + n, *z = buf + 2 * n, *m = buf + 3 * n;
    double *fx = buf + 4 * n, *fy = buf + 5 * n, *fz = buf + 6 * n;
    double *vx = buf + 7 * n, *vy = buf + 8 * n, *vz = buf + 9 * n;
    for (int i = 0; i < n; i++) {
        double t = 0.1 * i;
        x[i] = cos(t) * (1.0 + 0.001 * i);
        y[i] = sin(t) * (1.0 + 0.001 * i);
        z[i] = 0.01 * (double)(i % 11 - 5);
        m[i] = 1.0 / n;
        vx[i] = vy[i] = vz[i] = 0.0;
    }

    nbody_forces(n, 1e-4, x, y, z, m, fx, fy, fz);

    double energy_like = 0.0;
    for (int i = 0; i < n; i++) {
        vx[i] += dt * fx[i] / m[i];
        vy[i] += dt * fy[i] / m[i];
        vz[i] += dt * fz[i] / m[i];
        energy_like += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    }
    printf("nbody n=%d kinetic=%.9e fx[0]=%.9e\n", n, energy_like, fx[0]);
    free(buf);
    return 0;
}
