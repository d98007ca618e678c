#include <cstddef>
#include <vector>

namespace sim {
struct Field {
    std::vector<double> a, b;
    double scale = 2.0;
    Field() = default;
    explicit Field(std::size_t n) : a(n), b(n) {}
    std::size_t size() const { return a.size(); }
    /* b = scale * a */
    void apply() {
        for (std::size_t i = 0; i < a.size(); ++i)
            b[i] = scale * a[i];
    }
    double norm1() const {
        double s = 0;
        for (std::size_t i = 0; i < b.size(); ++i) s += b[i] < 0 ? -b[i] : b[i];
        return s;
    }
};
}
