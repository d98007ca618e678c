/* "Valid" 1-D correlation: y[i] = sum_j x[i+j] * w[j] for every window of
 * x that fits (n - k + 1 outputs). */
void conv1d_valid(int n, int k, const float *x, const float *w, float *y)
{
    for (int i = 0; i + k <= n; i++) {
        float s = 0.0f;
        for (int j = 0; j < k; j++)
            s += x[i + j] * w[j];
        y[i] = s;
    }
}
