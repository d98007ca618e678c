"""Where a CUDA candidate's time goes (issue 24): bytes host->device and device->host per call,
kernel time (CUDA events around every launch) and end-to-end time, from one profiled run of the
candidate; and the transfer rule, which withholds a plan whose copies alone take longer than the
sequential code.

The same code path serves a GPU and the CPU emulation. `instrument(cu)` returns a copy of the
candidate (never the written file, and never what the policy checks) with a hook prepended:
every `cudaMemcpy`/`cudaMemcpyAsync` goes through a wrapper that counts bytes per direction,
every `kernel<<<...>>>(...);` is bracketed by two `cudaEventRecord`s, and at exit the hook
writes one JSON object to the file named by PROFILE_ENV (`read_profile` parses it). The
sandbox builds that copy next to the candidate (sandbox.verify `_build_cuda`: nvcc on a GPU,
the emulation's g++ build otherwise) and runs it on one case with `reps` calls; `summarize`
turns the totals into per-call figures. On the emulation the hook also reports the emulator's
own transfer log (paralift_cuda::transfer_bytes, which sees every copy path), and that is the
figure used there; its event times are the emulator's wall clock and are never reported as
kernel time.
"""
from __future__ import annotations

import json
import os
import re
import statistics
from pathlib import Path

PROFILE_ENV = "PARALIFT_CUDA_PROFILE"      # path of the JSON the hook writes at exit
BUS_ENV = "PARALIFT_CUDA_BUS_GBPS"         # overrides BUS_BYTES_PER_S (GB/s)

# ---------------------------------------------------------------------------------------------
# The transfer rule. The written CUDA function is called like the sequential one, with the
# caller's host arrays (DESIGN.md §3), so every call copies its inputs to the device and its
# outputs back. Those arrays are ordinary pageable memory: the driver stages each copy through
# pinned buffers, one host thread memcpy-ing into them while the DMA engine drains them, so a
# copy runs at about one core's memcpy rate, well under the link's (PCIe Gen5 x16: 64 GB/s per
# direction, ~55 GB/s pinned in practice). On the H200 machine of issue 24 (PCIe, x86 host),
# end to end over one core: saxpy 0.61x, dot 0.54x, gemv 0.74x with the kernels well under 1 %
# of the call: the copies alone took 1.4-1.9x the sequential call, which for those streaming
# loops (1.5 GB / 1 GB / 0.5 GB moved) means 4-7 GB/s effective; max_abs's 1.77x (0.5 GB moved,
# a latency-bound loop on the CPU) implies at least ~8 GB/s. BUS_BYTES_PER_S = 8 GB/s sits at
# the top of the streaming kernels' range, so a plan is withheld only when its copies at that
# rate take at least as long as the whole sequential call: then no kernel, however fast, makes
# it faster end to end. Compute-bound kernels are far from it: at the test sizes matmul moves
# 3n^2 elements for 2n^3 flops, n-body 7n for ~20n^2, mandelbrot 1 int per pixel for up to
# max_iter iterations, and their sequential time is 10-1000x the copies'.
# On another machine (NVLink-C2C on a GH200: ~450 GB/s per direction) set PARALIFT_CUDA_BUS_GBPS;
# benchmarks/bench_cuda_gpu.py measures the pageable rate of the GPU it runs on ("bus" line).
# The rule decides only where the speed cannot be measured (CPU emulation): on a GPU the measured
# end-to-end speedup decides, and the figures are reported.
BUS_BYTES_PER_S = 8e9


def bus_bytes_per_s() -> float:
    v = os.environ.get(BUS_ENV, "").strip()
    try:
        return float(v) * 1e9 if v and float(v) > 0 else BUS_BYTES_PER_S
    except ValueError:
        return BUS_BYTES_PER_S


def transfer_rule(h2d_bytes: float, d2h_bytes: float, sequential_s: float | None,
                  bandwidth: float | None = None) -> tuple[float, str]:
    """(bus seconds, reason): the copies' time at `bandwidth` (bytes/s, default bus_bytes_per_s())
    and, when it is at least the sequential call's time, why the plan is withheld ('' otherwise)."""
    bw = bandwidth or bus_bytes_per_s()
    bus = (h2d_bytes + d2h_bytes) / bw
    if sequential_s is None or sequential_s <= 0 or bus < sequential_s:
        return bus, ""
    return bus, (f"transfers outweigh the work: each call copies {_mb(h2d_bytes)} host->device and "
                 f"{_mb(d2h_bytes)} device->host, {bus * 1e3:.3g} ms at {bw / 1e9:g} GB/s (pageable host "
                 f"memory), at least the sequential code's {sequential_s * 1e3:.3g} ms for the whole call, so "
                 f"no kernel can make it faster end to end")


