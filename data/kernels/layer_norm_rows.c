/* Subtract each row's mean from the row, in place (rows x cols, row-major). */
void layer_norm_rows(int rows, int cols, float *x)
{
    for (int r = 0; r < rows; r++) {
        float *row = x + r * cols;
        float mean = 0.0f;
        for (int c = 0; c < cols; c++)
            mean += row[c];
        mean /= (cols > 0 ? cols : 1);
        for (int c = 0; c < cols; c++)
            row[c] -= mean;
    }
}
