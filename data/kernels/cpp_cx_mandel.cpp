#include <cstddef>
#include <complex>
#include <vector>

/* iters[i] = number of iterations of z = z*z + c[i] before |z| > 2, at most maxIter. */
void mandelCounts(std::vector<std::complex<double>> const& c, std::vector<int> &iters, int maxIter) {
    for (size_t i = 0; i < c.size(); i++) {
        std::complex<double> z(0.0, 0.0);
        int it = 0;
        while (it < maxIter && std::norm(z) <= 4.0) {
            z = z * z + c[i];
            ++it;
        }
        iters[i] = it;
    }
}
