#include <vector>

struct Particle {
    double x, y;
    double vx, vy;
    double mass;
};

/* Particles that left [0, w) in x have their x velocity reversed. */
void reflectWalls(std::vector<Particle> &ps, double w) {
    for (Particle &p : ps) {
        if (p.x < 0 || p.x >= w) p.vx = -p.vx;
    }
}
