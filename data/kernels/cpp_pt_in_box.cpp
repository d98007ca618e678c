#include <cstddef>
#include <vector>

struct Particle {
    double x, y;
    double vx, vy;
    double mass;
};

/* Number of particles with 0 <= x < w and 0 <= y < h. */
int inBox(std::vector<Particle> const& ps, double w, double h) {
    int n = 0;
    for (size_t i = 0; i < ps.size(); i++) {
        if (ps[i].x >= 0 && ps[i].x < w && ps[i].y >= 0 && ps[i].y < h) n++;
    }
    return n;
}
