"""isl dependence analysis (paralift.agents.polyhedral) against known answers."""
from __future__ import annotations

import pytest

from paralift.agents.analysis import analyze
from paralift.agents.polyhedral import NotAffine, analyze_source, build_band, perfect_band

GEMM = """
void gemm(int ni, int nj, int nk, double alpha, double *restrict C, const double *A, const double *B)
{
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < nj; j++)
            for (int k = 0; k < nk; k++)
                C[i * nj + j] += alpha * A[i * nk + k] * B[k * nj + j];
}
"""
JACOBI = """
void jacobi(int n, const double *in, double *restrict out)
{
    for (int i = 1; i < n - 1; i++)
        for (int j = 1; j < n - 1; j++)
            out[i * n + j] = 0.2 * (in[i * n + j] + in[(i - 1) * n + j] + in[(i + 1) * n + j]
                                    + in[i * n + j - 1] + in[i * n + j + 1]);
}
"""
SEIDEL = """
void seidel(int tsteps, int n, double *A)
{
    for (int t = 0; t < tsteps; t++)
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                A[i * n + j] = (A[(i - 1) * n + j - 1] + A[(i - 1) * n + j] + A[(i - 1) * n + j + 1]
                                + A[i * n + j - 1] + A[i * n + j] + A[i * n + j + 1]
                                + A[(i + 1) * n + j - 1] + A[(i + 1) * n + j] + A[(i + 1) * n + j + 1]) / 9.0;
}
"""
TRISOLV = """
void trisolv(int n, const double *L, double *restrict x, const double *b)
{
    for (int i = 0; i < n; i++) {
        x[i] = b[i];
        for (int j = 0; j < i; j++)
            x[i] -= L[i * n + j] * x[j];
        x[i] = x[i] / L[i * n + i];
    }
}
"""
LU = """
void lu(int n, double *A)
{
    for (int k = 0; k < n; k++) {
        for (int j = k + 1; j < n; j++)
            A[k * n + j] /= A[k * n + k];
        for (int i = k + 1; i < n; i++)
            for (int j = k + 1; j < n; j++)
                A[i * n + j] -= A[i * n + k] * A[k * n + j];
    }
}
"""
PREFIX = """
void prefix(int n, double *x)
{
    for (int i = 1; i < n; i++)
        x[i] += x[i - 1];
}
"""
SEIDEL1D = """
void s1d(int tsteps, int n, double *A)
{
    for (int t = 0; t < tsteps; t++)
        for (int i = 1; i < n - 1; i++)
            A[i] = (A[i - 1] + A[i] + A[i + 1]) / 3.0;
}
"""
OVERRUN = """
void overrun(int n, double *A)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= n; j++)
            A[i * n + j] = A[i * n + j] * 2.0;
}
"""
ACCUM = """
void mm(int m, int n, int k, const double *A, const double *B, double *C)
{
    long i, j, p;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (p = 0; p < k; p++)
                s += A[i * k + p] * B[p * n + j];
            C[i * n + j] = s;
        }
}
"""


def band_at(src: str, fn: str, line: int):
    fx = analyze(src, "c", fn)
    loop = next(L for L in fx.model.loops if L.line == line)
    return build_band(fx.model, perfect_band(loop), lambda d: fx.alias_groups.get(d.key, d.key))


def test_gemm_band():
    b = band_at(GEMM, "gemm", 4)
    assert b.depth == 3
    assert [b.is_parallel(k) for k in range(3)] == [True, True, False]
    assert b.permutable()
    assert len(b.legal_permutations()) == 6           # every order of i, j, k
    assert b.tiling_legal((0, 2, 1), (32, 32, 64))
    # in i-k-j order, the i loop and its tile loop stay parallel, k does not
    sched = b.tile_schedule((0, 2, 1), (32, 32, 64))
    assert b.parallel_dims(sched)[0] is True
    assert b.parallel_dims(b.permutation_schedule((0, 2, 1))) == [True, False, True]


def test_jacobi_sweep_fully_parallel():
    b = band_at(JACOBI, "jacobi", 4)
    assert b.distances().is_empty()
    assert b.is_parallel(0) and b.is_parallel(1)
    assert b.interchange_legal((1, 0))


def test_seidel_nothing_parallel_and_no_interchange():
    b = band_at(SEIDEL, "seidel", 4)
    assert [b.is_parallel(k) for k in range(3)] == [False, False, False]
    assert not b.permutable()
    assert b.legal_permutations() == [(0, 1, 2)]
    inner = band_at(SEIDEL, "seidel", 5)                # one sweep (t is a parameter)
    assert not inner.is_parallel(0) and not inner.is_parallel(1)
    assert inner.interchange_legal((0, 1))
    assert not inner.interchange_legal((1, 0))          # distance (1, -1) from A[i - 1][j + 1]
    assert not inner.permutable()


def test_seidel_1d_time_tiling_illegal():
    b = band_at(SEIDEL1D, "s1d", 4)
    assert not b.permutable()                           # distance (1, -1) from A[i + 1]
    assert not b.interchange_legal((1, 0))
    assert not b.tiling_legal((0, 1), (16, 16))
    assert b.legal(b.schedule("[x0, x0 + x1]"))         # the skewed schedule is legal ...
    assert b.legal(b.schedule("[floor(x0/16), floor((x0 + x1)/16), x0, x0 + x1]"))  # ... and tileable


def test_trisolv_and_prefix_sequential():
    b = band_at(TRISOLV, "trisolv", 4)
    assert not b.is_parallel(0)
    inner = band_at(TRISOLV, "trisolv", 6)
    assert not inner.is_parallel(0)                     # the x[i] accumulation
    p = band_at(PREFIX, "prefix", 4)
    assert not p.is_parallel(0)
    assert "x0 = 1" in p.distances().to_str()          # exactly the distance 1


def test_lu_update_band_inside_k():
    k = band_at(LU, "lu", 4)
    assert not k.is_parallel(0)
    upd = band_at(LU, "lu", 7)
    assert upd.is_parallel(0) and upd.is_parallel(1)
    assert upd.permutable()
    row = band_at(LU, "lu", 5)                          # the row scaling inside k
    assert row.is_parallel(0)


def test_private_accumulator_and_inner_loop():
    b = band_at(ACCUM, "mm", 5)
    assert b.depth == 2 and b.is_parallel(0) and b.is_parallel(1)
    p = band_at(ACCUM, "mm", 8)                         # s is carried by p
    assert not p.is_parallel(0)


def test_delinearization_refused_when_it_would_be_wrong():
    with pytest.raises(NotAffine, match="delinearize"):
        band_at(OVERRUN, "overrun", 4)


def test_analyze_source_summary():
    items = analyze_source(GEMM, "c", "gemm")
    top = items[0]
    assert top["affine"] and top["vars"] == ["i", "j", "k"] and top["parallel"] == [True, True, False]
    assert top["permutable"] and len(top["legal_orders"]) == 6
