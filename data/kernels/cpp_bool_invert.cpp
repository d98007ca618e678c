#include <cstddef>
#include <vector>

/* Flip every flag whose weight is negative, in place. */
void flipNegative(std::vector<bool> &flags, std::vector<int> const& w) {
    for (std::size_t i = 0; i < flags.size(); ++i)
        if (w[i] < 0) flags[i] = !flags[i];
}
