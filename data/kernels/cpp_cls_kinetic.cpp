#include <cstddef>
#include <vector>

class Particles {
public:
    std::vector<double> vx, vy;
    double mass = 1.0;
    double kinetic() const;
};

/* Total kinetic energy: sum of m (vx^2 + vy^2) / 2 over the particles. */
double Particles::kinetic() const {
    double e = 0.0;
    for (std::size_t i = 0; i < vx.size(); ++i)
        e += 0.5 * mass * (vx[i] * vx[i] + vy[i] * vy[i]);
    return e;
}
