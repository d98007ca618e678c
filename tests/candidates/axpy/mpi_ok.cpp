#include <cstddef>
#include <vector>
#include <mpi.h>

/* Compute z = alpha*x + y where x, y and z are vectors of the same length.
   Every rank holds complete copies of x and y; the result is valid on rank 0.
   Example:
   input: x=[1, -5, 2, 9] y=[0, 4, 1, -1] alpha=2
   output: z=[2, -6, 5, 17]
*/
void axpy(double alpha, std::vector<double> const& x, std::vector<double> const& y, std::vector<double> &z) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int n = static_cast<int>(x.size());

    std::vector<int> counts(size), displs(size);
    for (int r = 0; r < size; ++r) {
        displs[r] = static_cast<int>(static_cast<long>(r) * n / size);
        counts[r] = static_cast<int>(static_cast<long>(r + 1) * n / size) - displs[r];
    }
    std::vector<double> local(counts[rank]);
    for (int i = 0; i < counts[rank]; ++i) {
        local[i] = alpha * x[displs[rank] + i] + y[displs[rank] + i];
    }
    MPI_Gatherv(local.data(), counts[rank], MPI_DOUBLE,
                z.data(), counts.data(), displs.data(), MPI_DOUBLE, 0, MPI_COMM_WORLD);
}
