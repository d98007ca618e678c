#include <cstddef>
#include <vector>

/* A is an NxN adjacency matrix in row-major order. Store the degree of every vertex in deg. */
void vertexDegrees(std::vector<int> const& A, std::vector<int> &deg, size_t N) {
    for (size_t i = 0; i < N; i++) {
        int d = 0;
        for (size_t j = 0; j < N; j++) {
            d += A[i * N + j];
        }
        deg[i] = d;
    }
}
