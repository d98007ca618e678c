#include <cstddef>
#include <vector>
#include <mpi.h>

/* Compute z = alpha*x + y where x, y and z are vectors of the same length.
   Example:
   input: x=[1, -5, 2, 9] y=[0, 4, 1, -1] alpha=2
   output: z=[2, -6, 5, 17]
*/
void axpy(double alpha, std::vector<double> const& x, std::vector<double> const& y, std::vector<double> &z) {
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int chunk = static_cast<int>(x.size()) / size;

    std::vector<double> local(chunk);
    for (int i = 0; i < chunk; ++i) {
        local[i] = alpha * x[rank * chunk + i] + y[rank * chunk + i];
    }
    MPI_Gather(local.data(), chunk, MPI_DOUBLE, z.data(), chunk, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}
