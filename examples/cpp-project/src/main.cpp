#include <cmath>
#include <cstdio>
#include <vector>

#include "signal.hpp"

int main() {
    const int frames = 2000;
    const int n = frames * FRAME_LEN;
    std::vector<double> x(n), y(n, 0.0), energy(frames);
    for (int i = 0; i < n; i++)
        x[i] = std::sin(0.001 * i) + 0.25 * std::cos(0.37 * i);
    smooth(x.data(), y.data(), n);
    frame_energy(y.data(), energy.data(), frames);
    double total = gain_sum(energy.data(), frames, 0.5);
    const Range keep{-0.5, 0.5};
    clamp_all(y.data(), n, keep.lo, keep.hi);
    double clamped = 0.0;
    for (int i = 0; i < n; i++)
        clamped += y[i];
    std::printf("window %d, frames %d\n", WINDOW, frames);
    std::printf("y[100] = %.10f\n", y[100]);
    std::printf("energy[7] = %.10f\n", energy[7]);
    std::printf("gain sum = %.6f\n", total);
    std::printf("clamped sum = %.10f\n", clamped);
    return 0;
}
