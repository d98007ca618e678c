#include <cstddef>
#include <string>
#include <vector>

/* Sum of the lengths of the strings. */
size_t totalLength(std::vector<std::string> const& words) {
    size_t total = 0;
    for (size_t i = 0; i < words.size(); ++i) total += words[i].size();
    return total;
}
