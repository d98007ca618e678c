/* Rectified linear unit: y[i] = max(x[i], 0). */
void relu(int n, const float *x, float *y)
{
    int i = 0;
    while (i < n) {
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        i++;
    }
}
