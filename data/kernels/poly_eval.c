/* Evaluate the polynomial coef[0] + coef[1]*t + ... + coef[deg]*t^deg at every
 * point x[i] (Horner's rule), writing y[i].  coef has deg+1 entries. */
void poly_eval(int n, int deg, const double *coef, const double *x, double *y)
{
    for (int i = 0; i < n; i++) {
        double t = x[i];
        double acc = 0.0;
        for (int d = deg; d >= 0; d--)
            acc = acc * t + coef[d];
        y[i] = acc;
    }
}
