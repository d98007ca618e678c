#include <cstddef>
#include <complex>
#include <vector>

/* mag[i] = |x[i]|. */
void magnitudes(std::vector<std::complex<double>> const& x, std::vector<double> &mag) {
    for (size_t i = 0; i < x.size(); ++i) {
        mag[i] = std::abs(x[i]);
    }
}
