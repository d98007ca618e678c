#include "signal.hpp"

// Moving average over a window of WINDOW samples; the edges are left as they are.
void smooth(const double *in, double *out, int n) {
    for (int i = SMOOTH_RADIUS; i < n - SMOOTH_RADIUS; i++) {
        double s = 0.0;
        for (int k = -SMOOTH_RADIUS; k <= SMOOTH_RADIUS; k++)
            s += in[i + k];
        out[i] = s / WINDOW;
    }
}

// Energy of each frame of FRAME_LEN samples.
void frame_energy(const double *samples, double *energy, int frames) {
    for (int f = 0; f < frames; f++) {
        double e = 0.0;
        for (int j = 0; j < FRAME_LEN; j++)
            e += samples[f * FRAME_LEN + j] * samples[f * FRAME_LEN + j];
        energy[f] = e;
    }
}

// Sum of the amplified samples.
double gain_sum(const double *x, int n, double gain) {
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += gain * x[i];
    return s;
}

// Clamp every sample into [lo, hi] (calls the header's inline helper).
void clamp_all(double *x, int n, double lo, double hi) {
    for (int i = 0; i < n; i++)
        x[i] = clamp_to(x[i], lo, hi);
}
