#include <cstddef>
#include <vector>

/* Divide every row of A by its own largest absolute value (rows of zeros stay zero). */
void normalizeRows(std::vector<std::vector<double>> &A) {
    for (size_t i = 0; i < A.size(); ++i) {
        double m = 0.0;
        for (size_t j = 0; j < A[i].size(); ++j) {
            double a = A[i][j] < 0 ? -A[i][j] : A[i][j];
            if (a > m) m = a;
        }
        if (m > 0.0)
            for (size_t j = 0; j < A[i].size(); ++j) A[i][j] /= m;
    }
}
