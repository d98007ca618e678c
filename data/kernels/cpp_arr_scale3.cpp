#include <cstddef>
#include <array>
#include <vector>

/* Multiply x component-wise by the three weights w, cyclically (x[i] *= w[i % 3]). */
void weightCycle(std::vector<double> &x, std::array<double, 3> const& w) {
    for (size_t i = 0; i < x.size(); i++) {
        x[i] *= w[i % 3];
    }
}
