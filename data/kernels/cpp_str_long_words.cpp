#include <cstddef>
#include <string>
#include <vector>

/* The number of words with more than k letters other than 'q'. */
int countLongWords(std::vector<std::string> const& words, int k) {
    int n = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
        int letters = 0;
        for (char ch : words[i])
            if (ch != 'q') letters++;
        if (letters > k) n++;
    }
    return n;
}
