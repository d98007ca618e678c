// Shared definitions of the signal-processing example.
#pragma once

// Half-width of the smoothing window; the build sets it (-DSMOOTH_RADIUS=2).
#ifndef SMOOTH_RADIUS
#define SMOOTH_RADIUS 1
#endif
#define WINDOW (2 * SMOOTH_RADIUS + 1)

// Samples per frame of a framed signal (frames are stored one after another).
#define FRAME_LEN 32

struct Range {
    double lo;
    double hi;
};

inline double clamp_to(double x, double lo, double hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

void smooth(const double *in, double *out, int n);
void frame_energy(const double *samples, double *energy, int frames);
double gain_sum(const double *x, int n, double gain);
void clamp_all(double *x, int n, double lo, double hi);
