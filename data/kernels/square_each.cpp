#include <vector>

/* Replace every element of x with its square.
   Example:
   input: [5, 1, 2, -4, 8]
   output: [25, 1, 4, 16, 64]
*/
void squareEach(std::vector<double> &x) {
    for (auto &v : x) {
        v = v * v;
    }
}
