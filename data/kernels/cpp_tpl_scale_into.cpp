#include <cstddef>

/* y[i] = a * x[i] for i < n; y may be x (scaled in place). */
template <typename T>
void scaleInto(int n, const T *x, T *y, T a) {
    for (int i = 0; i < n; i++) y[i] = a * x[i];
}

void scaleAll(int n, double *v, double a) {
    scaleInto<double>(n, v, v, a);
}
