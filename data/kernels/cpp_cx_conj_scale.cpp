#include <cstddef>
#include <complex>
#include <vector>

/* Replace every value by its complex conjugate times s, in place. */
void conjugateScale(std::vector<std::complex<double>> &x, double s) {
    for (size_t i = 0; i < x.size(); i++) {
        x[i] = std::conj(x[i]) * s;
    }
}
