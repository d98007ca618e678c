#include <algorithm>
#include <vector>

/* Number of negative values. */
int countNegative(std::vector<int> const& x) {
    return std::count_if(x.begin(), x.end(), [](int v) { return v < 0; });
}
