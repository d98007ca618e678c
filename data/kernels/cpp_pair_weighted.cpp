#include <cstddef>
#include <utility>
#include <vector>

/* Sum of first * second over the pairs. */
double weightedSum(std::vector<std::pair<int, double>> const& items) {
    double s = 0.0;
    for (size_t i = 0; i < items.size(); i++) s += items[i].first * items[i].second;
    return s;
}
