#include <omp.h>

/* Escape-time Mandelbrot set on a w x h pixel grid covering
 * [-2, 1] x [-1.5, 1.5].  counts[py*w + px] gets the number of iterations
 * (at most max_iter) before |z| > 2. */
void mandelbrot(int w, int h, int max_iter, int *counts)
{
    #pragma omp parallel for collapse(2) schedule(dynamic, 16)
    for (int py = 0; py < h; py++) {
        for (int px = 0; px < w; px++) {
            double ci = -1.5 + 3.0 * (py + 0.5) / h;
            double cr = -2.0 + 3.0 * (px + 0.5) / w;
            double zr = 0.0, zi = 0.0;
            int it = 0;
            while (it < max_iter - 1 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                ++it;
            }
            counts[(long)py * w + px] = it;
        }
    }
}
