#include <cstddef>
#include <vector>

/* A 1-D grid: values u, a scratch row next of the same length. */
struct Grid1D {
    std::vector<double> u;
    std::vector<double> next;
    int n = 0;
    void smooth(double w);
};

/* next = a weighted three-point average of u; the two end cells are copied. */
void Grid1D::smooth(double w) {
    if (n < 2) return;
    next[0] = u[0];
    next[n - 1] = u[n - 1];
    for (int i = 1; i < n - 1; i++)
        next[i] = (1.0 - w) * u[i] + 0.5 * w * (u[i - 1] + u[i + 1]);
}
