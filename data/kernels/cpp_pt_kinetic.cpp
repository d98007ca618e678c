#include <vector>

struct Particle {
    double x, y;
    double vx, vy;
    double mass;
};

/* Total kinetic energy of the system. */
double kineticEnergy(std::vector<Particle> const& ps) {
    double e = 0.0;
    for (auto const& p : ps) {
        e += 0.5 * p.mass * (p.vx * p.vx + p.vy * p.vy);
    }
    return e;
}
