#include <vector>

/* Scale a jagged (e.g. lower-triangular) matrix in place: element j of each row becomes
   s * value / (j + 1). Rows keep their own lengths. */
void scaleJagged(std::vector<std::vector<float>> &T, float s) {
    for (auto &row : T) {
        float d = 1.0f;
        for (float &v : row) {
            v = s * v / d;
            d += 1.0f;
        }
    }
}
