/* covariance of m variables over n samples: data is n x m; mean (m) and the
 * centred data are computed on the way; cov is m x m (symmetric, both halves). */
void covariance(int m, int n, double *restrict data, double *restrict cov, double *restrict mean)
{
    for (int j = 0; j < m; j++) {
        mean[j] = 0.0;
        for (int i = 0; i < n; i++)
            mean[j] += data[i * m + j];
        mean[j] /= n;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i * m + j] -= mean[j];
    for (int i = 0; i < m; i++)
        for (int j = i; j < m; j++) {
            cov[i * m + j] = 0.0;
            for (int k = 0; k < n; k++)
                cov[i * m + j] += data[k * m + i] * data[k * m + j];
            cov[i * m + j] /= (n - 1.0);
            cov[j * m + i] = cov[i * m + j];
        }
}
