#include <cstddef>
#include <vector>

struct Point {
    double x, y;
};

/* Move every point by (dx, dy), in place. */
void translatePoints(std::vector<Point>& points, double dx, double dy) {
    for (size_t i = 0; i < points.size(); ++i) {
        points[i].x += dx;
        points[i].y += dy;
    }
}
