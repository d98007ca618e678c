#include <cstddef>

/* The sum of x[0..n) accumulated in the type of init. */
template <typename T, typename U>
U sumAs(const T *x, int n, U init) {
    U s = init;
    for (int i = 0; i < n; i++) s += (U)x[i];
    return s;
}

double meanOf(const unsigned int *a, int n) {
    double zero = 0.0;
    return n > 0 ? sumAs(a, n, zero) / n : 0.0;
}
