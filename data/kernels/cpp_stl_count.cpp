#include <algorithm>
#include <vector>

/* How many times target occurs in x. */
int occurrences(std::vector<int> const& x, int target) {
    return (int)std::count(x.begin(), x.end(), target);
}
