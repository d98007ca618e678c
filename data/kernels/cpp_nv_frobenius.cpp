#include <cmath>
#include <vector>

/* The Frobenius norm of A (rows as vectors). */
double frobenius(std::vector<std::vector<double>> const& A) {
    double s = 0.0;
    for (auto const& row : A)
        for (double v : row)
            s += v * v;
    return std::sqrt(s);
}
