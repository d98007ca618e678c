/* Mean of every column of a rows x cols matrix (0 for an empty matrix). */
void col_means(int rows, int cols, const double *m, double *mean)
{
    for (int j = 0; j < cols; j++) {
        double s = 0.0;
        for (int i = 0; i < rows; i++)
            s += m[i * cols + j];
        mean[j] = rows > 0 ? s / rows : 0.0;
    }
}
