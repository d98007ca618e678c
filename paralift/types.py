"""The pipeline's shared types, defined once (DESIGN.md §2).

Task -> Candidate(s) -> TestSuite -> Verdict. Everything here is plain data
(dataclasses that round-trip through JSON) so that tests, reports, corpora and
the language server all speak the same shapes.
"""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


class Target(str, enum.Enum):
    OPENMP = "openmp"
    MPI = "mpi"
    CUDA = "cuda"

    @classmethod
    def parse(cls, text: str) -> "Target":
        aliases = {"omp": cls.OPENMP, "openmp": cls.OPENMP, "mpi": cls.MPI, "cuda": cls.CUDA}
        try:
            return aliases[text.strip().lower()]
        except KeyError:
            raise ValueError(f"unknown target {text!r} (choose openmp, mpi or cuda)") from None


class ParamKind(str, enum.Enum):
    SCALAR = "scalar"    # T x            (passed by value)
    POINTER = "pointer"  # T *x, T x[]    (C arrays)
    VECTOR = "vector"    # std::vector<T> &x / std::vector<T> const &x
    REF = "ref"          # T &x           (C++ scalar output)


class Role(str, enum.Enum):
    IN = "in"
    OUT = "out"
    INOUT = "inout"


class ValueKind(str, enum.Enum):
    ANY = "any"          # free data
    INDEX = "index"      # each value in [0, bound): used as a subscript elsewhere
    OFFSETS = "offsets"  # CSR-style: non-decreasing, first 0, last == bound
    NONZERO = "nonzero"  # used as a divisor
    FACTOR = "factor"    # floating-point data multiplied into a product: values near 1
    SIZE = "size"        # a scalar that sets a problem size (loop bound / extent)


@dataclass
class ValueSpec:
    kind: ValueKind = ValueKind.ANY
    bound: str | None = None  # extent expression (see Param.extent) for INDEX/OFFSETS
    # FACTOR: (a, b) such that the element x enters the product as a*x + b
    factor: tuple[float, float] | None = None


@dataclass
class Param:
    """One parameter of the function under test.

    `extent` is an arithmetic expression over the function's scalar parameters
    (e.g. "n", "n*m", "n+2") giving the number of elements of an array
    parameter; it is evaluated by paralift.sandbox.inputs with a restricted
    evaluator, never with eval().
    """
    name: str
    base_type: str                  # element / scalar C type: "double", "int", "unsigned long", ...
    kind: ParamKind = ParamKind.SCALAR
    const: bool = False
    role: Role = Role.IN
    extent: str | None = None
    values: ValueSpec = field(default_factory=ValueSpec)
    # VECTOR kind only: the C++ container when it is not std::vector<base_type>
    # ("std::array<double, 3>": a fixed size; the driver fills it from the case's elements)
    container: str | None = None
    # nested vectors only (container "std::vector<std::vector<T>>"; `extent` counts the rows): the
    # length of every row ("n"), or "~" + an expression for ragged rows of lengths around it ("~N")
    row_extent: str | None = None
    # a member function's field (Signature.receiver): not an argument; the drivers swap it into
    # the object before the call and back after (agents/cpp_members.py)
    member: bool = False

    @property
    def is_array(self) -> bool:
        return self.kind in (ParamKind.POINTER, ParamKind.VECTOR)

    @property
    def is_output(self) -> bool:
        return self.role in (Role.OUT, Role.INOUT)


@dataclass
class Signature:
    name: str
    return_type: str               # "void", "double", ...
    params: list[Param]
    text: str = ""                 # the declaration as written in the source
    static: bool = False
    start_line: int = 0            # 1-based, of the function definition
    end_line: int = 0
    # the C layout of each struct type its parameters and result use, as this file defines it
    # (name -> sandbox.inputs.layout_of): two files (namespaces) may define different `Point`s
    records: dict = field(default_factory=dict)
    # C++ (agents/cpp_members.py): the callee the drivers name when the bare name is not callable
    # ("axpy<float>": a function template's instantiation), and the class of a member function
    # (the drivers default-construct one object and call the function on it; its fields are the
    # params marked `member`)
    call: str = ""
    receiver: str = ""

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass
class Task:
    """One function of one sequential source file to be made parallel/verified."""
    source: str
    language: str                   # "c" | "cpp"
    signature: Signature
    target: Target | None = None
    path: str | None = None
    # Free-form analysis facts (loops, dependences, reasons) for agents and reports.
    analysis: dict[str, Any] = field(default_factory=dict)
    # Compiler flags the source needs to build (include paths, defines, -std=: from the
    # project's compile_commands.json, paralift.project); every sandbox build adds them.
    build_flags: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        return self.signature.name


@dataclass
class Candidate:
    code: str                       # a whole translation unit
    target: Target
    agent: str = "user"             # "rule", "hf", "vllm", "openai", "user", ...
    model: str | None = None
    prompt: str | None = None
    notes: str = ""


@dataclass
class ArraySpec:
    """How one array's contents are generated (seeded: replayable from JSON)."""
    count: int
    dist: str = "uniform"           # uniform | index | offsets | nonzero | explicit
    lo: float = -1.0
    hi: float = 1.0
    seed: int = 0
    values: list | None = None      # for dist == "explicit"
    rows: list | None = None        # a nested vector: the row lengths (their sum is count)


