#include <cstddef>
#include <vector>

/* rising[i] = x[i] > x[i - 1] for i >= 1; rising[0] is false. */
void risingEdges(std::vector<double> const& x, std::vector<bool> &rising) {
    if (x.empty()) return;
    rising[0] = false;
    for (std::size_t i = 1; i < x.size(); ++i)
        rising[i] = x[i] > x[i - 1];
}
