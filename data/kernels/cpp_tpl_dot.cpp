#include <cstddef>
#include <vector>

/* The dot product of a and b, accumulated in the element type. */
template <typename T>
T dotT(std::vector<T> const& a, std::vector<T> const& b) {
    T s = T(0);
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

template double dotT<double>(std::vector<double> const&, std::vector<double> const&);
template float dotT<float>(std::vector<float> const&, std::vector<float> const&);
