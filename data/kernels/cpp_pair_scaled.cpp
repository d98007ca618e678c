#include <cstddef>
#include <utility>
#include <vector>

/* out[i] = (count, weight) scaled: the count doubled, the weight times s; negative weights are clamped. */
void scalePairs(std::vector<std::pair<int, float>> const& in, float s, std::vector<std::pair<int, float>> &out) {
    for (size_t i = 0; i < in.size(); i++) {
        float w = in[i].second * s;
        if (w < 0.0f) w = 0.0f;
        out[i].first = 2 * in[i].first;
        out[i].second = w;
    }
}
