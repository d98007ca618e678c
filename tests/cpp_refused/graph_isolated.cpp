#include <cstddef>
#include <vector>

/* A is an NxN adjacency matrix in row-major order. Count the vertices with no edge. */
int isolatedVertices(std::vector<int> const& A, size_t N) {
    int isolated = 0;
    for (size_t i = 0; i < N; i++) {
        bool any = false;
        for (size_t j = 0; j < N; j++) {
            if (A[i * N + j] != 0) any = true;
        }
        if (!any) isolated++;
    }
    return isolated;
}
