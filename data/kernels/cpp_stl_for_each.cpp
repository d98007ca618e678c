#include <algorithm>
#include <vector>

/* Clamp every value to [lo, hi] in place (lo <= hi). */
void clampAll(std::vector<double> &x, double lo, double hi) {
    std::for_each(x.begin(), x.end(), [lo, hi](double &v) {
        if (v < lo) v = lo;
        if (v > hi) v = hi;
    });
}
