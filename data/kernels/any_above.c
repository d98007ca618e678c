/* Logical OR over the vector: 1 when some element exceeds t, 0 otherwise. */
int any_above(int n, const float *x, float t)
{
    int found = 0;
    int i;
    for (i = 0; i < n; ++i) {
        found |= (x[i] > t);
    }
    return found;
}
