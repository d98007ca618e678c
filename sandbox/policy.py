"""Static policy checks on a candidate before anything runs.

A candidate must use its programming model and must not do what would let it
cheat a measurement or harm the machine: files, environment, processes,
threads, timers, sockets, inline assembly, or state kept between calls. The
sandbox is what actually contains a candidate; these checks give a clear
reason early and close the known ways to game a verification (DESIGN.md §6).
"""
from __future__ import annotations

import re

from paralift.types import Target

from .races import _walk   # one tree walk for the static checks

_FORBIDDEN: list[tuple[str, str]] = [
    (r"\b(fopen|freopen|fdopen|open|openat|creat|unlink|remove|rename|mkdir|opendir|truncate|ftruncate)\s*\(", "file access"),
    (r"\b(std::)?(i|o)?fstream\b|#\s*include\s*<fstream>", "file access"),
    (r"\b(getenv|secure_getenv|setenv|putenv|unsetenv)\s*\(|\benviron\b", "environment access"),
    (r"\b(fork|vfork|clone|clone3|system|popen|posix_spawnp?|exec[lv]p?e?|daemon|kill)\s*\(", "process creation"),
    (r"\b(pthread_create|thrd_create)\s*\(|\bstd::(thread|jthread|async)\b", "thread creation outside the programming model"),
    (r"\b(time|clock|clock_gettime|gettimeofday|omp_get_wtime|MPI_Wtime|timespec_get|__rdtsc|rdtsc|cudaEventElapsedTime)\s*\(|\bstd::chrono\b",
     "timer use"),
    (r"\b(socket|connect|bind|listen|accept|getaddrinfo|gethostbyname)\s*\(", "network access"),
    (r"\b(syscall|dlopen|dlsym|mmap|mprotect|ptrace|prctl|setrlimit|signal|sigaction|sleep|usleep|nanosleep)\s*\(", "system call"),
    (r"\b(asm|__asm__|__asm)\b", "inline assembly"),
    (r"__attribute__\s*\(\(\s*(constructor|destructor)", "code run outside the call"),
    (r"\bMPI_(Init|Init_thread|Finalize)\s*\(", "MPI_Init/MPI_Finalize (the caller does both)"),
]

_USES_MODEL = {
    Target.OPENMP: (r"#\s*pragma\s+omp\b", "no OpenMP construct (#pragma omp ...)"),
    Target.MPI: (r"\bMPI_(Send|Isend|Ssend|Rsend|Bsend|Recv|Irecv|Sendrecv|Bcast|Ibcast|Reduce|Ireduce|Allreduce|Iallreduce|"
                 r"Gather|Gatherv|Igather|Igatherv|Allgather|Allgatherv|Scatter|Scatterv|Alltoall|Alltoallv|Scan|Exscan|"
                 r"Reduce_scatter|Reduce_scatter_block|Put|Get|Accumulate|Win_create)\s*\(",
                 "no MPI communication call"),
    Target.CUDA: (r"<<<[^;]*>>>\s*\(|\bcudaLaunchKernel\s*\(", "no kernel launch"),
}


