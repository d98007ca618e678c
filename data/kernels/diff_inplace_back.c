/* Backward differences in place, walking down so each x[i-1] is still the
 * input: x[i] -= x[i-1] for i = n-1 .. 1. Not parallel. */
void diff_inplace_back(int n, float *x)
{
    for (int i = n - 1; i >= 1; i--)
        x[i] -= x[i - 1];
}
