#include <cstddef>
#include <vector>

/* The sum of the values strictly between lo and hi, through a mask of the kept positions. */
double sumInRange(std::vector<double> const& x, double lo, double hi) {
    std::vector<bool> keep(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
        keep[i] = x[i] > lo && x[i] < hi;
    double s = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (keep[i]) s += x[i];
    return s;
}
