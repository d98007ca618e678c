/* mandelbrot.c - escape-time fractal; very uneven work per row, so a
 * dynamic schedule matters. */
#include <stdio.h>
#include <stdlib.h>

void mandelbrot(int w, int h, int max_iter, int *counts)
{
    int px, py;
    for (py = 0; py < h; py++) {
        double ci = -1.5 + 3.0 * (py + 0.5) / h;
        for (px = 0; px < w; px++) {
            double cr = -2.0 + 3.0 * (px + 0.5) / w;
            double zr = 0.0, zi = 0.0;
            int it = 0;
            while (it < max_iter && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                ++it;
            }
            counts[(long)py * w + px] = it;
        }
    }
}

int main(void)
{
    int w = 640, h = 480, max_iter = 200;
    int *counts = malloc(sizeof(int) * w * h);
    if (!counts)
        return 1;

    mandelbrot(w, h, max_iter, counts);

    long total = 0;
    int inside = 0;
    for (int p = 0; p < w * h; p++) {
        total += counts[p];
        if (counts[p] == max_iter)
            inside++;
    }
    printf("mandelbrot %dx%d max_iter=%d total_iters=%ld inside=%d\n",
           w, h, max_iter, total, inside);
    free(counts);
    return 0;
}
