#include <complex>
#include <cstddef>
#include <vector>

/* e[r] = sum of |z|^2 over the r-th block of complex samples (blocks of any length). */
void blockEnergy(std::vector<std::vector<std::complex<double>>> const& blocks, std::vector<double> &e) {
    for (std::size_t r = 0; r < blocks.size(); ++r) {
        double s = 0.0;
        for (std::size_t k = 0; k < blocks[r].size(); ++k) s += std::norm(blocks[r][k]);
        e[r] = s;
    }
}
