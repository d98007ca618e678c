#include <cstddef>
#include <vector>

/* T = A^T for an n x m matrix A stored as a vector of rows (T has m rows of n). */
void transposeRows(std::vector<std::vector<double>> const& A, std::vector<std::vector<double>> &T,
                   std::size_t n, std::size_t m) {
    for (std::size_t j = 0; j < m; ++j)
        for (std::size_t i = 0; i < n; ++i)
            T[j][i] = A[i][j];
}
