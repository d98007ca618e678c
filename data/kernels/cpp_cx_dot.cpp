#include <complex>
#include <cstddef>
#include <vector>

/* Hermitian inner product: the sum over i of conj(x[i]) * y[i] (ZDOTC). */
std::complex<double> complexDot(std::vector<std::complex<double>> const& x,
                                std::vector<std::complex<double>> const& y) {
    std::complex<double> sum(0.0, 0.0);
    for (size_t i = 0; i < x.size(); ++i) {
        sum += std::conj(x[i]) * y[i];
    }
    return sum;
}
