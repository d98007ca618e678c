/* Index of the point (xs[i], ys[i]) nearest to (px, py); the first one on
 * ties, -1 for no points. */
int nearest_point(int n, float px, float py, const float *xs, const float *ys)
{
    float best = 3.0e38f;
    int who = -1;
    for (int i = 0; i < n; i++) {
        float dx = xs[i] - px, dy = ys[i] - py;
        float d = dx * dx + dy * dy;
        if (d < best) {
            best = d;
            who = i;
        }
    }
    return who;
}
