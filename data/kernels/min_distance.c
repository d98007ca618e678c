/* Smallest squared distance from point (px, py) to n points (xs[i], ys[i]);
 * a large sentinel for no points. */
float min_distance(int n, float px, float py, const float *xs, const float *ys)
{
    float best = 3.0e38f;
    for (int i = 0; i < n; i++) {
        float dx = xs[i] - px, dy = ys[i] - py;
        float d = dx * dx + dy * dy;
        if (d < best)
            best = d;
    }
    return best;
}
