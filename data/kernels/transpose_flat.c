/* transposed = vector^T for a size x size matrix, column index first. */
void transpose_flat(int size, double *vector, double *transposed)
{
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++)
            transposed[i + j * size] = vector[j + i * size];
}
