#include <numeric>
#include <vector>

/* Sum of the values. */
double total(std::vector<double> const& x) {
    return std::accumulate(x.begin(), x.end(), 0.0);
}
