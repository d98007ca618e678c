#include <complex>

/* y = a*x + y over n complex values (ZAXPY); x and y may be the same array. */
void complexAxpy(int n, std::complex<double> a, const std::complex<double> *x, std::complex<double> *y) {
    for (int i = 0; i < n; i++) {
        y[i] = a * x[i] + y[i];
    }
}
