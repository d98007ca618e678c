#include <cstddef>
#include <vector>
#include <algorithm>

/* Return the sum of the minimum value at each index of vectors x and y,
   i.e. sum over i of min(x[i], y[i]). x and y have the same length.
   Example:
   input: x=[3, 4, 0, 2, 3], y=[2, 5, 3, 1, 7]
   output: 10
*/
double sumOfMinimumElements(std::vector<double> const& x, std::vector<double> const& y) {
    double total = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        total += std::min(x[i], y[i]);
    }
    return total;
}
