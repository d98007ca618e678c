#include <cstddef>
#include <vector>

/* A is an NxN symmetric adjacency matrix in row-major order. Return the number of undirected edges. */
int edgeCount(std::vector<int> const& A, size_t N) {
    int count = 0;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = i + 1; j < N; j++) {
            if (A[i * N + j] != 0) count++;
        }
    }
    return count;
}
