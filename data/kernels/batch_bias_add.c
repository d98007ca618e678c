/* x[b][r][c] += bias[c] for a batch of rows x cols matrices in one buffer. */
void batch_bias_add(int batch, int rows, int cols, float *x, float *bias)
{
    for (int b = 0; b < batch; b++)
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                x[(b * rows + r) * cols + c] += bias[c];
}
