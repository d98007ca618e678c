/* Reverse the channel order of interleaved 3-channel pixels. */
void bgr_to_rgb(int npixels, unsigned char *src, unsigned char *dst)
{
    for (int i = 0; i < npixels; i++)
        for (int ch = 0; ch < 3; ch++)
            dst[3 * i + ch] = src[3 * i + 2 - ch];
}
