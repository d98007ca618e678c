/* x[r][c] = max(x[r][c] + b[c], 0) over a rows x cols activation, in place. */
void bias_relu_rows(int rows, int cols, float *x, float *b)
{
    for (int r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (int c = 0; c < cols; c++) {
            float v = row[c] + b[c];
            row[c] = v > 0.0f ? v : 0.0f;
        }
    }
}
