#include <cmath>
#include <vector>

/* Scale x to unit Euclidean length (a zero vector stays zero). */
void normalize(std::vector<double> &x) {
    double s = 0.0;
    for (auto const& v : x) s += v * v;
    if (s == 0.0) return;
    auto inv = 1.0 / std::sqrt(s);
    for (auto &v : x) v *= inv;
}
