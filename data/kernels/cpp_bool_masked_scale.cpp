#include <cstddef>
#include <vector>

/* x[i] *= s wherever mask[i] is set. */
void maskedScale(std::vector<bool> const& mask, std::vector<double> &x, double s) {
    for (size_t i = 0; i < x.size(); i++) {
        if (mask[i]) x[i] *= s;
    }
}
