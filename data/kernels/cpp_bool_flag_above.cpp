#include <cstddef>
#include <vector>

/* flags[i] = x[i] > t. */
void flagAbove(std::vector<double> const& x, double t, std::vector<bool> &flags) {
    for (size_t i = 0; i < x.size(); i++) {
        flags[i] = x[i] > t;
    }
}
