#include <cstddef>
#include <cmath>
#include <complex>
#include <vector>

/* Discrete Fourier transform of the real sequence x into output (same length). */
void dft(std::vector<double> const& x, std::vector<std::complex<double>> &output) {
    size_t N = x.size();
    for (size_t k = 0; k < N; k++) {
        std::complex<double> sum(0.0, 0.0);
        for (size_t n = 0; n < N; n++) {
            double angle = -2.0 * M_PI * (double)k * (double)n / (double)N;
            sum += x[n] * std::complex<double>(std::cos(angle), std::sin(angle));
        }
        output[k] = sum;
    }
}
