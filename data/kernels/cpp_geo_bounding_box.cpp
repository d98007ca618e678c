#include <cstddef>
#include <vector>

struct Point {
    double x, y;
};

/* The smallest x and the largest x over all points (both 0 when there are none). */
void xExtent(std::vector<Point> const& points, double &xmin, double &xmax) {
    double lo = 1e300, hi = -1e300;
    for (size_t i = 0; i < points.size(); i++) {
        if (points[i].x < lo) lo = points[i].x;
        if (points[i].x > hi) hi = points[i].x;
    }
    if (points.empty()) { lo = 0; hi = 0; }
    xmin = lo;
    xmax = hi;
}
