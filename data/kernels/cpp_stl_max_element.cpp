#include <algorithm>
#include <vector>

/* The largest value (x not empty). */
int largest(std::vector<int> const& x) {
    return *std::max_element(x.begin(), x.end());
}
