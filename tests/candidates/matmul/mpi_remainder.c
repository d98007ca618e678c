#include <stdlib.h>
#include <mpi.h>

/* C = A*B with A m x k, B k x n, C m x n, all row-major. */
void matmul(int m, int n, int k, const double *A, const double *B, double *C)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    long rows = m / size;
    long lo = rank * rows;
    for (long i = lo; i < lo + rows; i++)
        for (long j = 0; j < n; j++) {
            double s = 0.0;
            for (long p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
    int cnt = (int)(rows * n);
    if (rank == 0)
        MPI_Gather(MPI_IN_PLACE, cnt, MPI_DOUBLE, C, cnt, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    else
        MPI_Gather(C + lo * n, cnt, MPI_DOUBLE, NULL, cnt, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}
