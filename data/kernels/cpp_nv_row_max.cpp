#include <cstddef>
#include <vector>

/* best[r] = the largest value in row r of the ragged table t (rows may be empty: then INT_MIN-like -2147483647). */
void rowMax(std::vector<std::vector<int>> const& t, std::vector<int> &best) {
    for (std::size_t r = 0; r < t.size(); r++) {
        int m = -2147483647;
        for (int v : t[r]) {
            if (v > m) m = v;
        }
        best[r] = m;
    }
}
