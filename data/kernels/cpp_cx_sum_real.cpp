#include <cstddef>
#include <complex>
#include <vector>

/* Sum of the real parts and sum of the imaginary parts of x. */
void complexSums(std::vector<std::complex<double>> const& x, double &re, double &im) {
    double sr = 0.0, si = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        sr += x[i].real();
        si += x[i].imag();
    }
    re = sr;
    im = si;
}
