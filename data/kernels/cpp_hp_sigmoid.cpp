#include <cstddef>
#include <cmath>
#include <vector>

static double sigmoid(double v) {
    return 1.0 / (1.0 + std::exp(-v));
}

/* y[i] = sigmoid(x[i]). */
void sigmoidMap(std::vector<double> const& x, std::vector<double> &y) {
    for (size_t i = 0; i < x.size(); ++i) y[i] = sigmoid(x[i]);
}
