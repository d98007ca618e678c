/* Horizontal 3-tap box blur of an h x w image; border columns untouched. */
void blur_rows(int h, int w, const float *in, float *out)
{
    for (int y = 0; y < h; y++)
        for (int x = 1; x + 1 < w; x++)
            out[y * w + x] = (in[y * w + x - 1] + in[y * w + x] + in[y * w + x + 1]) / 3.0f;
}
