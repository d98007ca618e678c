#include <cstddef>
#include <vector>

/* Number of true values in flags. */
int countTrue(std::vector<bool> const& flags) {
    int n = 0;
    for (size_t i = 0; i < flags.size(); ++i)
        if (flags[i]) n++;
    return n;
}
