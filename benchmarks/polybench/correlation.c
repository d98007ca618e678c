#include <math.h>
/* correlation matrix of m variables over n samples: data is n x m and is
 * standardized in place; mean and stddev (m) are outputs; corr is m x m. */
void correlation(int m, int n, double *restrict data, double *restrict corr, double *restrict mean,
                 double *restrict stddev)
{
    const double eps = 0.1;
    for (int j = 0; j < m; j++) {
        mean[j] = 0.0;
        for (int i = 0; i < n; i++)
            mean[j] += data[i * m + j];
        mean[j] /= n;
    }
    for (int j = 0; j < m; j++) {
        stddev[j] = 0.0;
        for (int i = 0; i < n; i++)
            stddev[j] += (data[i * m + j] - mean[j]) * (data[i * m + j] - mean[j]);
        stddev[j] /= n;
        stddev[j] = sqrt(stddev[j]);
        stddev[j] = stddev[j] <= eps ? 1.0 : stddev[j];
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            data[i * m + j] -= mean[j];
            data[i * m + j] /= sqrt((double)n) * stddev[j];
        }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            corr[i * m + j] = 0.0;
            for (int k = 0; k < n; k++)
                corr[i * m + j] += data[k * m + i] * data[k * m + j];
        }
}
