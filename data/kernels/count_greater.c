/* Number of elements of x strictly greater than t. */
int count_greater(int n, const int *x, int t)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (x[i] > t)
            count++;
    }
    return count;
}
