#include <cstddef>
#include <vector>

/* A is an NxN 0/1 adjacency matrix in row-major order. out[i] is the number of vertices reachable
   from i in exactly two steps, counted with multiplicity (row sums of A*A). */
void twoHopCounts(std::vector<int> const& A, std::vector<int> &out, size_t N) {
    for (size_t i = 0; i < N; ++i) {
        int c = 0;
        for (size_t k = 0; k < N; ++k) {
            if (A[i * N + k] == 0) continue;
            for (size_t j = 0; j < N; ++j) c += A[k * N + j];
        }
        out[i] = c;
    }
}
