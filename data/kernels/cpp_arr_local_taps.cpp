#include <array>
#include <cstddef>
#include <vector>

/* A 5-tap low-pass filter: out[i] = sum_k taps[k] * in[i + k] for every full window of in. The taps
   are a local std::array. */
void lowPass5(std::vector<float> const& in, std::vector<float> &out) {
    const std::array<float, 5> taps = {0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f};
    if (in.size() < taps.size()) return;
    for (std::size_t i = 0; i + taps.size() <= in.size(); ++i) {
        float acc = 0.0f;
        for (std::size_t k = 0; k < taps.size(); ++k) acc += taps[k] * in[i + k];
        out[i] = acc;
    }
}
