#include <cstddef>
#include <cmath>
#include <vector>

struct Point {
    double x, y;
};

static double dist(Point const& p1, Point const& p2) {
    return std::sqrt((p2.x - p1.x) * (p2.x - p1.x) + (p2.y - p1.y) * (p2.y - p1.y));
}

/* Return the distance between the closest two points in `points`.
   Example: input [{2,3}, {12,30}, {40,50}, {5,1}, {12,10}, {3,4}]  output: 1.41421 */
double closestPair(std::vector<Point> const& points) {
    double best = 1e300;
    for (size_t i = 0; i < points.size(); i++) {
        for (size_t j = i + 1; j < points.size(); j++) {
            double d = dist(points[i], points[j]);
            if (d < best) best = d;
        }
    }
    return best;
}
