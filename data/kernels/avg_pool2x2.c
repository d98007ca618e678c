/* 2x2 average pooling: out is oh x ow, in has rows of width w (w >= 2*ow). */
void avg_pool2x2(int oh, int ow, int w, float *in, float *out)
{
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            float s = in[(2 * y) * w + 2 * x] + in[(2 * y) * w + 2 * x + 1]
                    + in[(2 * y + 1) * w + 2 * x] + in[(2 * y + 1) * w + 2 * x + 1];
            out[y * ow + x] = 0.25f * s;
        }
}
