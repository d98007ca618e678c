#include <cstddef>
#include <cmath>
#include <vector>

struct Point {
    double x, y;
};

static double triangleArea(Point const& A, Point const& B, Point const& C) {
    return 0.5 * std::abs(A.x * (B.y - C.y) + B.x * (C.y - A.y) + C.x * (A.y - B.y));
}

/* Return the area of the smallest triangle formed by any 3 of the points.
   Example: input [{0,10}, {5,5}, {1,0}, {-1,1}, {-10,0}]  output: 5.5 */
double smallestArea(std::vector<Point> const& points) {
    double minArea = 1e300;
    for (size_t i = 0; i < points.size(); ++i) {
        for (size_t j = i + 1; j < points.size(); ++j) {
            for (size_t k = j + 1; k < points.size(); ++k) {
                double area = triangleArea(points[i], points[j], points[k]);
                if (area < minArea) {
                    minArea = area;
                }
            }
        }
    }
    return minArea;
}
