#include <cstddef>
#include <vector>

/* Weighted 3x3 blur of the interior of the rows x cols image in; the border is copied. */
void blur3(std::vector<double> const& in, std::vector<double> &out, size_t rows, size_t cols) {
    const double w[3][3] = {{1.0 / 16, 2.0 / 16, 1.0 / 16}, {2.0 / 16, 4.0 / 16, 2.0 / 16}, {1.0 / 16, 2.0 / 16, 1.0 / 16}};
    for (size_t r = 0; r < rows; ++r) {
        for (size_t c = 0; c < cols; ++c) {
            if (r == 0 || c == 0 || r + 1 >= rows || c + 1 >= cols) {
                out[r * cols + c] = in[r * cols + c];
                continue;
            }
            double s = 0.0;
            for (int dr = 0; dr < 3; ++dr)
                for (int dc = 0; dc < 3; ++dc)
                    s += w[dr][dc] * in[(r + dr - 1) * cols + (c + dc - 1)];
            out[r * cols + c] = s;
        }
    }
}