def strip_comments_and_strings(code: str) -> str:
    """Blank out comments and string/char literals, keeping line structure."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * code.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and code[j] != c:
                j += 2 if code[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _static_variables(text: str) -> list[tuple[int, str]]:
    """(offset, declaration) of each `static` variable (not function, not
    const). A linear scan: a regex with nested repetition here backtracked
    for ever on `static __host__ __device__ inline int f(...)`."""
    found = []
    for m in re.finditer(r"\bstatic\b", text):
        end = m.end()
        stop = len(text)
        for ch in ";({":
            k = text.find(ch, end)
            if 0 <= k < stop:
                stop = k
        if stop >= len(text) or text[stop] != ";":
            # `(`: a function or a call; `{`: a body: not a variable we judge
            # (an initialised array `= {...}` is caught below)
            brace = text.find("{", end)
            eq = text.find("=", end)
            if not (0 <= eq < brace and text[stop] == "{"):
                continue
        decl = " ".join(text[m.start():stop + 1].split())
        words = set(re.findall(r"[A-Za-z_]\w*", decl))
        if words & {"const", "constexpr", "inline", "__shared__", "__constant__", "thread_local", "_Thread_local"}:
            continue
        found.append((m.start(), decl))
    return found


def check(code: str, target: Target, function: str, sequential: str | None = None,
          language: str = "c") -> list[str]:
    """Violations, each one line; empty when the candidate may run."""
    text = strip_comments_and_strings(code)
    seq_text = strip_comments_and_strings(sequential) if sequential else ""
    problems: list[str] = []
    for pattern, what in _FORBIDDEN:
        for m in re.finditer(pattern, text):
            # What the sequential code already does is not the candidate's doing
            # (e.g. a main() that opens a file); only new uses count.
            if seq_text and len(re.findall(re.escape(m.group(0)), seq_text)) >= len(re.findall(re.escape(m.group(0)), text)):
                continue
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"{what}: `{m.group(0).strip()}` at line {line}")
            break
    pattern, missing = _USES_MODEL[target]
    if not re.search(pattern, text):
        problems.append(f"does not use {target.value}: {missing}")
    else:
        why = nominal_parallelism(code, target, language, sequential, function)
        if why:
            problems.append(why)
    # a C++ member function defined in its class is named there without its class ("Grid::f" -> "f")
    names = [function] + ([function.rsplit("::", 1)[1]] if "::" in function else [])
    if not any(re.search(r"\b" + re.escape(n) + r"\s*\(", text) for n in names):
        problems.append(f"does not define function {function!r}")
    if target == Target.CUDA and language == "c" and not re.search(r'extern\s*""', text):
        problems.append('a C caller cannot link it: the function must be declared extern "C"')
    seq_statics = {decl for _, decl in _static_variables(seq_text)}
    for offset, decl in _static_variables(text):
        if decl not in seq_statics:
            line = text.count("\n", 0, offset) + 1
            problems.append(f"keeps state between calls: `{decl[:80]}` at line {line}")
            break
    return problems


# ------------------------------------------------------------------ nominal parallelism
#
# A candidate that uses its model in name only (DESIGN.md §3: "must actually
# use its model") is correct and effectively sequential: verification alone
# would accept it, and an RL reward would pay it nearly as much as a real
# speedup (issue 25). Rejected here, statically:
#   - every OpenMP parallel construct switched off: num_threads(1), if(0),
#     if(false), omp_set_num_threads(1);
#   - every CUDA launch one block of one thread;
#   - no division of the heaviest loop nest among threads or ranks: the
#     function's work is estimated as its loop nesting degree (loops whose trip
#     count is a constant do not count), and the loops the candidate divides
#     (an OpenMP worksharing/simd/task construct, or bounds that depend on the
#     thread id or the MPI rank, directly or through variables and helper
#     parameters computed from them) must reach that degree. A parallel loop
#     around an O(n) initialisation next to a sequential O(n^2) nest, or MPI
#     code that computes everything on rank 0 and broadcasts it, is nominal.
# The check is an under-approximation of nominality: code it cannot parse is
# not judged (verification and timing still are).

_WORKSHARING = re.compile(r"\bomp\b.*\b(for|simd|taskloop|distribute|loop)\b")
_THREADS = re.compile(r"\bomp\b.*\b(parallel|task|taskloop|teams)\b")
_TASKISH = re.compile(r"\bomp\b.*\b(task|taskloop|section)\b")


def _const_value(expr: str) -> float | None:
    """The value of a constant integer/boolean expression (`1`, `2-1`, `false`), else None."""
    e = expr.strip().replace("false", "0").replace("true", "1")
    if not re.fullmatch(r"[0-9\s()+\-*/%<>=!&|]+", e) or not e:
        return None
    e = e.replace("&&", " and ").replace("||", " or ").replace("/", "//").replace("////", "//")
    e = re.sub(r"!(?!=)", " not ", e)
    try:
        return float(eval(e, {"__builtins__": {}}, {}))   # digits and operators only (checked above)
    except Exception:  # noqa: BLE001 - not a constant we can evaluate
        return None


def _disabled(pragma: str) -> str:
    """Why an OpenMP pragma's threads are switched off, or ''."""
    m = re.search(r"\bnum_threads\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)", pragma)
    if m and _const_value(m.group(1)) == 1:
        return f"num_threads({m.group(1).strip()})"
    m = re.search(r"\bif\s*\((?:\s*parallel\s*:)?([^()]*(?:\([^()]*\)[^()]*)*)\)", pragma)
    if m and _const_value(m.group(1)) == 0:
        return f"if({m.group(1).strip()})"
    return ""


