#include <cstddef>
#include <vector>
#include <omp.h>

/* Return the number of even values in x.
   Example:
   input: [3, 8, -2, 7, 0]
   output: 3
*/
int countEvens(std::vector<int> const& x) {
    int count = 0;
    #pragma omp parallel for reduction(+:count)
    for (size_t i = 0; i < x.size(); i++)
        if (x[i] % 2 == 0) ++count;
    return count;
}
