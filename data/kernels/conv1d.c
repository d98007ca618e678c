/* "Same"-size 1-D convolution (correlation form) of x (length n) with a filter
 * w of length k, centred at k/2, zero padding outside x.  y has length n. */
void conv1d(int n, int k, const float *x, const float *w, float *y)
{
    int half = k / 2;
    for (int i = 0; i < n; ++i) {
        float acc = 0.0f;
        for (int j = 0; j < k; ++j) {
            int src = i + j - half;
            if (src >= 0 && src < n)
                acc += w[j] * x[src];
        }
        y[i] = acc;
    }
}
