#include <cstddef>
#include <vector>

/* Bin counts and their normalized frequencies. */
struct Histogram {
    std::vector<long> counts;
    std::vector<double> freq;
    void normalize(long total);
};

void Histogram::normalize(long total) {
    for (std::size_t b = 0; b < counts.size(); ++b)
        freq[b] = total > 0 ? (double)counts[b] / (double)total : 0.0;
}