def _mb(b: float) -> str:
    return f"{b / 1e6:.3g} MB" if b >= 1e5 else f"{b / 1e3:.3g} kB" if b >= 100 else f"{b:.0f} B"


# ---------------------------------------------------------------------------------------------
HOOK = r"""/* paralift profiling hook (sandbox/cuda_profile.py): added to a copy of the candidate that the
   sandbox runs once to count bytes per direction and time the launches; never written out. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <vector>
#include <utility>
namespace __pl_prof {
struct State {
    unsigned long long bytes[2] = {0, 0}, copies[2] = {0, 0};
    std::vector<std::pair<cudaEvent_t, cudaEvent_t> > pending;
    std::vector<float> launch_ms;
    std::vector<cudaEvent_t> pool;
    cudaEvent_t cur = nullptr;
    bool registered = false;
};
/* one state for the whole program (inline: translation units share it), never destroyed: the exit
   handler below may run after static destructors */
inline State &st() { static State *s = new State; return *s; }
inline void flush() {
    State &s = st();
    for (auto &p : s.pending) {
        float ms = -1.0f;
        if (cudaEventSynchronize(p.second) != cudaSuccess || cudaEventElapsedTime(&ms, p.first, p.second) != cudaSuccess)
            ms = -1.0f;
        s.launch_ms.push_back(ms);
        s.pool.push_back(p.first);
        s.pool.push_back(p.second);
    }
    s.pending.clear();
}
inline void write_out(void) {
    const char *path = getenv("PARALIFT_CUDA_PROFILE");
    if (!path || !*path) return;
    flush();
    FILE *f = fopen(path, "w");
    if (!f) return;
    State &s = st();
    fprintf(f, "{\"h2d_bytes\": %llu, \"d2h_bytes\": %llu, \"h2d_copies\": %llu, \"d2h_copies\": %llu",
            s.bytes[0], s.bytes[1], s.copies[0], s.copies[1]);
#ifdef PARALIFT_CUDA_CPU
    fprintf(f, ", \"emulated\": true, \"emulator_h2d_bytes\": %llu, \"emulator_d2h_bytes\": %llu",
            (unsigned long long)::paralift_cuda::transfer_bytes()[0].load(),
            (unsigned long long)::paralift_cuda::transfer_bytes()[1].load());
#else
    fprintf(f, ", \"emulated\": false");
#endif
    fprintf(f, ", \"launch_ms\": [");
    for (size_t i = 0; i < s.launch_ms.size(); i++) fprintf(f, "%s%.6g", i ? ", " : "", (double)s.launch_ms[i]);
    fprintf(f, "]}\n");
    fclose(f);
}
/* registered after the driver created the CUDA context: exit handlers run in reverse order, so this one
   runs before the runtime's own teardown */
inline void ensure() {
    State &s = st();
    if (!s.registered) { s.registered = true; atexit(write_out); }
}
inline cudaEvent_t event() {
    State &s = st();
    if (!s.pool.empty()) { cudaEvent_t e = s.pool.back(); s.pool.pop_back(); return e; }
    cudaEvent_t e = nullptr;
    if (cudaEventCreate(&e) != cudaSuccess) e = nullptr;
    return e;
}
inline void begin() {
    ensure();
    State &s = st();
    s.cur = event();
    if (s.cur) cudaEventRecord(s.cur);
}
inline void end() {
    State &s = st();
    cudaEvent_t e = event();
    if (!s.cur || !e) { s.launch_ms.push_back(-1.0f); return; }
    cudaEventRecord(e);
    s.pending.push_back(std::make_pair(s.cur, e));
    s.cur = nullptr;
    if (s.pending.size() >= 256) flush();   /* bounded: events are reused */
}
inline bool on_device(const void *p) {
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) { (void)cudaGetLastError(); return false; }
    return a.type == cudaMemoryTypeDevice;
}
/* 0: host to device, 1: device to host, -1: neither */
inline int direction(void *d, const void *s, cudaMemcpyKind k) {
    if (k == cudaMemcpyHostToDevice) return 0;
    if (k == cudaMemcpyDeviceToHost) return 1;
    if (k != cudaMemcpyDefault) return -1;
    const bool dd = on_device(d), sd = on_device(s);
    return dd && !sd ? 0 : sd && !dd ? 1 : -1;
}
inline void count(int dir, size_t n) {
    if (dir < 0 || n == 0) return;
    st().bytes[dir] += n;
    st().copies[dir] += 1;
}
}  /* namespace __pl_prof */
static inline cudaError_t __pl_prof_memcpy(void *d, const void *s, size_t n, cudaMemcpyKind k) {
    __pl_prof::ensure();
    const int dir = __pl_prof::direction(d, s, k);
    const cudaError_t e = cudaMemcpy(d, s, n, k);
    if (e == cudaSuccess) __pl_prof::count(dir, n);
    return e;
}
static inline cudaError_t __pl_prof_memcpy_async(void *d, const void *s, size_t n, cudaMemcpyKind k,
                                                 cudaStream_t st = 0) {
    __pl_prof::ensure();
    const int dir = __pl_prof::direction(d, s, k);
    const cudaError_t e = cudaMemcpyAsync(d, s, n, k, st);
    if (e == cudaSuccess) __pl_prof::count(dir, n);
    return e;
}
#line 1
"""

