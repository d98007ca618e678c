"""The paired timing driver (sandbox.paired) and its statistic (issue 21):
reference and candidate linked into one process without clashing, called
in warm-up pairs then ABBA/BAAB blocks, and an interval over processes
whose coverage is honest. No speed targets: only what a measurement must
be, whatever the machine's load."""
import math
import random
import shutil
import subprocess

import pytest

from paralift.sandbox import paired, timing
from paralift.types import Param, ParamKind, Role, Signature, Target

# Both files define the same global helper, global variable, function and a main: the
# paired binary must keep them apart. Each call appends its side to a sequence
# that an extra object (linked in by the test only) writes out at exit.
REF = """extern int seq[]; extern int nseq;
int calls = 0;
double weight(double v) { return 2.0 * v; }
static double twice(double v) { return v + v; }
double work(int n, double *y) {
  seq[nseq++] = 1; calls++;
  double s = 0;
  for (int i = 0; i < n; i++) { y[i] = weight(y[i]); s += twice(y[i]); }
  return s;
}
int main(void) { double y[2] = {1, 2}; return (int)work(2, y); }
"""
CAND = REF.replace("seq[nseq++] = 1", "seq[nseq++] = 2").replace("2.0 * v", "v + v")
SEQ = """#include <stdio.h>
int seq[4096]; int nseq = 0;
__attribute__((destructor)) static void dump(void) {
  FILE *f = fopen("seq.txt", "w");
  for (int i = 0; i < nseq; i++) fprintf(f, "%d", seq[i]);
  fclose(f);
}
"""
SIG = Signature("work", "double", [Param("n", "int"), Param("y", "double", ParamKind.POINTER, role=Role.INOUT,
                                                                    extent="n")])


needs_tools = pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("objcopy")), reason="gcc and objcopy")


def _build(tmp_path, ref=REF, cand=CAND):
    p = paired.plan(SIG, "c", Target.OPENMP, ref, cand, ("-O2",), "gcc", "g++")
    for name, text in p.files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "seq.c").write_text(SEQ)
    for cmd in p.commands:
        if cmd[-1] == "-lm":           # the links (one a layout, paired.layouts)
            cmd = [*cmd[:-3], "seq.c", *cmd[-3:]]
        r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, (cmd, r.stderr)
    return tmp_path / "paired"


def _case(tmp_path, n=1000):
    import numpy as np
    from paralift.sandbox import inputs
    (tmp_path / "in").mkdir(exist_ok=True)
    (tmp_path / "out").mkdir(exist_ok=True)
    with open(tmp_path / "in" / "c.in", "wb") as f:
        f.write(np.int32(n).tobytes())
        f.write(np.uint64(n).tobytes())
        f.write(np.arange(n, dtype=np.float64).tobytes())
    return inputs


