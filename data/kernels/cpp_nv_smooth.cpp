#include <vector>

/* One Jacobi sweep on an n x m grid stored as a vector of rows: every interior cell of out becomes
   the mean of its four neighbours in in; the border of out is left as it is. */
void smoothRows(std::vector<std::vector<float>> const& in, std::vector<std::vector<float>> &out, int n, int m) {
    for (int i = 1; i < n - 1; ++i) {
        for (int j = 1; j < m - 1; ++j) {
            out[i][j] = 0.25f * (in[i - 1][j] + in[i + 1][j] + in[i][j - 1] + in[i][j + 1]);
        }
    }
}
