#include <vector>

/* Sum of the squares of the values. */
double sumSquares(std::vector<double> const& x) {
    double s = 0.0;
    for (auto v : x) s += v * v;
    return s;
}
