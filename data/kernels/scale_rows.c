/* Multiply row r of a rows x cols matrix by scale[r], through &m[r*cols]. */
void scale_rows(int rows, int cols, float *scale, float *m)
{
    for (int r = 0; r < rows; r++) {
        float *row = &m[r * cols];
        for (int c = 0; c < cols; c++)
            row[c] *= scale[r];
    }
}