def _ts_parse(code: str, language: str):
    import tree_sitter_c
    import tree_sitter_cpp
    from tree_sitter import Language, Parser
    lang = tree_sitter_cpp.language() if language == "cpp" else tree_sitter_c.language()
    return Parser(Language(lang)).parse(code.encode("utf-8", "replace"))


def _idents(node) -> set[str]:
    return {n.text.decode("utf-8", "replace") for n in _walk(node) if n.type in ("identifier", "field_identifier")}


def _fn_name(fn) -> str:
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    if d is None:
        return ""
    n = d.child_by_field_name("declarator")
    return n.text.decode("utf-8", "replace") if n is not None else ""


def _params(fn) -> list[str]:
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    out = []
    plist = d.child_by_field_name("parameters") if d is not None else None
    for p in (plist.named_children if plist is not None else []):
        ids = [n for n in _walk(p) if n.type == "identifier"]
        out.append(ids[-1].text.decode() if ids else "")
    return out


_LOOPS = ("for_statement", "while_statement", "do_statement", "for_range_loop")


class _Nest:
    """The loop forest of the candidate's functions (main excluded) with each
    loop's work degree and whether its iterations are divided."""

    def __init__(self, code: str, target: Target, language: str):
        tree = _ts_parse(code, language)
        self.ok = not tree.root_node.has_error
        self.fns = {_fn_name(n): n for n in _walk(tree.root_node) if n.type == "function_definition"}
        self.fns.pop("main", None)
        self.target = target
        self.derived = self._derived()
        self.unchanged: set[str] = set()

    def skip_unchanged(self, seq: "_Nest", function: str) -> None:
        """Functions other than `function` identical to the sequential file's are left out of the work estimate."""
        def norm(fn) -> str:
            return " ".join(fn.text.decode("utf-8", "replace").split())
        self.unchanged = {n for n, fn in self.fns.items()
                          if n != function and n in seq.fns and norm(fn) == norm(seq.fns[n])}

    # -- which variables hold a thread id or rank (or a count derived from the rank count)
    def _derived(self) -> dict[str, set[str]]:
        seeds = {"omp_get_thread_num"} if self.target == Target.OPENMP else set()
        derived = {name: set(seeds) for name in self.fns}
        self.rank_counts: dict[str, set[str]] = {name: set() for name in self.fns}
        changed = True
        while changed:
            changed = False
            for name, fn in self.fns.items():
                d = derived[name]
                for n in _walk(fn):
                    new: set[str] = set()
                    if n.type == "call_expression":
                        callee = n.child_by_field_name("function")
                        cname = callee.text.decode() if callee is not None else ""
                        args = n.child_by_field_name("arguments")
                        argl = args.named_children if args is not None else []
                        if cname in ("MPI_Comm_rank", "MPI_Comm_size") and len(argl) == 2:
                            ids = _idents(argl[1])
                            new |= ids
                            if cname == "MPI_Comm_size":
                                self.rank_counts[name] |= ids
                        elif argl and any(_idents(a) & d for a in argl):
                            # an out-parameter of a call that takes a derived value
                            for a in argl:
                                if a.type == "pointer_expression" and a.text.startswith(b"&"):
                                    new |= _idents(a)
                            if cname in self.fns:
                                for p, a in zip(_params(self.fns[cname]), argl):
                                    if p and _idents(a) & d and p not in derived[cname]:
                                        derived[cname].add(p)
                                        changed = True
                    elif n.type in ("init_declarator", "assignment_expression"):
                        lhs = n.child_by_field_name("declarator" if n.type == "init_declarator" else "left")
                        rhs = n.child_by_field_name("value" if n.type == "init_declarator" else "right")
                        if lhs is not None and rhs is not None and _idents(rhs) & d:
                            base = [x for x in _walk(lhs) if x.type == "identifier"]
                            if base:
                                new.add(base[0].text.decode())
                    if new - d:
                        d |= new
                        changed = True
        return derived

    @staticmethod
    def _header(loop):
        if loop.type == "for_statement":
            return [loop.child_by_field_name(f) for f in ("initializer", "condition", "update")]
        if loop.type in ("while_statement", "do_statement"):
            return [loop.child_by_field_name("condition")]
        return [loop.child_by_field_name("right")]

    def _constant_trip(self, loop) -> bool:
        if loop.type != "for_statement":
            return False
        cond = loop.child_by_field_name("condition")
        init = loop.child_by_field_name("initializer")
        if cond is None:
            return False
        var = set()
        if init is not None:
            ids = [x for x in _walk(init) if x.type == "identifier"]
            var = {ids[0].text.decode()} if ids else set()
        return not (_idents(cond) - var)

    def _divided(self, fname: str, loop, pragma: str) -> bool:
        if pragma and _WORKSHARING.search(pragma):
            return True
        d = self.derived[fname]
        hdr = set().union(*(_idents(h) for h in self._header(loop) if h is not None))
        if self.target == Target.MPI:
            # a loop over the ranks themselves (`k < size`) divides nothing
            cond = loop.child_by_field_name("condition") if loop.type == "for_statement" else None
            if cond is not None and _idents(cond) & self.rank_counts[fname] and not (hdr & (d - self.rank_counts[fname])):
                return False
        return bool(hdr & d)

    def degrees(self) -> tuple[int, int, int]:
        """(work degree of the heaviest nest, degree reached by divided loops, line of one divided loop)."""
        return self.scan()[:3]

    def scan(self, scalars: dict | None = None) -> tuple[int, int, int, float | None, float | None]:
        """degrees() and, given the scalar arguments of a call, the estimated
        iterations of the whole candidate and of its divided loops (None where
        a loop's trip count cannot be evaluated)."""
        best, par, line = 0, 0, 0
        known = scalars is not None
        total_all, divided_all = 0.0, 0.0
        for fname, fn in self.fns.items():
            if fname in self.unchanged:
                continue
            disabled_spans = []
            for n in _walk(fn):
                if n.type == "preproc_call" and _disabled(n.text.decode("utf-8", "replace")):
                    nxt = n.next_named_sibling
                    if nxt is not None:
                        disabled_spans.append((nxt.start_byte, nxt.end_byte))

            def visit(node, deg: int, divided_above: bool, env: dict) -> tuple[float, float]:
                """(iterations, divided iterations) of the loops under `node`."""
                nonlocal best, par, line, known
                prev = None
                total, divided = 0.0, 0.0
                for ch in node.named_children:
                    if ch.type in _LOOPS:
                        pragma = prev.text.decode("utf-8", "replace") if prev is not None and prev.type == "preproc_call" else ""
                        off = any(a <= ch.start_byte < b for a, b in disabled_spans)
                        tasks = any(x.type == "preproc_call" and _TASKISH.search(x.text.decode("utf-8", "replace"))
                                    for x in _walk(ch.child_by_field_name("body") or ch) if x is not ch)
                        div = divided_above or (not off and (self._divided(fname, ch, pragma) or tasks))
                        d = deg + (0 if self._constant_trip(ch) else 1)
                        best = max(best, d)
                        if div and d > par:
                            par, line = d, ch.start_point[0] + 1
                        trip, var, top = _trip(ch, env) if known else (None, None, None)
                        if trip is None:
                            known = False
                            trip = 0.0
                        inner_env = {**env, var: top} if var else env
                        t, dv = visit(ch, d, div, inner_env)
                        total += trip * (1 + t)
                        divided += trip * (1 + t) if div and not divided_above else trip * dv
                    else:
                        sect = prev is not None and prev.type == "preproc_call" and \
                            _TASKISH.search(prev.text.decode("utf-8", "replace")) and \
                            not any(a <= ch.start_byte < b for a, b in disabled_spans)
                        t, dv = visit(ch, deg, divided_above or bool(sect), env)
                        total += t
                        divided += t if (sect and not divided_above) else dv
                    prev = ch
                return total, divided
            t, dv = visit(fn, 0, False, dict(scalars or {}))
            total_all += t
            divided_all += dv
        if not known:
            return best, par, line, None, None
        return best, par, line, total_all, divided_all


