/* Gradient of ReLU: dx = dy where the forward input was positive. */
void relu_backward(int n, float *x, float *dy, float *dx)
{
    for (int i = 0; i < n; i++)
        dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}