@dataclass
class TestCase:
    name: str
    scalars: dict[str, Any]         # scalar parameter values
    arrays: dict[str, ArraySpec]    # array parameter contents
    tag: str = "random"             # edge | random | large | timing | alias
    # An overlapping call: parameter -> [base parameter, element offset]. The parameter is passed as
    # `base + offset` (f(n, a, a), f(n, a, a + 1)); its ArraySpec only gives its element count.
    aliases: dict[str, list] = field(default_factory=dict)


@dataclass
class TestSuite:
    function: str
    cases: list[TestCase]
    generator: str = "deterministic"
    seed: int = 0


@dataclass
class CaseResult:
    name: str
    passed: bool
    config: str = ""                # e.g. "threads=3", "ranks=2", "cpu-emulated reverse"
    detail: str = ""                # first mismatch, crash reason, ...


@dataclass
class Timing:
    sequential_s: float             # median time of one call
    candidate_s: float
    speedup: float                  # geometric mean of the per-pair ratios
    spread: float                   # (max-min)/median of the per-pair ratios
    runs: int                       # timing processes (each one interval unit; paired: both sides in one process)
    size: dict[str, Any] = field(default_factory=dict)
    workers: int = 0                # threads or ranks used
    ci_low: float | None = None     # 95 % confidence interval of the speedup (None: not measured so)
    ci_high: float | None = None    # (None with ci_low set: unbounded, too few runs)
    calls: int = 0                  # timed calls of each side per process, after warm-up calls
    load: dict[str, Any] = field(default_factory=dict)   # loadavg_before/after, cores, other_cores, contended
    contended: bool = False         # other processes held cores while measuring
    profile: str = ""               # the input profile these figures are from (the slower one)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)   # per profile: speedup, ci_low, ci_high, ...

    @classmethod
    def from_json(cls, data: dict) -> "Timing":
        """From to_jsonable's dict, older ones (without the interval) included."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def interval(self) -> tuple[float, float]:
        """(low, high) of the speedup; a timing without one (an older
        verdict) gives its spread around the speedup."""
        if self.ci_low is not None:
            return self.ci_low, self.ci_high if self.ci_high is not None else float("inf")
        return self.speedup / (1 + self.spread), self.speedup * (1 + self.spread)


@dataclass
class CudaCosts:
    """Where a CUDA candidate's time goes, per call of the function (issue 24), from one profiled run
    on one test case (sandbox.cuda_profile). Kernel and end-to-end times are a GPU's only: on the
    CPU emulation they are null and `kernel_time`/`end_to_end_time` say so."""
    case: str = ""                          # the test case profiled
    calls: int = 0                          # calls in the profiled process (the first one a warm-up)
    h2d_bytes: int = 0                      # bytes copied host -> device per call
    d2h_bytes: int = 0                      # bytes copied device -> host per call
    h2d_copies: int = 0                     # copies per call, by direction
    d2h_copies: int = 0
    bytes_source: str = ""                  # "emulator transfer log" | "cudaMemcpy wrappers"
    launches: int = 0                       # kernel launches per call
    kernel_s: float | None = None           # GPU time of the launches per call (CUDA events)
    kernel_time: str = ""                   # how kernel_s was measured, or why it is null
    end_to_end_s: float | None = None       # one call as the caller sees it, on a GPU
    end_to_end_time: str = ""               # how end_to_end_s was measured, or why it is null
    sequential_s: float | None = None       # the sequential code's time per call on the same case
    bus_s: float | None = None              # (h2d + d2h) bytes at bus_bytes_per_s: what the copies take at least
    bus_bytes_per_s: float = 0.0
    withheld: str = ""                      # the transfer rule's reason when the plan is not proposed
    note: str = ""                          # what could not be measured, and why


@dataclass
class Verdict:
    target: Target
    status: str = "failed"          # verified | failed | error
    policy_ok: bool = True
    policy_violations: list[str] = field(default_factory=list)
    built: bool = False
    build_log: str = ""
    tests_passed: int = 0
    tests_total: int = 0
    failures: list[CaseResult] = field(default_factory=list)
    timing: Timing | None = None
    speedup: float | None = None
    speedup_reason: str = ""        # why speedup is null, when it is
    executor: str = "cpu"           # cpu | gpu | cpu-emulated
    isolation: str = ""             # "bubblewrap+cgroup", "rlimits (bubblewrap missing)", ...
    reason: str = ""                # one line a user can act on
    logs: list[str] = field(default_factory=list)
    cuda: CudaCosts | None = None   # CUDA: bytes moved, kernel and end-to-end time per call (issue 24)

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def to_jsonable(obj: Any) -> Any:
    """dataclasses/enums -> plain JSON types."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    return obj


def suite_from_json(data: dict) -> TestSuite:
    cases = [
        TestCase(
            name=c["name"], scalars=dict(c["scalars"]), tag=c.get("tag", "random"),
            arrays={k: ArraySpec(**v) for k, v in c["arrays"].items()},
            aliases={k: [v[0], int(v[1])] for k, v in (c.get("aliases") or {}).items()},
        )
        for c in data["cases"]
    ]
    return TestSuite(function=data["function"], cases=cases,
                     generator=data.get("generator", "deterministic"), seed=data.get("seed", 0))
