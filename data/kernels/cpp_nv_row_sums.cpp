#include <cstddef>
#include <vector>

/* sums[i] = sum of row i of A. */
void rowSums(std::vector<std::vector<double>> const& A, std::vector<double> &sums) {
    for (size_t i = 0; i < A.size(); i++) {
        double s = 0;
        for (size_t j = 0; j < A[i].size(); j++) s += A[i][j];
        sums[i] = s;
    }
}
