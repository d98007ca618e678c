#include <cstddef>
#include <string>

/* Upper-case every letter of s in place. */
void toUpper(std::string &s) {
    for (std::size_t i = 0; i < s.size(); i++) {
        if (s[i] >= 'a' && s[i] <= 'z') s[i] = (char)(s[i] - 'a' + 'A');
    }
}
