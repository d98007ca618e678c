/* Logical AND over the vector: 1 when every element is > 0 (also for n == 0),
 * 0 otherwise.  The loop deliberately visits every element. */
int all_positive(int n, const double *x)
{
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok = ok && (x[i] > 0.0);
    return ok;
}
