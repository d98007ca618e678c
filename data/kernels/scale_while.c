/* y = a*x written as a counted while loop over plain pointers. */
void scale_while(int n, double a, double *x, double *y)
{
    int i = 0;
    while (i < n) {
        y[i] = a * x[i];
        i++;
    }
}
