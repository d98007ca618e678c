#include <cstddef>
#include <vector>

struct Particle {
    double x, y;
    double vx, vy;
    double mass;
};

/* Advance every particle by dt with constant velocity. */
void advance(std::vector<Particle> &ps, double dt) {
    for (size_t i = 0; i < ps.size(); ++i) {
        ps[i].x += ps[i].vx * dt;
        ps[i].y += ps[i].vy * dt;
    }
}
