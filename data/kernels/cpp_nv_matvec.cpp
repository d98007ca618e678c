#include <cstddef>
#include <vector>

/* y = A x for a matrix stored as a vector of rows. */
void matvecRows(std::vector<std::vector<double>> const& A, std::vector<double> const& x, std::vector<double> &y) {
    for (size_t i = 0; i < A.size(); ++i) {
        double s = 0.0;
        for (size_t j = 0; j < A[i].size(); ++j) {
            s += A[i][j] * x[j];
        }
        y[i] = s;
    }
}
