#include <cstddef>
#include <cmath>
#include <vector>

struct Point {
    double x, y;
};

/* Area of the polygon whose vertices are `poly`, in order (shoelace formula). */
double polygonArea(std::vector<Point> const& poly) {
    size_t n = poly.size();
    double twice = 0.0;
    for (size_t i = 0; i < n; ++i) {
        size_t j = (i + 1) % n;
        twice += poly[i].x * poly[j].y - poly[j].x * poly[i].y;
    }
    return std::fabs(twice) / 2.0;
}
