#include <cstddef>
#include <string>

/* Number of vowels in s. */
int countVowels(std::string const& s) {
    int k = 0;
    for (std::size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') k++;
    }
    return k;
}
