/* 3x3 box blur of a w x h single-channel image (row-major, h rows of w
 * pixels).  Pixels outside the image are replaced by the nearest edge pixel. */
static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

void blur2d(int w, int h, const float *img, float *out)
{
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            float acc = 0.0f;
            for (int dy = -1; dy <= 1; dy++) {
                int yy = clampi(y + dy, 0, h - 1);
                for (int dx = -1; dx <= 1; dx++) {
                    int xx = clampi(x + dx, 0, w - 1);
                    acc += img[(long)yy * w + xx];
                }
            }
            out[(long)y * w + x] = acc / 9.0f;
        }
    }
}
