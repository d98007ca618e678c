#include <cstddef>
#include <cmath>
#include <vector>

struct Body {
    double x, y, z;
    double m;
};

struct Vec3 {
    double x, y, z;
};

/* Gravitational acceleration on every body from all the others (softened). */
void accelerations(std::vector<Body> const& bodies, std::vector<Vec3> &acc) {
    const double eps2 = 1e-3;
    for (size_t i = 0; i < bodies.size(); ++i) {
        Vec3 a = {0.0, 0.0, 0.0};
        for (size_t j = 0; j < bodies.size(); ++j) {
            double dx = bodies[j].x - bodies[i].x;
            double dy = bodies[j].y - bodies[i].y;
            double dz = bodies[j].z - bodies[i].z;
            double r2 = dx * dx + dy * dy + dz * dz + eps2;
            double inv = bodies[j].m / (r2 * std::sqrt(r2));
            a.x += dx * inv;
            a.y += dy * inv;
            a.z += dz * inv;
        }
        acc[i] = a;
    }
}
