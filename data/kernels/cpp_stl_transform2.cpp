#include <algorithm>
#include <functional>
#include <vector>

/* z = x + y element-wise. */
void addVectors(std::vector<int> const& x, std::vector<int> const& y, std::vector<int> &z) {
    std::transform(x.begin(), x.end(), y.begin(), z.begin(), std::plus<int>());
}
