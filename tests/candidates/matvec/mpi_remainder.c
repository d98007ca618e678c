#include <stdlib.h>
#include <mpi.h>

/* Dense matrix-vector product y = A*x, A is m x n row-major. */
void matvec(int m, int n, const double *A, const double *x, double *y)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    int rows = m / size;
    double *mine = malloc(sizeof(double) * (rows > 0 ? rows : 1));
    for (int r = 0; r < rows; r++) {
        int i = rank * rows + r;
        double acc = 0.0;
        for (int j = 0; j < n; j++)
            acc += A[(long)i * n + j] * x[j];
        mine[r] = acc;
    }
    MPI_Gather(mine, rows, MPI_DOUBLE, y, rows, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    free(mine);
}
