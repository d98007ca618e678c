#include <cstddef>
#include <vector>

/* Every element plus c; instantiated only through a call that deduces T (int). */
template <typename T>
void addConst(std::vector<T> &v, T c) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] += c;
}

void bump(std::vector<int> &v) { addConst(v, 1); }
