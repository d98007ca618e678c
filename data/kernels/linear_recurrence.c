/* First-order linear recurrence a[0] = b[0], a[i] = a[i-1]*c + b[i]. */
void linear_recurrence(int n, double c, const double *b, double *a)
{
    if (n < 1)
        return;
    a[0] = b[0];
    for (int i = 1; i < n; i++)
        a[i] = a[i - 1] * c + b[i];
}
