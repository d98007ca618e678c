#include <vector>

struct Point {
    double x, y;
};

/* Count the points strictly inside the circle of radius r around the origin. */
int countInside(std::vector<Point> const& points, double r) {
    int count = 0;
    for (Point const& p : points) {
        if (p.x * p.x + p.y * p.y < r * r) {
            ++count;
        }
    }
    return count;
}
