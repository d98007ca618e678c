"""The tester agent: deterministic suites, validity under the sanitizers,
non-vacuity, coverage, and the LLM case format's parser."""
import json
from pathlib import Path

import numpy as np
import pytest

from paralift.agents import tester
from paralift.agents.tester import (VacuousSuite, build_prompt, build_suite, generate_tests, merge_cases,
                                    parse_cases, propose_cases, propose_cases_report)
from paralift.sandbox import inputs
from paralift.types import Param, ParamKind, Role, Signature, Task, ValueKind, ValueSpec, suite_from_json, to_jsonable
from paralift.types import TestSuite as Suite

Options = tester.TesterOptions

ROOT = Path(__file__).resolve().parent.parent
P = ParamKind.POINTER


def sig_1d(name="f", ret="double"):
    return Signature(name, ret, [
        Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("x", "double", P, True, Role.IN, "n"),
    ])


def sig_hist():
    return Signature("histogram", "void", [
        Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("nbins", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("bin", "int", P, True, Role.IN, "n", ValueSpec(ValueKind.INDEX, "nbins")),
        Param("hist", "int", P, False, Role.INOUT, "nbins"),
    ])


def sig_csr():
    return Signature("spmv", "void", [
        Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("nnz", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("rowptr", "int", P, True, Role.IN, "n+1", ValueSpec(ValueKind.OFFSETS, "nnz")),
        Param("col", "int", P, True, Role.IN, "nnz", ValueSpec(ValueKind.INDEX, "n")),
        Param("val", "double", P, True, Role.IN, "nnz"),
        Param("x", "double", P, True, Role.IN, "n"),
        Param("y", "double", P, False, Role.OUT, "n"),
    ])


def sig_clamp():
    return Signature("clamp", "void", [
        Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("lo", "float"), Param("hi", "float"),
        Param("x", "float", P, False, Role.INOUT, "n"),
    ])


def values_of(sig, case):
    return dict(zip([p.name for p in sig.params], inputs.materialize(sig, case)))


def kernel_task(name):
    from paralift.agents import build_task
    man = {k["name"]: k for k in json.loads((ROOT / "data/kernels/manifest.json").read_text())}
    k = man[name]
    return build_task((ROOT / "data/kernels" / k["file"]).read_text(), k["language"], k["function"])


# ------------------------------------------------------------------ the deterministic suite

def test_sizes_cover_edges_primes_remainders_and_a_large_case():
    suite = generate_tests(sig_1d())
    ns = [c.scalars["n"] for c in suite.cases]
    assert {0, 1, 2, 3} <= set(ns)
    odd = [n for n in ns if n > 3 and n % 2 and n % 3]
    assert len(odd) >= 8                                      # not divisible by 2 or 3 threads/ranks
    assert any(n > 256 and n % 256 for n in ns)               # a partial CUDA block
    assert max(ns) >= inputs.LARGE_ELEMENTS                   # large: multi-block grids, races
    assert {c.tag for c in suite.cases} >= {"edge", "random", "large"}
    assert len({c.name for c in suite.cases}) == len(suite.cases)


def test_value_profiles_put_the_deciding_element_where_it_matters():
    sig = sig_1d()
    cases = {c.name: c for c in generate_tests(sig).cases}
    x = values_of(sig, cases["needle-hi-last-31"])["x"]
    assert x.argmax() == 30 and (x[:-1] < 0).all()            # dropping the last element changes max/any/find
    x = values_of(sig, cases["needle-lo-first-127"])["x"]
    assert x.argmin() == 0 and (x[1:] > 0).all()              # all_positive decided by the first element
    x = values_of(sig, cases["spike-second-19"])["x"]
    assert x[1] == 1000.0 and np.abs(np.delete(x, 1)).max() <= 1
    x = values_of(sig, cases["negative-11"])["x"]
    assert (x < 0).all()                                      # a max started at 0 is wrong
    x = values_of(sig, cases["ramp-down-17"])["x"]
    assert (np.diff(x) < 0).all()
    race = [c for c in cases.values() if c.name.startswith("race-max")]
    assert race
    x = values_of(sig, race[0])["x"]
    k = int(x.argmax())
    assert x[k] == 1000.0 and (np.diff(np.delete(x, k)) > 0).all()


def test_constraints_from_the_analysis_hold_in_every_case():
    for sig in (sig_hist(), sig_csr()):
        for case in generate_tests(sig, seed=5).cases:
            v = values_of(sig, case)
            if sig.name == "histogram":
                b = v["bin"]
                assert b.size == 0 or (b.min() >= 0 and b.max() < v["nbins"][0])
            else:
                n, nnz = int(v["n"][0]), int(v["nnz"][0])
                rp = v["rowptr"]
                assert rp[0] == 0 and rp[-1] == nnz and (np.diff(rp) >= 0).all()
                assert v["col"].size == 0 or (v["col"].min() >= 0 and v["col"].max() < n)


def test_shapes_and_contention_for_multi_dimensional_and_indexed_kernels():
    suite = generate_tests(sig_hist())
    names = {c.name for c in suite.cases}
    assert {"shape-n1", "shape-nbins1", "shape-n23", "shape-nbins23", "shape-n0"} <= names
    cont = [c for c in suite.cases if c.name.startswith("contention")]
    assert cont and cont[0].scalars["nbins"] == tester.CONTENTION_BOUND and cont[0].scalars["n"] > 100000
    for c in suite.cases:
        if c.scalars["n"] > 3 and c.scalars["nbins"] > 3 and not c.name.startswith("shape"):
            assert c.scalars["n"] != c.scalars["nbins"]       # transposed extents show


def test_free_scalars_keep_declaration_order_so_lo_le_hi():
    for c in generate_tests(sig_clamp()).cases:
        assert c.scalars["lo"] <= c.scalars["hi"]


def test_suite_is_deterministic_and_replays_from_json():
    a, b = generate_tests(sig_csr(), seed=3), generate_tests(sig_csr(), seed=3)
    assert to_jsonable(a) == to_jsonable(b)
    again = suite_from_json(json.loads(json.dumps(to_jsonable(a))))
    for c1, c2 in zip(a.cases, again.cases):
        for x, y in zip(inputs.materialize(sig_csr(), c1), inputs.materialize(sig_csr(), c2)):
            assert np.array_equal(x, y)
    assert to_jsonable(generate_tests(sig_csr(), seed=4)) != to_jsonable(a)


def test_structure_check_rejects_suites_that_exercise_nothing():
    sig = sig_1d()
    empty = Suite("f", [c for c in generate_tests(sig).cases if c.scalars["n"] <= 1])
    with pytest.raises(VacuousSuite):
        tester.check_structure(sig, empty)
    tester.check_structure(sig, generate_tests(sig))


# ------------------------------------------------------------------ LLM case format

GOOD = """Here are some cases that should break a careless translation:

```json
{"cases": [
  {"name": "odd size all negative", "why": "max initialised to 0", "sizes": {"n": 13},
   "arrays": {"x": {"dist": "uniform", "lo": -5, "hi": -1}}},
  {"name": "explicit", "arrays": {"x": {"values": [3, 1, 4, 1, 5, 9, 2]}}},
  {"name": "last decides", "sizes": {"n": 257}, "arrays": {"x": {"dist": "ramp", "lo": 0, "hi": 1, "set": [[-1, 50]]}}}
]}
```
"""


def test_parser_reads_a_well_formed_reply():
    task = Task("", "c", sig_1d())
    res = parse_cases(task, GOOD)
    assert not res.errors and len(res.cases) == 3
    a, b, c = res.cases
    assert a.name.startswith("llm-") and a.tag == "llm" and a.scalars["n"] == 13
    assert (values_of(task.signature, a)["x"] < -1 + 1e-9).all()
    assert b.scalars["n"] == 7 and list(values_of(task.signature, b)["x"]) == [3, 1, 4, 1, 5, 9, 2]
    x = values_of(task.signature, c)["x"]
    assert x.size == 257 and x[-1] == 50 and x[0] == 0


@pytest.mark.parametrize("text", [
    # trailing commas, // comments, no fence, prose around
    'Sure! {"cases": [{"name": "a", "sizes": {"n": 5,}, // five\n "arrays": {"x": {"dist": "uniform", "lo": 0, "hi": 1},},},]} Hope it helps.',
    # Python-style literal with single quotes
    "{'cases': [{'name': 'a', 'sizes': {'n': 5}, 'arrays': {'x': {'dist': 'random', 'lo': 0, 'hi': 1}}}]}",
    # a bare list, sizes under "scalars" (the other prompt's format), string numbers
    '[{"name": "a", "scalars": {"n": "5"}, "arrays": {"x": {"dist": "uniform", "lo": "0", "hi": 1}}}]',
    # a single case object, parameter name in another case
    '```\n{"name": "a", "sizes": {"N": 5}, "arrays": {"X": {"lo": 0, "hi": 1}}}\n```',
])
def test_parser_is_lenient_about_wrapping(text):
    res = parse_cases(Task("", "c", sig_1d()), text)
    assert not res.errors, res.errors
    assert len(res.cases) == 1 and res.cases[0].scalars["n"] == 5 and res.cases[0].arrays["x"].count == 5


def test_parser_is_strict_about_meaning():
    task = Task("", "c", sig_hist())
    text = json.dumps({"cases": [
        {"name": "ok", "sizes": {"n": 6, "nbins": 3}, "arrays": {"bin": {"values": [0, 1, 2, 2, 1, 0]}}},
        {"name": "out of range", "sizes": {"n": 3, "nbins": 2}, "arrays": {"bin": {"values": [0, 1, 2]}}},
        {"name": "wrong length", "sizes": {"n": 4, "nbins": 2}, "arrays": {"bin": {"values": [0, 1]}}},
        {"name": "unknown", "sizes": {"n": 4, "bogus": 1}},
        {"name": "negative", "sizes": {"n": -1, "nbins": 2}},
        {"name": "huge", "sizes": {"n": 10 ** 9, "nbins": 2}},
        {"name": "fraction", "sizes": {"n": 2.5, "nbins": 2}},
        {"name": "float in int", "sizes": {"n": 2, "nbins": 2}, "arrays": {"hist": {"values": [0.5, 1]}}},
        {"name": "bad dist", "sizes": {"n": 2, "nbins": 2}, "arrays": {"hist": {"dist": "gaussian"}}},
        {"name": "uniform index", "sizes": {"n": 50, "nbins": 4}, "arrays": {"bin": {"dist": "uniform", "lo": -9, "hi": 99}}},
        "not an object",
    ]})
    res = parse_cases(task, text)
    names = [c.name for c in res.cases]
    assert names == ["llm-ok", "llm-uniform-index"]
    assert len(res.errors) == 9
    assert any("not an index" in e for e in res.errors) and any("extent" in e for e in res.errors)
    # an index array is always generated in range, whatever distribution the model asked for
    b = values_of(task.signature, res.cases[1])["bin"]
    assert b.min() >= 0 and b.max() < 4


def test_parser_rejects_garbage_without_raising():
    task = Task("", "c", sig_1d())
    for text in ["", "I cannot help with that.", "{", '{"cases": 3}', "[1, 2", "```json\n{]\n```", "\x00" * 10]:
        res = parse_cases(task, text)
        assert res.cases == [] and res.errors


def test_csr_and_nonzero_constraints():
    sig = Signature("g", "double", [
        Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
        Param("d", "double", P, True, Role.IN, "n", ValueSpec(ValueKind.NONZERO)),
    ])
    res = parse_cases(Task("", "c", sig), json.dumps({"cases": [
        {"name": "zero", "arrays": {"d": {"values": [1, 0, 2]}}},
        {"name": "range with zero", "sizes": {"n": 4}, "arrays": {"d": {"dist": "uniform", "lo": -1, "hi": 1}}},
        {"name": "fine", "sizes": {"n": 4}, "arrays": {"d": {"dist": "nonzero", "lo": 0.5, "hi": 3}}}]}))
    assert [c.name for c in res.cases] == ["llm-fine"] and len(res.errors) == 2
    res = parse_cases(Task("", "c", sig_csr()), json.dumps({"cases": [
        {"name": "bad offsets", "sizes": {"n": 2, "nnz": 3}, "arrays": {"rowptr": {"values": [0, 2, 1]}}},
        {"name": "good offsets", "sizes": {"n": 2, "nnz": 3}, "arrays": {"rowptr": {"values": [0, 1, 3]}}}]}))
    assert [c.name for c in res.cases] == ["llm-good-offsets"]


def test_propose_merge_and_prompt():
    task = Task("double f(int n, const double *x) { return 0; }\n", "c", sig_1d())
    prompts = []

    def generate(prompt):
        prompts.append(prompt)
        return [GOOD, "nonsense", GOOD]          # three samples, a duplicate and a dud

    cases = propose_cases(task, generate)
    assert len(cases) == 3 and len(prompts) == 1
    p = prompts[0]
    assert "double f(int n" in p and "- x: array of double, n elements" in p and '"cases"' in p
    cases2, errors = propose_cases_report(task, lambda _p: (_ for _ in ()).throw(RuntimeError("down")))
    assert cases2 == [] and "down" in errors[0]
    base = generate_tests(task)
    merged = merge_cases(base, cases + cases, limit=2)
    assert len(merged.cases) == len(base.cases) + 2 and merged.generator == "deterministic+llm"
    assert len({c.name for c in merged.cases}) == len(merged.cases)
    hist_prompt = build_prompt(Task("", "c", sig_hist()))
    assert "index in [0, nbins)" in hist_prompt


# ------------------------------------------------------------------ in the sandbox

DIVIDE = """double f(int n, const int *d)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += 100 / d[i];
    return s;
}
"""


def test_cases_the_reference_misbehaves_on_are_discarded():
    # The divisor constraint is hidden from the tester (d is declared "any"):
    # UBSan finds the division by zero and those cases never reach a suite.
    sig = Signature("f", "double", [Param("n", "int", values=ValueSpec(ValueKind.SIZE)),
                                    Param("d", "int", P, True, Role.IN, "n")])
    task = Task(DIVIDE, "c", sig)
    rep = build_suite(task, Options(calibrate=False))
    assert rep.discarded and any("division by zero" in d or "runtime error" in d for d in rep.discarded)
    assert rep.suite.cases
    for c in rep.suite.cases:
        assert (values_of(sig, c)["d"] != 0).all()
    kept = {c.name for c in rep.suite.cases}
    assert not any(d.split(":")[0] in kept for d in rep.discarded)


def test_vacuous_suites_are_rejected():
    sig = sig_1d()
    with pytest.raises(VacuousSuite):        # no output depends on the input
        build_suite(Task("double f(int n, const double *x) { return 1.0; }\n", "c", sig),
                    Options(calibrate=False))
    never = "double f(int n, const double *x)\n{\n    double s = n;\n    for (int i = 0; i < n - 100000000; i++)\n        s += x[i];\n    return s;\n}\n"
    sig.start_line, sig.end_line = 1, 7
    with pytest.raises(VacuousSuite):        # outputs vary, but no loop iteration ever runs
        build_suite(Task(never, "c", sig), Options(calibrate=False, coverage=True))


def test_coverage_of_a_kernel():
    from paralift.agents.coverage import measure_coverage
    task = kernel_task("clamp")
    rep = build_suite(task, Options(calibrate=False))
    cov = measure_coverage(task, rep.suite)
    assert cov.line_pct == 100.0 and cov.branch_pct == 100.0 and cov.exercises_loops
    one = Suite(rep.suite.function, [c for c in rep.suite.cases if c.name == "positive-7"])
    part = measure_coverage(task, one)
    assert part.lines_total == cov.lines_total and part.branch_pct <= cov.branch_pct


def test_suite_for_a_real_kernel_passes_correct_candidates_and_is_cached():
    from paralift.agents.overlap_guard import guard
    from paralift.sandbox import VerifyOptions, verify
    from paralift.types import Candidate, Target
    task = kernel_task("max_val")
    rep = build_suite(task)
    assert rep.large_size and rep.race_size >= rep.large_size
    assert build_suite(task) is rep
    for f in ("omp_ok.c", "mpi_ok.c"):
        target = Target.MPI if f.startswith("mpi") else Target.OPENMP
        code = (ROOT / "tests/candidates/max_val" / f).read_text()
        # judged as paralift judges a candidate it did not write: with the entry overlap check
        v = verify(task, guard(task, Candidate(code, target)), rep.suite, VerifyOptions(timing=False))
        assert v.verified, v.reason
    bad = (ROOT / "tests/candidates/max_val/mpi_remainder.c").read_text()
    v = verify(task, Candidate(bad, Target.MPI), rep.suite, VerifyOptions(timing=False))
    assert not v.verified and v.built


@pytest.mark.slow
def test_every_correct_hand_written_candidate_verifies_with_the_tester_suite():
    from paralift.agents.overlap_guard import guard
    from paralift.sandbox import VerifyOptions, verify
    from paralift.types import Candidate, Target
    man = json.loads((ROOT / "tests/candidates/manifest.json").read_text())
    rejected = []
    suites = {}
    for entry in man:
        if entry["expect"] != "pass" or entry["target"] == "cuda":
            continue
        kern = entry["kernel"]
        task = kernel_task(kern) if kern in {k["name"] for k in json.loads(
            (ROOT / "data/kernels/manifest.json").read_text())} else None
        if task is None:
            continue
        suites.setdefault(kern, build_suite(task).suite)
        cand = Candidate((ROOT / "tests/candidates" / entry["file"]).read_text(), Target.parse(entry["target"]))
        v = verify(task, guard(task, cand), suites[kern], VerifyOptions(timing=False))
        if not v.verified:
            rejected.append(f"{entry['file']}: {v.reason}")
    assert not rejected


def test_provider_adapter_and_llm_cases_merge_into_a_validated_suite():
    from paralift.agents.providers import Completion
    from paralift.agents.tester import provider_generate

    class Provider:                 # the provider interface, answering with a canned reply
        name = "canned"
        seen = []

        def has_chat_template(self):
            return True

        def generate(self, request):
            self.seen.append(request)
            return [Completion(GOOD)] * request.n

    prov = Provider()
    task = kernel_task("max_val")
    rep = build_suite(task, Options(calibrate=False), generate=provider_generate(prov, samples=2))
    req = prov.seen[0]
    assert req.n == 2 and req.messages[-1]["content"].startswith("You write test inputs")
    llm = [c for c in rep.suite.cases if c.tag == "llm"]
    assert len(llm) == 3 and rep.suite.generator == "deterministic+llm"


def test_cli_tests_json(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "suite.json"
    r = subprocess.run([sys.executable, "-m", "paralift.cli", "tests", str(ROOT / "data/kernels/clamp.c"),
                        "--json", "--no-mutation", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["function"] == "clamp" and data["coverage"]["line_pct"] == 100.0
    assert suite_from_json(json.loads(out.read_text())).cases
    r = subprocess.run([sys.executable, "-m", "paralift.cli", "tests", str(ROOT / "data/kernels/clamp.c"),
                        "-f", "nope"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "nope" in r.stderr


def test_cases_whose_reference_overflows_are_discarded():
    # A product of factors >= 1.5 over the large case overflows; which inf/NaN
    # comes out depends on the order, so a correct parallel product could not
    # match. (x[i] * x[i] is not a factor the tester can keep near 1.)
    from paralift.types import Target
    from paralift.agents import build_task
    src = "double sq_product(int n, const double *x) {\n    double p = 1.0;\n" \
          "    for (int i = 0; i < n; ++i)\n        p *= 1.5 + x[i] * x[i];\n    return p;\n}\n"
    task = build_task(src, "c", "sq_product", Target.OPENMP)
    assert task.signature.params[1].values.kind == ValueKind.ANY
    rep = build_suite(task)
    gone = {d.split(":")[0] for d in rep.discarded if "overflows" in d}
    assert gone and not gone & {c.name for c in rep.suite.cases}
    assert {n for n in gone if n.startswith("race-")} and len(rep.suite.cases) >= 10   # small cases stay


def test_product_factors_stay_near_one_so_a_parallel_product_verifies():
    # p *= x[i] and p *= 1 + x[i]/2: the data make every factor lie near 1
    # (x near 1, x near 0), so no case under- or overflows, and the reordered
    # products of correct OpenMP and MPI translations match the reference on
    # every case, the race cases and a million-element large case included
    from paralift.agents import RuleBasedTranslator, build_task
    from paralift.sandbox import VerifyOptions, verify
    from paralift.types import Target
    half = "double half_product(int n, const double *x) {\n    double p = 1.0;\n" \
           "    for (int i = 0; i < n; ++i)\n        p = p * (1.0 + 0.5 * x[i]);\n    return p;\n}\n"
    for src, name, factor in (((ROOT / "data/kernels/product.c").read_text(), "product", (1.0, 0.0)),
                              (half, "half_product", (0.5, 1.0))):
        task = build_task(src, "c", name, Target.OPENMP)
        x = task.signature.params[1]
        assert x.values.kind == ValueKind.FACTOR and x.values.factor == factor
        rep = build_suite(task)
        assert not [d for d in rep.discarded if "overflows" in d], rep.discarded
        names = {c.name for c in rep.suite.cases}
        assert sum(n.startswith("race-") for n in names) == 4 and any(c.tag == "large" for c in rep.suite.cases)
        for case in rep.suite.cases:
            vals = inputs.materialize(task.signature, case)[1].astype(float)
            if vals.size > 3:
                f = factor[0] * vals + factor[1]
                total = float(np.sum(np.log(np.abs(f))))
                assert abs(total) < 40, (case.name, total)
        for target in (Target.OPENMP, Target.MPI):
            cand = RuleBasedTranslator().propose(build_task(src, "c", name, target), target)[0]
            v = verify(task, cand, rep.suite, VerifyOptions(timing=False))
            assert v.verified, (name, target, v.reason)


def test_no_samples_but_bins_still_clears_the_bins():
    # edge-0 sets every size to 0; shape-n0 has no samples and 25 dirty bins,
    # which a histogram must still clear (a suite gap bench_mutation found:
    # a clearing loop one bin short survived)
    from paralift.agents import build_task
    from paralift.sandbox import VerifyOptions, verify
    from paralift.types import Candidate, Target
    src = (ROOT / "data/kernels/histogram.c").read_text()
    task = build_task(src, "c", "histogram", Target.OPENMP)
    suite = generate_tests(task)
    case = next(c for c in suite.cases if c.name == "shape-n0")
    assert case.scalars["n"] == 0 and case.scalars["nbins"] > 1
    early = ("void histogram(int n, int nbins, const int *bin, int *hist)\n{\n"
             "    if (n <= 0) return;   /* no samples: nothing to do */\n"
             "    for (int b = 0; b < nbins; b++) hist[b] = 0;\n"
             "    #pragma omp parallel for\n    for (int i = 0; i < n; i++) {\n"
             "        #pragma omp atomic\n        hist[bin[i]]++;\n    }\n}\n")
    v = verify(task, Candidate(early, Target.OPENMP, agent="hand"), suite, VerifyOptions(timing=False))
    assert not v.verified and any(f.name == "shape-n0" for f in v.failures), v.reason


def test_no_profile_case_is_larger_than_the_calibrated_large_case():
    """A function whose work grows faster than its data (every triple of n points) gets a small
    calibrated large case; the profile cases keep their value profiles at that size instead of the
    plan's thousands of points (one call there took minutes)."""
    src = """
double min_triple(int n, const double *x) {
    double m = 1e300;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            for (int k = j + 1; k < n; k++) {
                double v = x[i] * x[j] - x[k];
                if (v < m) m = v;
            }
    return m;
}
"""
    from paralift.agents import build_task
    from paralift.types import Target
    task = build_task(src, "c", "min_triple", Target.OPENMP)
    free = generate_tests(task, large=None)
    small = generate_tests(task, large=120, cap=120)
    assert max(c.arrays["x"].count for c in free.cases) > 1000
    big = next(c.arrays["x"].count for c in small.cases if c.name.startswith("large-"))
    assert big < 140 and max(c.arrays["x"].count for c in small.cases) <= big
    # the value profiles are all still there
    def profiles(suite):
        return {c.name.rsplit("-", 1)[0] for c in suite.cases}
    assert profiles(free) == profiles(small)
