#include <stdlib.h>
#include <mpi.h>

/* Escape-time Mandelbrot set on a w x h pixel grid covering
 * [-2, 1] x [-1.5, 1.5].  counts[py*w + px] gets the number of iterations
 * (at most max_iter) before |z| > 2.
 * Rows are dealt out cyclically (row py goes to rank py % size) to balance
 * the uneven work; each rank fills a zeroed copy and the copies are summed
 * on rank 0 (every pixel is written by exactly one rank). */
void mandelbrot(int w, int h, int max_iter, int *counts)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    long total = (long)w * h;
    int *mine = calloc(total > 0 ? (size_t)total : 1, sizeof(int));
    for (int py = rank; py < h; py += size) {
        double ci = -1.5 + 3.0 * (py + 0.5) / h;
        for (int px = 0; px < w; px++) {
            double cr = -2.0 + 3.0 * (px + 0.5) / w;
            double zr = 0.0, zi = 0.0;
            int it = 0;
            while (it < max_iter && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                ++it;
            }
            mine[(long)py * w + px] = it;
        }
    }
    MPI_Reduce(mine, counts, (int)total, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    free(mine);
}
