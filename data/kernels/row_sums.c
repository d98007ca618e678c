/* Sum of each row of a rows x cols matrix, through a row pointer. */
void row_sums(int rows, int cols, const float *in, float *out)
{
    for (int r = 0; r < rows; r++) {
        const float *row = in + r * cols;
        float s = 0.0f;
        for (int c = 0; c < cols; c++)
            s += row[c];
        out[r] = s;
    }
}
