#include <math.h>

/* Row-wise softmax of a rows x cols matrix (numerically stable form). */
void softmax_rows(int rows, int cols, const double *logits, double *probs)
{
    for (int r = 0; r < rows; r++) {
        const double *in = logits + r * cols;
        double *out = probs + r * cols;
        double mx = -INFINITY;
        for (int c = 0; c < cols; c++)
            if (in[c] > mx) mx = in[c];
        double z = 0.0;
        for (int c = 0; c < cols; c++) {
            out[c] = exp(in[c] - mx);
            z += out[c];
        }
        for (int c = 0; c < cols; c++)
            out[c] /= z;
    }
}
