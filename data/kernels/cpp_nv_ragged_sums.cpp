#include <cstddef>
#include <vector>

/* out[r] = sum of the stored values of row r of a CSR-like ragged table (rows of any length, empty ones
   included), each weighted by its position in the row plus one. */
void raggedRowSums(std::vector<std::vector<double>> const& rows, std::vector<double> &out) {
    for (std::size_t r = 0; r < rows.size(); ++r) {
        double s = 0.0;
        for (std::size_t k = 0; k < rows[r].size(); ++k)
            s += rows[r][k] * (double)(k + 1);
        out[r] = s;
    }
}
