#include <cstddef>
#include <vector>

template <typename T>
T absVal(T v) {
    return v < T(0) ? -v : v;
}

/* The largest |a[i] - b[i]|. */
double maxAbsDiff(std::vector<double> const& a, std::vector<double> const& b) {
    double m = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        double d = absVal(a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}
