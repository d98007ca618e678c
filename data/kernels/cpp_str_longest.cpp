#include <cstddef>
#include <string>
#include <vector>

/* The length of the longest word that contains the letter c. */
std::size_t longestWith(std::vector<std::string> const& words, char c) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
        bool has = false;
        for (std::size_t k = 0; k < words[i].size(); ++k)
            if (words[i][k] == c) has = true;
        std::size_t len = has ? words[i].size() : 0;
        if (len > best) best = len;
    }
    return best;
}
