/* What a memory-bound MPI kernel can gain under ParEval's contract (DESIGN §3: every rank holds the
 * complete inputs, rank 0 must hold the complete output), at 2 ranks on one node: each rank computes
 * half of y = 2x + y, then rank 0 receives the other half (MPI_Gatherv, as paralift's code does). Prints
 * rank 0's times per call: its half, the gather, a memcpy of the same bytes (the floor for any
 * transfer into rank 0's own array), and the sequential loop.
 *
 *   .venv/bin/mpicc -O2 benchmarks/mpi_gather_bound.c -o /tmp/gb && .venv/bin/mpirun -n 2 /tmp/gb
 *
 * The speedup bound is sequential / (half + gather), or at best sequential / (half + memcpy). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int r, s;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &s);
    const long n = 4194309;             /* paralift's timing size for saxpy */
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float)), *z = malloc(n * sizeof(float));
    for (long i = 0; i < n; i++) { x[i] = (float)i; y[i] = 1.0f; z[i] = 0.0f; }
    int cnt[64], dsp[64];
    for (int k = 0; k < s; k++) { dsp[k] = (int)(n * k / s); cnt[k] = (int)(n * (k + 1) / s) - dsp[k]; }
    double tc = 0, tg = 0, tm = 0, ts = 0;
    const int reps = 40, warm = 5;
    for (int rep = 0; rep < reps; rep++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (long i = dsp[r]; i < dsp[r] + cnt[r]; i++) y[i] = 2.0f * x[i] + y[i];
        double t1 = MPI_Wtime();
        if (r == 0) MPI_Gatherv(MPI_IN_PLACE, 0, MPI_FLOAT, y, cnt, dsp, MPI_FLOAT, 0, MPI_COMM_WORLD);
        else MPI_Gatherv(y + dsp[r], cnt[r], MPI_FLOAT, NULL, NULL, NULL, MPI_FLOAT, 0, MPI_COMM_WORLD);
        double t2 = MPI_Wtime();
        if (r == 0) memcpy(z + cnt[0], y + cnt[0], (size_t)(n - cnt[0]) * sizeof(float));
        double t3 = MPI_Wtime();
        if (rep >= warm) { tc += t1 - t0; tg += t2 - t1; tm += t3 - t2; }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (r == 0) {
        for (int rep = 0; rep < reps; rep++) {
            double t0 = MPI_Wtime();
            for (long i = 0; i < n; i++) y[i] = 2.0f * x[i] + y[i];
            if (rep >= warm) ts += MPI_Wtime() - t0;
        }
        const double k = 1e3 / (reps - warm);
        printf("ranks %d: half %.3f ms, gather %.3f ms, memcpy of the rest %.3f ms, sequential %.3f ms\n",
               s, tc * k, tg * k, tm * k, ts * k);
        printf("bound with the gather %.2fx, with a memcpy instead %.2fx (checksum %g)\n",
               ts / (tc + tg), ts / (tc + tm), (double)y[n / 3] + z[n - 1]);
    }
    free(x); free(y); free(z);
    MPI_Finalize();
    return 0;
}
