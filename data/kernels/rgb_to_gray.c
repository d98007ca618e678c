/* Interleaved RGB pixels (3 floats each) to luminance. */
void rgb_to_gray(int npixels, float *input, float *output)
{
    for (int i = 0; i < npixels; i++)
        output[i] = 0.299f * input[3 * i] + 0.587f * input[3 * i + 1] + 0.114f * input[3 * i + 2];
}
