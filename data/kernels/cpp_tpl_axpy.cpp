#include <cstddef>
#include <vector>

/* y = a x + y. */
template <typename T>
void axpyT(T a, std::vector<T> const& x, std::vector<T> &y) {
    for (size_t i = 0; i < x.size(); ++i) y[i] += a * x[i];
}

template void axpyT<float>(float, std::vector<float> const&, std::vector<float> &);
