#include <cmath>
#include <numeric>
#include <vector>

/* Sum of |x[i]|. */
double l1Norm(std::vector<double> const& x) {
    return std::accumulate(x.begin(), x.end(), 0.0, [](double acc, double v) { return acc + std::abs(v); });
}