@needs_tools
def test_paired_driver_links_both_copies_and_alternates(tmp_path):
    binary = _build(tmp_path)
    inputs = _case(tmp_path)
    r = subprocess.run([str(binary), "3", "1", "out", "c"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # warm-up (ref, cand), then ABBA, BAAB, ABBA, then the candidate's call whose outputs are written
    assert (tmp_path / "seq.txt").read_text() == "12" + "1221" + "2112" + "1221" + "2"
    blocks = paired.read_blocks(tmp_path / "out" / "c.pairs")
    assert len(blocks) == 3 and all(t > 0 for b in blocks for t in b)
    out = inputs.read_outputs(SIG, tmp_path / "out" / "c.out")
    # every call started from the restored input: y doubled once, and the sum of twice(y)
    y = [2.0 * i for i in range(1000)]
    assert list(out["y"]) == y
    assert float(out["return"][0]) == pytest.approx(sum(2 * v for v in y))
    # later processes of a measurement only time: no last candidate call, no outputs
    (tmp_path / "out" / "c.out").unlink()
    r = subprocess.run([str(binary), "2", "1", "out", "c", "times-only"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "seq.txt").read_text() == "12" + "1221" + "2112"
    assert not (tmp_path / "out" / "c.out").exists() and len(paired.read_blocks(tmp_path / "out" / "c.pairs")) == 2


def _symbol(binary, name):
    out = subprocess.run(["nm", str(binary)], capture_output=True, text=True, check=True).stdout
    return next(int(line.split()[0], 16) for line in out.splitlines() if line.endswith(" " + name))


@needs_tools
def test_the_two_layouts_link_the_copies_in_opposite_order(tmp_path):
    binary = _build(tmp_path)
    first, swapped = (tmp_path / b for b in paired.layouts("paired"))
    assert paired.layouts("paired/paired") == ["paired/paired", "paired/paired" + paired.SWAPPED]
    assert _symbol(first, "__pl_call_ref") < _symbol(first, "__pl_call_cand")
    assert _symbol(swapped, "__pl_call_cand") < _symbol(swapped, "__pl_call_ref")
    _case(tmp_path)
    for b in (first, swapped):
        r = subprocess.run([str(b), "2", "1", "out", "c", "times-only"], cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "seq.txt").read_text() == "12" + "1221" + "2112"


@needs_tools
def test_the_slower_side_shows_as_the_slower_side(tmp_path):
    slow = CAND.replace("for (int i = 0; i < n; i++) {", "for (int k = 0; k < 8; k++) for (int i = 0; i < n; i++) {"
                        ).replace("y[i] = weight(y[i])", "y[i] = weight(y[i]) * (k ? 1.0 : 1.0)")
    binary = _build(tmp_path, cand=slow)
    _case(tmp_path, 20000)
    m = timing.PairedInterval(cap_s=60)
    for _ in range(3):
        r = subprocess.run([str(binary), "5", "1", "out", "c"], cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        m.add(paired.read_blocks(tmp_path / "out" / "c.pairs"))
    point, lo, hi = m.result()
    ref_calls, cand_calls = m.calls()
    assert len(ref_calls) == len(cand_calls) == 30
    # the candidate repeats the loop 8 times: its calls take longer, whatever the load
    assert point < 1.0 and sum(cand_calls) > sum(ref_calls)


SHIFT = """void shift(int n, const double *x, double *y) {
  for (int i = 0; i < n; i++) y[i] = 0.5 * x[i] + 1.0;
}
"""
SHIFT_SIG = Signature("shift", "void", [
    Param("n", "int"), Param("x", "double", ParamKind.POINTER, const=True, extent="n + 1"),
    Param("y", "double", ParamKind.POINTER, role=Role.OUT, extent="n")])


@needs_tools
def test_an_aliased_case_is_read_and_timed_like_any_other(tmp_path):
    """An overlapping call (y passed as x + 1: each element computed from the one
    the previous iteration wrote) read by the test driver's own code
    (harness.input_reads): every call starts from the restored input, and the
    outputs written are the ones the test driver's reference run writes."""
    from paralift.sandbox import harness, inputs
    from paralift.types import ArraySpec, TestCase
    case = TestCase("alias", {"n": 3000}, {"x": ArraySpec(3001, seed=3), "y": ArraySpec(3000)}, tag="alias",
                    aliases={"y": ["x", 1]})
    for d in ("in", "out", "ref"):
        (tmp_path / d).mkdir()
    inputs.write_case(SHIFT_SIG, case, tmp_path / "in" / "alias.in")
    p = paired.plan(SHIFT_SIG, "c", Target.OPENMP, SHIFT, SHIFT, ("-O2",), "gcc", "g++")
    for name, text in p.files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "unit.c").write_text(SHIFT)
    (tmp_path / "driver.c").write_text(harness.driver_source(SHIFT_SIG, "unit.c", None, "c"))
    for cmd in [*p.commands, ["gcc", "-O2", "driver.c", "-o", "driver", "-lm"]]:
        r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, (cmd, r.stderr)
    r = subprocess.run(["./driver", "1", "ref", "alias"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    expected = inputs.read_outputs(SHIFT_SIG, tmp_path / "ref" / "alias.out")["y"]
    for b in paired.layouts("./paired"):
        (tmp_path / "out" / "alias.out").unlink(missing_ok=True)
        r = subprocess.run([b, "4", "1", "out", "alias"], cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert len(paired.read_blocks(tmp_path / "out" / ("alias" + paired.TIMES_EXT))) == 4
        got = inputs.read_outputs(SHIFT_SIG, tmp_path / "out" / "alias.out")["y"]
        # the cascade (y[i] = x[i + 1] is what y[i - 1] became) after 1 + 4 x 4 + 1 calls: the same
        # as one call from the input, so every call was restored, the view included
        assert got.tobytes() == expected.tobytes()
    assert len(set(expected[:50].tolist())) > 10      # the values were not all the same


def test_trimmed_mean_drops_the_ends():
    assert timing.trimmed_mean([1, 2, 3, 4]) == 2.5
    assert timing.trimmed_mean([0.0, 0.0, 0.0, 100.0]) == 0.0          # one interrupted call of four
    assert timing.trimmed_mean([5.0]) == 5.0 and math.isnan(timing.trimmed_mean([]))
    assert timing.trimmed_mean([1, 2, 3]) == 2


def test_block_log_ratios_compare_the_sides_sums():
    assert timing.block_log_ratios([(1.0, 1.0, 0.5, 0.5)]) == [pytest.approx(math.log(2))]
    assert timing.block_log_ratios([(1.0, 3.0, 2.0, 2.0), (0.0, 0.0, 1.0, 1.0)]) == [0.0]


def test_paired_interval_is_a_t_interval_over_processes():
    m = timing.PairedInterval(cap_s=60, min_processes=3)
    assert timing.MIN_PROCESSES >= 3
    for ratio in (1.00, 1.01, 0.99):
        assert not m.enough()
        m.add([(ratio, ratio, 1.0, 1.0)] * 8)
    assert m.estimates() == pytest.approx([1.00, 1.01, 0.99])
    point, lo, hi = m.result()
    logs = [math.log(r) for r in (1.00, 1.01, 0.99)]
    sd = (sum((x - sum(logs) / 3) ** 2 for x in logs) / 2) ** 0.5
    # the standard error and the systematic allowance in quadrature
    assert math.log(hi / point) == pytest.approx(timing.t975(2) * math.sqrt(sd ** 2 / 3 + timing.SYSTEMATIC_SD ** 2))
    assert lo < 1.0 < hi and m.enough()
    bare = timing.PairedInterval(cap_s=60, min_processes=3, systematic=0.0, processes=m.processes)
    assert math.log(bare.result()[2] / point) == pytest.approx(timing.t975(2) * sd / math.sqrt(3))
    # identical processes: the allowance alone, never a zero-width interval
    same = timing.PairedInterval(cap_s=60)
    for _ in range(4):
        same.add([(1.0, 1.0, 1.0, 1.0)] * 8)
    _, lo, hi = same.result()
    assert math.log(hi) == pytest.approx(timing.t975(3) * timing.SYSTEMATIC_SD) and lo < 1.0 < hi
    # the calls within a process do not narrow the interval: one process is one unit
    one = timing.PairedInterval(cap_s=60)
    one.add([(1.0, 1.0, 1.0, 1.0)] * 500)
    assert one.result()[2] == math.inf and not one.enough()


def test_paired_interval_stops_at_the_cap_or_the_most_processes():
    capped = timing.PairedInterval(cap_s=1.0, min_processes=3)
    capped.add([(1.0, 1.0, 1.0, 1.0)], wall_s=0.6)
    assert not capped.enough()
    capped.add([(2.0, 2.0, 1.0, 1.0)], wall_s=0.6)
    assert capped.enough()
    most = timing.PairedInterval(cap_s=60, min_processes=3, max_processes=4)
    for k in range(4):
        assert not most.enough()
        most.add([(1.0 + 0.5 * (k % 2), 1.0, 1.0, 1.0)])
    assert most.enough()


def test_the_measurement_stops_with_as_many_processes_of_each_layout():
    m = timing.PairedInterval(cap_s=60)
    assert timing.MIN_PROCESSES % 2 == 0 and timing.MAX_PROCESSES % 2 == 0
    for k in range(timing.MIN_PROCESSES - 1):
        m.add([(1.0, 1.0, 1.0, 1.0)] * 4)
        assert not m.enough()
    m.add([(1.0, 1.0, 1.0, 1.0)] * 4)
    assert m.enough()                               # narrow, and two of each layout
    wide = timing.PairedInterval(cap_s=60)
    for k in range(timing.MIN_PROCESSES):
        wide.add([(1.0 + 0.3 * (k % 2), 1.0, 1.0, 1.0)])
    assert not wide.enough()
    wide.add([(1.0, 1.0, 1.0, 1.0)])
    assert not wide.enough()                        # an odd count is never looked at
    for _ in range(40):
        wide.add([(1.0, 1.0, 1.0, 1.0)])
        if wide.enough():
            break
    assert len(wide.processes) % 2 == 0


def _simulated_process(rng, true_log, between_sd, within_sd, blocks, outlier_share):
    """One simulated paired process: a per-process offset (where code and data
    landed), per-call noise, and some calls hit by another process."""
    offset = rng.gauss(0.0, between_sd)
    out = []
    for _ in range(blocks):
        calls = []
        for side in (0, 0, 1, 1):
            t = math.exp(rng.gauss(0.0, within_sd) + (true_log + offset if side == 0 else 0.0))
            if rng.random() < outlier_share:
                t += rng.expovariate(1.0) * 3.0            # preempted: only ever slower
            calls.append(t)
        out.append(tuple(calls))
    return out


@pytest.mark.parametrize("between_sd, within_sd, outliers, trues", [
    (0.01, 0.02, 0.0, (1.0, 1.7)), (0.02, 0.1, 0.05, (1.0, 1.7)), (0.04, 0.05, 0.05, (1.0, 0.6)),
    # a machine other processes keep interrupting: the reference against itself stays honest (the
    # noise hits both sides alike); against a different candidate the additive delays are not a
    # ratio, and such a measurement is flagged `contended` instead
    (0.005, 0.3, 0.3, (1.0,))])
def test_interval_coverage_is_honest_on_simulated_measurements(between_sd, within_sd, outliers, trues):
    """A/A and A/B by simulation, with verify's stopping rule (processes
    added until the interval is within +-5 %): the 95 % interval contains the
    true ratio in about 95 % of measurements (the statistic is honest;
    narrowness is the machine's business)."""
    for systematic in (0.0, timing.SYSTEMATIC_SD):
        rng = random.Random(21)
        for true in trues:
            hits, runs = 0, 300
            for _ in range(runs):
                m = timing.PairedInterval(cap_s=1e9, systematic=systematic)
                while not m.enough():
                    m.add(_simulated_process(rng, math.log(true), between_sd, within_sd, 12, outliers))
                _, lo, hi = m.result()
                hits += lo <= true <= hi
            if systematic == 0.0:       # the statistic alone: about 95 %, neither short nor padded
                assert 0.91 <= hits / runs <= 0.99, (true, hits / runs)
            else:                       # with the allowance: about 95 %. The second stage for undecided
                # measurements (timing.undecided) costs about a point in the noisiest case here (600 runs:
                # 95.0 % without it, 94.2 % with it) and is what makes a real 4 % gain written the same
                # way every time (test_a_real_small_gain_is_written_nearly_every_time)
                assert hits / runs >= 0.93, (true, hits / runs)


@pytest.mark.parametrize("bias", [0.004, 0.01])
def test_alternating_layouts_turn_a_placement_bias_into_spread(bias):
    """Where each copy sits can favour one by `bias` in every process of a
    binary, which no number of processes averages out: with one layout the
    intervals centre on the bias and miss 1.0; with the two layouts
    alternating (the bias changes sign from one process to the next) they
    contain 1.0 as an honest interval should."""
    cover = {}
    for alternate in (False, True):
        rng = random.Random(5)
        hits, runs = 0, 300
        for _ in range(runs):
            m = timing.PairedInterval(cap_s=1e9, systematic=0.0)
            while not m.enough():
                sign = -1 if alternate and len(m.processes) % 2 else 1
                m.add(_simulated_process(rng, sign * bias, 0.002, 0.01, 12, 0.0))
            _, lo, hi = m.result()
            hits += lo <= 1.0 <= hi
        cover[alternate] = hits / runs
    assert cover[True] >= 0.93 and cover[False] < 0.8, cover


def test_blocks_and_warmup_scale_with_the_kernel():
    assert timing.blocks_for(0.001, 0.2) == 50          # a millisecond kernel: many short blocks
    assert timing.blocks_for(0.5, 0.2) == 2              # a long call: one ABBA and one BAAB block
    assert all(timing.blocks_for(t) % 2 == 0 for t in (1e-6, 0.0007, 0.003, 0.011, 0.04, 2.0))
    assert paired.warmup_calls(0.001) == paired.MAX_WARMUP and paired.warmup_calls(1.0) == 1


def test_cuda_is_not_paired():
    with pytest.raises(ValueError):
        paired.plan(SIG, "c", Target.CUDA, REF, CAND, ("-O2",), "gcc", "g++")


def test_the_wrapper_calls_through_an_opaque_pointer_and_the_driver_reads_what_it_writes():
    w = paired.wrapper_source(SIG, "pl_ref.c", "ref", False)
    assert "__asm__ volatile" in w and "__pl_call_ref" in w and '#include "pl_ref.c"' in w
    d = paired.driver_source(SIG, False, False)
    assert paired.TIMES_EXT in d and "__pl_call_cand" in d
    mpi = paired.driver_source(SIG, False, True)
    assert "MPI_Ibarrier" in mpi and "nanosleep" in mpi


SAXPY = """void saxpy(int n, float a, const float *x, float *y) {
  for (int i = 0; i < n; i++) y[i] = a * x[i] + y[i];
}
"""
SAXPY_OMP = SAXPY.replace("  for", "  #pragma omp parallel for\n  for")
# right on every test case, wrong from 100000 elements on (only the timing case has that many)
SAXPY_WRONG_LARGE = SAXPY_OMP.replace("y[i] = a * x[i] + y[i];", "y[i] = a * x[i] + (n < 100000 ? y[i] : 0.0f);")


def _quick():
    from paralift.sandbox import VerifyOptions
    return VerifyOptions(timing=True, timing_min_s=0.05, timing_cap_s=3)


def _task(target="openmp"):
    from paralift.agents import build_task
    return build_task(SAXPY, "c", "saxpy", target)


@needs_tools
def test_measure_interleaves_in_one_process_and_reports_the_interval():
    from paralift.sandbox.verify import measure
    from paralift.types import Candidate
    t = measure(_task(), None, options=_quick())                     # the reference against itself
    u = t.profiles["uniform"]
    assert u["method"] == "paired" and u["runs"] == len(u["process_speedups"]) >= 2
    assert t.ci_low <= t.speedup <= (t.ci_high or math.inf) and t.calls >= 2
    assert "contended" in t.load and t.runs == u["runs"]
    c = measure(_task(), Candidate(SAXPY_OMP, Target.OPENMP), options=_quick())
    assert c.profiles["uniform"]["method"] == "paired" and c.workers >= 1


@needs_tools
def test_a_candidate_wrong_at_the_timing_size_is_caught_by_the_paired_run():
    from paralift.sandbox.verify import measure
    from paralift.types import Candidate
    with pytest.raises(RuntimeError, match="wrong result at the timing size"):
        measure(_task(), Candidate(SAXPY_WRONG_LARGE, Target.OPENMP), options=_quick())


@needs_tools
def test_without_a_paired_build_separate_processes_are_timed(monkeypatch):
    from paralift.sandbox.verify import measure
    from paralift.types import Candidate
    monkeypatch.setattr(paired, "objcopy_path", lambda: None)
    t = measure(_task(), Candidate(SAXPY_OMP, Target.OPENMP), options=_quick())
    u = t.profiles["uniform"]
    assert u["method"] == "processes" and "objcopy" in u["paired_note"]
    assert t.ci_low is not None


@needs_tools
def test_mpi_candidates_are_paired_too():
    from paralift.sandbox.toolchains import detect
    from paralift.sandbox.verify import measure
    from paralift.types import Candidate
    if not (detect().mpicc.found and detect().mpirun.found):
        pytest.skip("MPI is not installed")
    mpi = """#include <mpi.h>
void saxpy(int n, float a, const float *x, float *y) {
  int rank, size; MPI_Comm_rank(MPI_COMM_WORLD, &rank); MPI_Comm_size(MPI_COMM_WORLD, &size);
  int lo = (int)((long long)n * rank / size), hi = (int)((long long)n * (rank + 1) / size);
  for (int i = lo; i < hi; i++) y[i] = a * x[i] + y[i];
  int *counts = 0, *displs = 0;
  if (rank == 0) { counts = (int *)malloc(size * sizeof(int)); displs = (int *)malloc(size * sizeof(int));
    for (int r = 0; r < size; r++) { displs[r] = (int)((long long)n * r / size);
      counts[r] = (int)((long long)n * (r + 1) / size) - displs[r]; } }
  MPI_Gatherv(rank == 0 ? MPI_IN_PLACE : y + lo, hi - lo, MPI_FLOAT, y, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
  free(counts); free(displs);
}
"""
    t = measure(_task("mpi"), Candidate("#include <stdlib.h>\n" + mpi, Target.MPI), options=_quick())
    assert t.profiles["uniform"]["method"] == "paired" and t.ci_low is not None


def test_an_undecided_gain_is_taken_to_a_fixed_larger_size():
    """Within +-5 % but reaching 1 with the point 3 % up: whether the candidate is written would be a coin
    toss, so the measurement goes on to DECIDE_PROCESSES processes, once, and stops there whatever its
    interval says then (no look in between: looking until it leaves 1 would be optional stopping). A point
    near 1 (A/A) stops as before."""
    def proc(r):                                    # one process: blocks of reference / candidate times
        return [(r, r, 1.0, 1.0)] * 4
    m = timing.PairedInterval(cap_s=60)
    for r in (1.00, 1.06, 1.01, 1.05):              # point ~1.03, interval about [0.98, 1.08]
        m.add(proc(r))
    point, lo, hi = m.result()
    assert timing.within(lo, hi, point) and lo < 1.0 < hi and point > 1.02
    assert timing.undecided(lo, hi, point) and not m.enough()
    while len(m.processes) < timing.DECIDE_PROCESSES:
        assert not m.enough()
        m.add(proc(1.03))
    assert m.enough()
    point, lo, hi = m.result()
    assert lo > 1.0                                 # the same 3 % gain, now decided
    aa = timing.PairedInterval(cap_s=60)
    for r in (0.99, 1.01, 1.00, 1.01):
        aa.add(proc(r))
    assert aa.enough()
    off = timing.PairedInterval(cap_s=60, decide=False)
    for r in (1.00, 1.06, 1.01, 1.05):
        off.add(proc(r))
    assert off.enough()


def test_a_real_small_gain_is_written_nearly_every_time():
    """A candidate truly 4 % faster, moderate noise: "faster with confidence" (interval above 1) was a coin
    toss with one stage (about 64 % of measurements); with undecided ones taken to DECIDE_PROCESSES it is
    nearly always so, and an A/A measurement still rarely claims a gain."""
    def rate(true, decide, runs=200):
        rng = random.Random(5)
        wins = 0
        for _ in range(runs):
            m = timing.PairedInterval(cap_s=1e9, decide=decide)
            while not m.enough():
                m.add(_simulated_process(rng, math.log(true), 0.02, 0.03, 12, 0.02))
            wins += m.result()[1] > 1.0
        return wins / runs
    one, two = rate(1.04, False), rate(1.04, True)
    assert one < 0.8 and two > 0.93, (one, two)
    assert rate(1.0, True) < 0.06
