#include <cstddef>
#include <cstdlib>
#include <vector>

/* Gradient magnitude (|gx| + |gy|) of the NxN image with the Sobel operator; the border of out is 0. */
void sobel(std::vector<int> const& img, std::vector<int> &out, size_t N) {
    const int kx[3][3] = {{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}};
    const int ky[3][3] = {{-1, -2, -1}, {0, 0, 0}, {1, 2, 1}};
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            if (i == 0 || j == 0 || i + 1 == N || j + 1 == N) {
                out[i * N + j] = 0;
                continue;
            }
            int gx = 0, gy = 0;
            for (int a = -1; a <= 1; a++) {
                for (int b = -1; b <= 1; b++) {
                    int v = img[(i + a) * N + (j + b)];
                    gx += kx[a + 1][b + 1] * v;
                    gy += ky[a + 1][b + 1] * v;
                }
            }
            out[i * N + j] = std::abs(gx) + std::abs(gy);
        }
    }
}