def _eval_bound(expr: str, env: dict) -> float | None:
    """The value of a loop bound expression with the call's scalars (None if
    it reads anything else: memory, calls, unknown names)."""
    e = re.sub(r"\(\s*(?:const\s+)?(?:unsigned\s+|signed\s+)?(?:long\s+long|long|int|size_t|short|char|double|float|"
               r"u?int(?:8|16|32|64)_t)\s*\)", "", expr)
    def sub(m):
        v = env.get(m.group(0))
        return "(%r)" % float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else "?"
    e = re.sub(r"[A-Za-z_]\w*", sub, e)
    e = re.sub(r"(\d)[uUlL]+\b", r"\1", e)
    if "?" in e or not re.fullmatch(r"[0-9.eE\s()+\-*/%<>]+", e):
        return None
    try:
        return float(eval(e.replace("<<", "*2**").replace(">>", "/2**"), {"__builtins__": {}}, {}))
    except Exception:  # noqa: BLE001 - not an expression we can evaluate
        return None


def _trip(loop, env: dict) -> tuple[float | None, str | None, float | None]:
    """(trip count, loop variable, its largest value) of a counted `for` loop
    under the scalar values `env`; (None, ...) when it cannot be told."""
    if loop.type != "for_statement":
        return None, None, None
    init, cond, upd = (loop.child_by_field_name(f) for f in ("initializer", "condition", "update"))
    if init is None or cond is None or cond.type != "binary_expression":
        return None, None, None
    txt = lambda n: n.text.decode("utf-8", "replace")   # noqa: E731
    if init.type == "declaration":
        d = next((c for c in init.named_children if c.type == "init_declarator"), None)
        if d is None:
            return None, None, None
        var, lo = txt(d.child_by_field_name("declarator")), d.child_by_field_name("value")
    elif init.type == "assignment_expression":
        var, lo = txt(init.child_by_field_name("left")), init.child_by_field_name("right")
    else:
        return None, None, None
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    op = txt(cond.child_by_field_name("operator")) if cond.child_by_field_name("operator") is not None else \
        txt(cond.children[1])
    if txt(left).strip() == var:
        hi = right
    elif txt(right).strip() == var:
        hi, op = left, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    else:
        return None, None, None
    step = 1.0
    u = txt(upd).replace(" ", "") if upd is not None else ""
    m = re.fullmatch(rf"{re.escape(var)}(?:\+=|-=)(.+)|{re.escape(var)}={re.escape(var)}[+-](.+)", u)
    if m:
        step = _eval_bound(m.group(1) or m.group(2), env) or 0.0
    elif u not in (f"{var}++", f"++{var}", f"{var}--", f"--{var}"):
        return None, None, None
    lo_v, hi_v = _eval_bound(txt(lo), env) if lo is not None else None, _eval_bound(txt(hi), env)
    if lo_v is None or hi_v is None or step == 0 or op not in ("<", "<=", ">", ">=", "!="):
        return None, None, None
    span = abs(hi_v - lo_v) + (1 if op in ("<=", ">=") else 0)
    return max(0.0, span / abs(step)), var, max(lo_v, hi_v)


