#include <cstddef>
#include <algorithm>
#include <iterator>
#include <vector>

/* Index of the first smallest value (x not empty). */
size_t argminIndex(std::vector<float> const& x) {
    return std::distance(x.begin(), std::min_element(x.begin(), x.end()));
}
