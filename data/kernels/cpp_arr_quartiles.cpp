#include <array>
#include <cstddef>
#include <vector>

/* Count the values whose fractional part lies in [0,.25), [.25,.5), [.5,.75) and [.75,1). */
void countQuartiles(std::vector<double> const& x, std::array<size_t, 4> &bins) {
    bins = {0, 0, 0, 0};
    for (double v : x) {
        double f = v - (double)(long)v;
        if (f < 0) f += 1.0;
        size_t q = (size_t)(f * 4.0);
        if (q > 3) q = 3;
        bins[q] += 1;
    }
}
