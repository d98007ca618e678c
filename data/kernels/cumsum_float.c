/* Inclusive prefix sum in single precision, starting from a carried-in total
 * (the running sum of a previous chunk). */
void cumsum_float(int n, float carry, const float *x, float *y)
{
    float s = carry;
    for (int i = 0; i < n; i++) {
        s = s + x[i];
        y[i] = s;
    }
}