_NAME_BEFORE = re.compile(r"([A-Za-z_][\w:]*(?:\s*<[^<>;(){}]*>)?)\s*$")


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\r\n":
        i += 1
    return i


def _wrap_launches(cu: str) -> tuple[str, int, int]:
    """(text, launches wrapped, launches left as they were): each `name<<<cfg>>>(args);` becomes
    `{ __pl_prof::begin(); name<<<cfg>>>(args); __pl_prof::end(); }` (a block, so an unbraced
    `if` body stays one statement)."""
    out, pos, wrapped, left = [], 0, 0, 0
    for m in re.finditer(r"<<<", cu):
        if m.start() < pos:
            continue
        before = _NAME_BEFORE.search(cu, pos, m.start())
        close = cu.find(">>>", m.end())
        start = before.start(1) if before else -1
        if start < 0 or close < 0:
            left += 1
            continue
        i = _skip_ws(cu, close + 3)
        if i >= len(cu) or cu[i] != "(":
            left += 1
            continue
        depth = 0
        while i < len(cu):
            depth += {"(": 1, ")": -1}.get(cu[i], 0)
            i += 1
            if depth == 0:
                break
        j = _skip_ws(cu, i)
        line_start = cu.rfind("\n", 0, start) + 1
        if depth != 0 or j >= len(cu) or cu[j] != ";" or cu[line_start:start].lstrip().startswith("#"):
            left += 1
            continue
        out += [cu[pos:start], "{ __pl_prof::begin(); ", cu[start:j + 1], " __pl_prof::end(); }"]
        pos = j + 1
        wrapped += 1
    out.append(cu[pos:])
    return "".join(out), wrapped, left


def instrument(cu: str) -> str:
    """The candidate with the profiling hook: copies counted, launches timed (see the module doc)."""
    body = re.sub(r"\bcudaMemcpyAsync\s*\(", "__pl_prof_memcpy_async(", cu)
    body = re.sub(r"\bcudaMemcpy\s*\(", "__pl_prof_memcpy(", body)
    body, _, _ = _wrap_launches(body)
    return HOOK + body


def unwrapped_launches(cu: str) -> int:
    """Launches `instrument` could not bracket with events (their time is missing from kernel_s)."""
    return _wrap_launches(cu)[2]


