#include <cstddef>
#include <vector>

/* composite[v] = whether v has a divisor d with 2 <= d and d * d <= v (each element on its own: neighbours
   of the bit-packed vector are written by different iterations). */
void markComposites(std::vector<bool> &composite) {
    for (std::size_t v = 0; v < composite.size(); ++v) {
        bool c = false;
        for (std::size_t d = 2; d * d <= v; ++d)
            if (v % d == 0) c = true;
        composite[v] = c;
    }
}
