#include <cstddef>
#include <vector>

class Signal {
    std::vector<double> samples;
public:
    void rectify();
};

/* Negative samples become zero. */
void Signal::rectify() {
    for (std::size_t i = 0; i < samples.size(); ++i)
        if (samples[i] < 0) samples[i] = 0;
}
