#include <cstddef>
#include <vector>

/* A is an NxN adjacency matrix in row-major order. Return the highest vertex degree. */
int maxDegree(std::vector<int> const& A, size_t N) {
    int best = 0;
    for (size_t i = 0; i < N; ++i) {
        int d = 0;
        for (size_t j = 0; j < N; ++j) {
            d += A[i * N + j];
        }
        if (d > best) best = d;
    }
    return best;
}