def read_profile(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def summarize(raw: dict, calls: int, emulated: bool) -> dict:
    """Per-call figures from a profiled process that made `calls` identical calls (the first a
    warm-up): bytes and copies per call (exact: every call moves the same), launches per call, and
    kernel seconds per call (the median over the calls after the first, when the launches divide
    evenly among the calls; else the mean of all). On the emulation the bytes are the emulator's
    transfer log and the kernel time is withheld (it is the emulator's wall clock, not a GPU's)."""
    calls = max(1, calls)
    h2d = raw.get("emulator_h2d_bytes", raw["h2d_bytes"]) if emulated else raw["h2d_bytes"]
    d2h = raw.get("emulator_d2h_bytes", raw["d2h_bytes"]) if emulated else raw["d2h_bytes"]
    ms = list(raw.get("launch_ms", []))
    out = {"h2d_bytes": h2d / calls, "d2h_bytes": d2h / calls,
           "h2d_copies": raw["h2d_copies"] / calls, "d2h_copies": raw["d2h_copies"] / calls,
           "launches": len(ms) / calls, "bytes_source": "emulator transfer log" if emulated else "cudaMemcpy wrappers"}
    for k in ("h2d_bytes", "d2h_bytes", "h2d_copies", "d2h_copies", "launches"):
        if float(out[k]).is_integer():
            out[k] = int(out[k])
    kernel = None
    if ms and all(x >= 0 for x in ms):
        if len(ms) % calls == 0 and calls > 1:
            per = len(ms) // calls
            kernel = statistics.median(sum(ms[c * per:(c + 1) * per]) for c in range(1, calls)) / 1e3
        else:
            kernel = sum(ms) / calls / 1e3
    elif not ms:
        kernel = 0.0
    out["kernel_s"] = None if emulated else kernel
    out["emulated_kernel_s"] = kernel if emulated else None
    return out


# ---------------------------------------------------------------------------------------------
# the sandbox's profiling step (sandbox.verify calls `profile` for a CUDA candidate that passed)
PROFILE_BINARY = "./cand_prof"
PROFILE_OUT = "out/cuda_profile.json"
# the case profiled on the emulation: the largest whose sequential call takes at most this (the
# emulation runs ~30x slower); on a GPU, the timing case
EMULATED_CASE_MAX_S = 0.02
EMULATED_REPS = 2          # timed calls after the warm-up (3 calls in all)
GPU_REPS = 3
SEQ_MEASURE_S = 0.05       # the sequential code re-timed on the profiled case for about this long
SEQ_MAX_REPS = 2000


def instrumented_sources(code: str, driver: str, emulated: bool) -> dict[str, str]:
    """The files of the profiling build, by name: the instrumented candidate and a driver that
    includes it instead of cand.cu (or their CPU-emulation rewrites)."""
    from . import cuda_cpu
    inst = instrument(code)
    if emulated:
        try:
            cpu = cuda_cpu.rewrite(inst)
        except cuda_cpu.RewriteError:
            return {}          # the profiling build then fails, and the verdict's note says so
        return {"cand.prof.cpu.cpp": cpu,
                "driver_prof_cpu.cpp": driver.replace('#include "cand.cu"', '#include "cand.prof.cpu.cpp"')}
    return {"cand.prof.cu": inst, "driver_prof.cu": driver.replace('#include "cand.cu"', '#include "cand.prof.cu"')}


def choose_case(ref, v, emulated: bool) -> str | None:
    """The case to profile: the timing case where the speed was measured (a GPU), else the largest
    case (by the sequential code's time) the emulation runs quickly; never an overlapping call
    (it runs the sequential fallback)."""
    t = v.timing
    if not emulated and t is not None and t.size.get("case") in ref.cases:
        return t.size["case"]
    ok = [c for c in ref.cases if c in ref.seconds and not c.startswith("alias-")
          and not getattr(ref.specs.get(c), "aliases", None)]
    if emulated:
        ok = [c for c in ok if ref.seconds[c] <= EMULATED_CASE_MAX_S]
    return max(ok, key=lambda c: (ref.seconds[c], c)) if ok else None


def _median_times(path: Path) -> float | None:
    try:
        vals = [float(x) for x in path.read_text().split()]
    except (OSError, ValueError):
        return None
    return statistics.median(vals) if vals else None


def _sequential_seconds(ref, case: str, opts) -> float | None:
    """The sequential code's median call on `case`, timed for about SEQ_MEASURE_S (the suite's own
    figure is one cold call)."""
    import dataclasses
    import math

    from . import locks
    V = _verify_module()
    one = ref.seconds.get(case) or 0.0
    reps = int(min(SEQ_MAX_REPS, max(3, math.ceil(SEQ_MEASURE_S / max(one, 1e-7)))))
    d = V._mkdtemp("paralift-cudaprof-")
    try:
        limits = dataclasses.replace(opts.run_limits, wall_s=min(opts.run_limits.wall_s, 10 + 4 * reps * one))
        # alone on the machine, as the timing stage measures (shared when timing is off: tests)
        with (locks.exclusive() if opts.timing else locks.shared()):
            r = V._run_driver("refbin/ref", d, [case], ref.binds, limits, reps=reps)
        return _median_times(d / "out" / f"{case}.times") if r.ok else None
    finally:
        V._rmtree(d)


def profile(task, ref, build, work: Path, v, opts) -> None:
    """Fill `v.cuda` (paralift.types.CudaCosts) for a CUDA candidate that passed its tests, from one
    run of its profiling build (build.deferred[PROFILE_BINARY]) on one case; apply the transfer
    rule where the speed was not measured. Never fails the verdict: what cannot be measured is
    said in `note`."""
    from paralift.types import CudaCosts

    from . import cuda_cpu, isolation, locks
    V = _verify_module()
    emulated = build.executor == "cpu-emulated"
    c = v.cuda = CudaCosts(bus_bytes_per_s=bus_bytes_per_s())
    not_gpu = "not measured: CPU emulation (its clock is the emulator's, not a GPU's)"
    if emulated:
        c.kernel_time = c.end_to_end_time = not_gpu
    cmd = build.deferred.pop(PROFILE_BINARY, None)
    case = choose_case(ref, v, emulated)
    if cmd is None or case is None:
        c.note = "no profiling build" if cmd is None else "no case to profile"
        return
    with locks.shared():
        rb = isolation.run(cmd, work, opts.build_limits)
    if not rb.ok:
        c.note = f"the profiling build failed: {V._first_error(rb.stderr + rb.stdout)}"
        return
    reps = EMULATED_REPS if emulated else GPU_REPS
    env = {PROFILE_ENV: PROFILE_OUT}
    if emulated:
        env[cuda_cpu.ORDER_ENV] = "forward"
    try:
        (work / PROFILE_OUT).unlink()
    except FileNotFoundError:
        pass
    r = V._run_limited(PROFILE_BINARY, work, [case], ref, opts, "cpu-emulated profile" if emulated else "gpu profile",
                       env=env, reps=reps)
    raw = read_profile(work / PROFILE_OUT)
    if not r.ok or raw is None:
        c.note = f"the profiling run failed: {r.describe() if not r.ok else 'no profile written'}"
        return
    calls = reps + 1 if reps > 1 else 1
    s = summarize(raw, calls, emulated)
    c.case, c.calls = case, calls
    c.h2d_bytes, c.d2h_bytes, c.h2d_copies, c.d2h_copies = s["h2d_bytes"], s["d2h_bytes"], s["h2d_copies"], s["d2h_copies"]
    c.bytes_source, c.launches = s["bytes_source"], s["launches"]
    missed = unwrapped_launches(build_code(work))
    if not emulated:
        c.kernel_s = s["kernel_s"]
        c.kernel_time = "CUDA events around each launch, median over the calls after a warm-up" + (
            f" ({missed} launch(es) the profiler could not bracket are missing)" if missed else "")
        t = v.timing
        if t is not None and t.size.get("case") == case:
            c.end_to_end_s, c.sequential_s = t.candidate_s, t.sequential_s
            c.end_to_end_time = "the timing's median call (the build as written, without the profiler)"
        else:
            c.end_to_end_s = _median_times(work / "out" / f"{case}.times")
            c.end_to_end_time = "median call of the profiled run (events and counters included)"
    if c.sequential_s is None:
        c.sequential_s = _sequential_seconds(ref, case, opts)
    bus, why = transfer_rule(c.h2d_bytes, c.d2h_bytes, c.sequential_s, c.bus_bytes_per_s)
    c.bus_s = bus
    if why and v.speedup is None:
        c.withheld = why
    elif why:
        c.note = f"the transfer rule would withhold it ({why}); the measured speedup decides"


def _verify_module():
    """paralift.sandbox.verify (the package's `verify` attribute is the function of that name)."""
    import importlib
    return importlib.import_module(f"{__package__}.verify")


def build_code(work: Path) -> str:
    try:
        return (work / "cand.cu").read_text()
    except OSError:
        return ""
