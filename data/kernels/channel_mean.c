/* Mean over the last axis of a batch x channels x len tensor:
 * out[b][c] = mean_j x[(b*channels + c)*len + j]. */
void channel_mean(int batch, int channels, int len, float *x, float *out)
{
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++) {
            float s = 0.0f;
            for (int j = 0; j < len; j++)
                s += x[(b * channels + c) * len + j];
            out[b * channels + c] = len > 0 ? s / len : 0.0f;
        }
}
