#include <cstddef>
#include <vector>

/* A is an NxN symmetric 0/1 adjacency matrix in row-major order. Count the triangles. */
int countTriangles(std::vector<int> const& A, size_t N) {
    int count = 0;
    for (size_t i = 0; i < N; ++i)
        for (size_t j = i + 1; j < N; ++j)
            for (size_t k = j + 1; k < N; ++k)
                if (A[i * N + j] && A[j * N + k] && A[i * N + k]) ++count;
    return count;
}
