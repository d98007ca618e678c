/* C = A * B for square size x size matrices stored row-major in plain
 * (non-const, non-restrict) float pointers, as CPU reference code often is. */
void matmul_flat(int size, float *A, float *B, float *C)
{
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            float sum = 0.0f;
            for (int k = 0; k < size; k++)
                sum += A[i * size + k] * B[k * size + j];
            C[i * size + j] = sum;
        }
}
