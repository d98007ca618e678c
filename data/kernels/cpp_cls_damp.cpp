#include <cstddef>
#include <vector>

class Grid {
public:
    std::vector<double> u;
    size_t nx = 0;
    void damp(double f);
};

/* Multiply every cell of the grid by f. */
void Grid::damp(double f) {
    for (size_t i = 0; i < u.size(); ++i) u[i] *= f;
}
