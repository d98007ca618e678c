#include <array>
#include <cstddef>
#include <string>
#include <vector>

/* bins[c] = number of strings in s that start with the letter 'a' + c (all strings lower case). */
void firstLetterCounts(std::vector<std::string> const& s, std::array<size_t, 26> &bins) {
    for (size_t c = 0; c < 26; c++) bins[c] = 0;
    for (size_t i = 0; i < s.size(); i++) {
        if (!s[i].empty() && s[i][0] >= 'a' && s[i][0] <= 'z') bins[s[i][0] - 'a']++;
    }
}
