#include <cstddef>
#include <vector>

/* Replace the i-th element of x with the minimum of x[0] through x[i].
   Example:
   input: [8, 6, -1, 7, 3, 4, 4]
   output: [8, 6, -1, -1, -1, -1, -1]
*/
void partialMinimums(std::vector<float> &x) {
    for (size_t i = 1; i < x.size(); i++) {
        if (x[i - 1] < x[i]) {
            x[i] = x[i - 1];
        }
    }
}
