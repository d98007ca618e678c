#include <numeric>
#include <vector>

/* Dot product of a and b (same length). */
double dotProduct(std::vector<double> const& a, std::vector<double> const& b) {
    return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}
