#include <vector>
#include <cstddef>

/* Simulate one generation of Conway's Game of Life on an N x N grid stored
   row-major in `input` (1 = alive, 0 = dead). Cells outside the grid are dead.
   Store the new generation in `output`.
   Example:
   input:  [[0, 1, 0], [0, 1, 0], [0, 1, 0]]
   output: [[0, 0, 0], [1, 1, 1], [0, 0, 0]]
*/
void gameOfLife(std::vector<int> const& input, std::vector<int> &output, size_t N) {
    for (size_t i = 0; i < N; ++i) {
        for (size_t j = 0; j < N; ++j) {
            int neighbours = 0;
            for (int di = -1; di <= 1; ++di) {
                for (int dj = -1; dj <= 1; ++dj) {
                    if (di == 0 && dj == 0) continue;
                    if ((di < 0 && i == 0) || (di > 0 && i + 1 == N)) continue;
                    if ((dj < 0 && j == 0) || (dj > 0 && j + 1 == N)) continue;
                    neighbours += input[(i + di) * N + (j + dj)];
                }
            }
            int alive = input[i * N + j];
            if (alive) {
                output[i * N + j] = (neighbours == 2 || neighbours == 3) ? 1 : 0;
            } else {
                output[i * N + j] = (neighbours == 3) ? 1 : 0;
            }
        }
    }
}
