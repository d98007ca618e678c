#include <cstddef>
#include <vector>

/* Sum and largest value of the signal clipped to [-lim, lim], through a local clipped copy. */
double clippedEnergy(std::vector<float> const& sig, float lim, float &peak) {
    std::vector<float> c(sig.size());
    for (std::size_t i = 0; i < sig.size(); ++i)
        c[i] = sig[i] > lim ? lim : (sig[i] < -lim ? -lim : sig[i]);
    double e = 0.0;
    float best = 0.0f;
    for (std::size_t i = 0; i < sig.size(); ++i) {
        e += (double)c[i] * c[i];
        if (c[i] > best) best = c[i];
    }
    peak = best;
    return e;
}