NEGLIGIBLE_SHARE = 0.10     # divided loops doing less of the iterations than this, at a call's sizes, are nominal


def nominal_parallelism(code: str, target: Target, language: str = "c", sequential: str | None = None,
                        function: str | None = None, scalars: dict | None = None) -> str:
    """Why the candidate's parallelism is nominal (one line), or ''. Functions
    other than `function` that the candidate leaves as `sequential` has them
    are not its work (a whole-file candidate for a single loop next to an
    untouched loop nest is not nominal); `function` itself always counts.
    Given the scalar arguments of a call (`scalars`, e.g. a test suite's
    largest case), loops of equal nesting degree are weighed by their
    iterations too: divided loops doing under NEGLIGIBLE_SHARE of them are
    nominal (estimated only where every trip count evaluates)."""
    text = strip_comments_and_strings(code)
    if target == Target.CUDA:
        return _nominal_cuda(text)
    if target == Target.OPENMP:
        pragmas = [l.strip() for l in text.splitlines() if re.match(r"\s*#\s*pragma\s+omp\b", l)]
        threaded = [p for p in pragmas if _THREADS.search(p)]
        off = [_disabled(p) for p in threaded]
        if threaded and all(off):
            return f"nominal parallelism: every parallel construct runs one thread ({off[0]})"
        m = re.search(r"\bomp_set_num_threads\s*\(([^()]*)\)", text)
        if m and _const_value(m.group(1)) == 1:
            return f"nominal parallelism: omp_set_num_threads({m.group(1).strip()}) runs one thread"
    try:
        nest = _Nest(text, target, language)
        if sequential and function:
            nest.skip_unchanged(_Nest(strip_comments_and_strings(sequential), target, language), function)
    except Exception:  # noqa: BLE001 - a parser failure: not judged here
        return ""
    if not nest.ok or not nest.fns:
        return ""
    work, par, line, total, divided = nest.scan(scalars)
    who = "threads" if target == Target.OPENMP else "ranks"
    if work and par >= work and total and divided is not None and divided < NEGLIGIBLE_SHARE * total:
        # same degree, other extents (a histogram's bin-clearing loop beside its O(n) count): sizes decide
        return (f"nominal parallelism: at the test's sizes the loops divided among the {who} do "
                f"{divided / total:.1%} of the iterations; the rest runs sequentially")
    if work == 0 or par >= work:
        return ""
    if par == 0:
        return f"nominal parallelism: no loop's iterations are divided among the {who}"
    return (f"nominal parallelism: the loops divided among the {who} (line {line}) do O(n^{par}) of the "
            f"function's O(n^{work}) work; the heaviest loop nest runs sequentially")


