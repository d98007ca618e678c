// axpy.cpp - ParEval-style C++ kernel over std::vector.
#include <cstddef>
#include <cstdio>
#include <vector>

/* Compute z = alpha*x + y where x, y and z are vectors of the same length.
   Example:
   input: x=[1, -5, 2, 9] y=[0, 4, 1, -1] alpha=2
   output: z=[2, -6, 5, 17]
*/
void axpy(double alpha, std::vector<double> const& x, std::vector<double> const& y, std::vector<double> &z) {
    for (size_t i = 0; i < x.size(); ++i) {
        z[i] = alpha * x[i] + y[i];
    }
}

int main() {
    const std::size_t n = 1000000;
    std::vector<double> x(n), y(n), z(n);
    for (std::size_t i = 0; i < n; ++i) {
        x[i] = static_cast<double>(i % 100) * 0.01;
        y[i] = 1.0 - static_cast<double>(i % 7) * 0.125;
    }

    axpy(2.0, x, y, z);

    double checksum = 0.0;
    for (double v : z) checksum += v;
    std::printf("axpy n=%zu checksum=%.6f z[4242]=%.6f\n", n, checksum, z[4242]);
    return 0;
}
