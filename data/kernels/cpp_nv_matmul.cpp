#include <cstddef>
#include <vector>

/* C = A B for NxN matrices stored as vectors of rows. */
void matmulRows(std::vector<std::vector<double>> const& A, std::vector<std::vector<double>> const& B,
                std::vector<std::vector<double>> &C, size_t N) {
    for (size_t i = 0; i < N; ++i) {
        for (size_t j = 0; j < N; ++j) {
            double s = 0.0;
            for (size_t k = 0; k < N; ++k) s += A[i][k] * B[k][j];
            C[i][j] = s;
        }
    }
}
