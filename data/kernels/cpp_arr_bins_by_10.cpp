#include <array>
#include <cstddef>
#include <vector>

/* bins[k] = number of values v in x (all in [0, 100)) with 10k <= v < 10(k+1). */
void binsBy10Count(std::vector<double> const& x, std::array<size_t, 10> &bins) {
    for (size_t i = 0; i < 10; i++) bins[i] = 0;
    for (size_t i = 0; i < x.size(); i++) {
        int b = (int)(x[i] / 10.0);
        if (b >= 0 && b < 10) bins[b]++;
    }
}
