#include <cstddef>
#include <vector>

inline int clampInt(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Clamp every value to [0, 255], in place. */
void clampPixels(std::vector<int> &px) {
    for (size_t i = 0; i < px.size(); i++) px[i] = clampInt(px[i], 0, 255);
}
