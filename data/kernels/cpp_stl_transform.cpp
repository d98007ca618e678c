#include <algorithm>
#include <vector>

/* y[i] = x[i] * x[i] - 1. */
void squareMinusOne(std::vector<double> const& x, std::vector<double> &y) {
    std::transform(x.begin(), x.end(), y.begin(), [](double v) { return v * v - 1.0; });
}