def _nominal_cuda(text: str) -> str:
    launches = re.findall(r"<<<\s*(.*?)\s*>>>", text, flags=re.S)
    if not launches:
        return ""

    def one(expr: str) -> bool:
        expr = expr.strip()
        m = re.fullmatch(r"(?:dim3\s*)?\(?\s*([^()]*)\)?", expr)
        if m and all(_const_value(x) == 1 for x in m.group(1).split(",") if x.strip()) and m.group(1).strip():
            return True
        if re.fullmatch(r"[A-Za-z_]\w*", expr):
            defs = re.findall(rf"\b{expr}\s*(?:=\s*(?:dim3\s*)?\(?([^;{{}}]*?)\)?\s*;|\(([^()]*)\)\s*[;,]|\{{([^{{}}]*)\}}\s*;)", text)
            vals = [next(v for v in d if v.strip()) for d in defs if any(v.strip() for v in d)]
            return bool(vals) and all(all(_const_value(x) == 1 for x in v.split(",")) for v in vals)
        return False

    for cfg in launches:
        parts = _split_top(cfg)
        if len(parts) < 2 or not (one(parts[0]) and one(parts[1])):
            return ""
    return "nominal parallelism: every kernel launch is one block of one thread"


def _split_top(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        cur += ch
    return out + [cur]
