#include <complex>
#include <cstddef>
#include <vector>

/* The disk automorphism (z - a) / (1 - conj(a) z). */
static std::complex<double> mobius(std::complex<double> z, std::complex<double> a) {
    return (z - a) / (1.0 - std::conj(a) * z);
}

/* out[i] = |p(w)| / (1 + arg(p(w))^2) at w = mobius(z[i], a), where p(w) = c[0] + c[1] w + ... (Horner). */
void polyResponse(std::vector<double> const& c, std::complex<double> a,
                  std::vector<std::complex<double>> const& z, std::vector<double> &out) {
    for (size_t i = 0; i < z.size(); i++) {
        std::complex<double> w = mobius(z[i], a);
        std::complex<double> p(0.0, 0.0);
        for (int k = (int)c.size() - 1; k >= 0; k--) p = p * w + c[k];
        double phase = std::arg(p);
        out[i] = std::abs(p) / (1.0 + phase * phase);
    }
}
