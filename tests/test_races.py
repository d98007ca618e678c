"""The static race check: lost-update races are found without running."""
import pytest

from paralift.sandbox.races import find_races

RACY = {
    "shared accumulator": """double dot(int n, const double *x) { double s = 0;
#pragma omp parallel for
for (int i = 0; i < n; i++) s += x[i];
return s; }""",
    "shared inner loop variable": """void mm(int n, double *c, const double *a) { int i, j;
#pragma omp parallel for
for (i = 0; i < n; i++) for (j = 0; j < n; j++) c[i*n+j] = a[j];
}""",
    "non-atomic histogram": """void h(int n, const int *b, int *hist) {
#pragma omp parallel for
for (int i = 0; i < n; i++) hist[b[i]]++;
}""",
    "max without reduction": """double mx(int n, const double *x) { double m = x[0];
#pragma omp parallel for
for (int i = 1; i < n; i++) if (x[i] > m) m = x[i];
return m; }""",
    "constant subscript": """void f(int n, const double *x, double *out) {
#pragma omp parallel for
for (int i = 0; i < n; i++) out[0] = out[0] + x[i];
}""",
    "shared temporary in a parallel loop": """void f(int n, const double *x, double *y) { double t;
#pragma omp parallel for
for (int i = 0; i < n; i++) { t = x[i] * 2; y[i] = t + 1; }
}""",
    "shared temporary in a region": """double f(int n, const double *x) { double s = 0, t;
#pragma omp parallel
{
  #pragma omp for
  for (int i = 0; i < n; i++) { t = x[i]; s += t; }
}
return s; }""",
    "histogram through a local bin": """void h(int n, const int *data, int *bins) {
#pragma omp parallel for
for (int i = 0; i < n; i++) { int v = data[i]; bins[v]++; }
}""",
    "histogram through a computed bin": """void h(int n, int nb, const float *x, int *bins) {
#pragma omp parallel for
for (int i = 0; i < n; i++) { int b = (int)(x[i] * nb); if (b >= nb) b = nb - 1; bins[b] += 1; }
}""",
    "column sums over a row loop": """void cs(int n, int m, const double *a, double *col) {
#pragma omp parallel for
for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) col[j] += a[i * m + j];
}""",
    "scatter through an index array": """void sc(int n, const int *perm, const double *x, double *out) {
#pragma omp parallel for
for (int i = 0; i < n; i++) out[perm[i]] = x[i];
}""",
    "scatter through a loaded local": """void sc(int n, const int *perm, const double *x, double *out) {
#pragma omp parallel for
for (int i = 0; i < n; i++) { int k = perm[i]; out[k] = 2 * x[i]; }
}""",
}

CORRECT = {
    "reduction": """double dot(int n, const double *x) { double s = 0;
#pragma omp parallel for reduction(+:s)
for (int i = 0; i < n; i++) s += x[i];
return s; }""",
    "private inner variable": """void mm(int n, double *c, const double *a) { int i, j;
#pragma omp parallel for private(j)
for (i = 0; i < n; i++) for (j = 0; j < n; j++) c[i*n+j] = a[j];
}""",
    "collapse makes both private": """void mm(int n, double *c) { int i, j;
#pragma omp parallel for collapse(2)
for (i = 0; i < n; i++) for (j = 0; j < n; j++) c[i*n+j] += 1.0;
}""",
    "atomic histogram": """void h(int n, const int *b, int *hist) {
#pragma omp parallel for
for (int i = 0; i < n; i++) {
#pragma omp atomic
hist[b[i]]++; }
}""",
    "array reduction": """void h(int n, const int *b, int *hist, int nb) {
#pragma omp parallel for reduction(+:hist[:nb])
for (int i = 0; i < n; i++) hist[b[i]]++;
}""",
    "thread-local partial + critical": """double dot(int n, const double *x) { double s = 0;
#pragma omp parallel
{ double loc = 0;
  #pragma omp for
  for (int i = 0; i < n; i++) loc += x[i];
  #pragma omp critical
  s += loc;
}
return s; }""",
    "element-wise update": """void f(int n, double *y) {
#pragma omp parallel for simd schedule(static)
for (int i = 0; i < n; i++) { double t = y[i]; t = t * 2; y[i] += t; } }""",
    "a flag set to a constant": """int f(int n, const double *x) { int found = 0;
#pragma omp parallel for
for (int i = 0; i < n; i++) if (x[i] > 1.0) found = 1;
return found; }""",
    "thread count written by every thread": """int f(void) { int nt = 0;
#pragma omp parallel
{ nt = omp_get_num_threads(); }
return nt; }""",
    "an inner simd loop's counter, not in private": """void mm(int m, int k, const double *A, double *C) { long i, p;
#pragma omp parallel for
for (i = 0; i < m; i++) { double s = 0;
  #pragma omp simd reduction(+:s)
  for (p = 0; p < k; p++) s += A[i * k + p];
  C[i] = s; } }""",
    "gather through an index array": """void g(int n, const int *idx, const double *x, double *out) {
#pragma omp parallel for
for (int i = 0; i < n; i++) { int k = idx[i]; out[i] = x[k]; }
}""",
    "row-wise accumulation": """void mv(int n, int m, const double *a, const double *x, double *y) {
#pragma omp parallel for
for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) y[i] += a[i * m + j] * x[j];
}""",
    "index computed from the loop variable": """void f(int n, int off, double *y) {
#pragma omp parallel for
for (int i = 0; i < n; i++) { int k = 2 * i + off; y[k] += 1.0; }
}""",
    "private local histogram merged under critical": """void h(int n, const int *d, int *bins) {
#pragma omp parallel
{ int loc[16] = {0};
  #pragma omp for
  for (int i = 0; i < n; i++) { int v = d[i] & 15; loc[v]++; }
  #pragma omp critical
  for (int b = 0; b < 16; b++) bins[b] += loc[b];
} }""",
    "blocks partitioned by thread id": """void ps(int n, const double *x, double *y) {
#pragma omp parallel
{ int tid = omp_get_thread_num(), T = omp_get_num_threads();
  long lo = (long)tid * n / T, hi = (long)(tid + 1) * n / T;
  double run = 0.0;
  for (long i = lo; i < hi; i++) { run += x[i]; y[i] = run; }
} }""",
    "sequential code outside regions": """double f(int n, const double *x) { double s = 0;
for (int i = 0; i < n; i++) s += x[i];
return s; }""",
}


@pytest.mark.parametrize("name", RACY)
def test_races_are_found(name):
    assert find_races(RACY[name]), name


@pytest.mark.parametrize("name", CORRECT)
def test_correct_code_is_not_flagged(name):
    assert find_races(CORRECT[name]) == [], name
