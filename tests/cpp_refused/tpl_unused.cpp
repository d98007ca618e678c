#include <cstddef>
#include <vector>

/* Never instantiated in this file: the element type is not known. */
template <typename T>
void clampAll(std::vector<T> &v, T lo, T hi) {
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = v[i] < lo ? lo : (v[i] > hi ? hi : v[i]);
}
