"""CUDA source -> C++ that builds against the paralift CUDA-on-CPU runtime.

The runtime header (paralift_cuda.h) maps qualifiers, builtins and the host
API with plain C++; what needs to see the source is done here:

* ``k<<<g, b, smem, stream>>>(args)`` becomes a call of ``__pl_launch`` with
  the kernel's name (for diagnostics) and a generic lambda that calls it;
* ``__shared__`` declarations become references to per-block heap blocks
  (exact size, so AddressSanitizer sees overflows) and ``extern __shared__``
  arrays pointers to the launch's dynamic shared memory;
* ``__noinline__`` (which clashes with libstdc++'s own use of the name);
* features the CPU emulation cannot run are reported by
  :func:`unsupported_features` and become ``#error`` lines, so they can never
  pass silently.

The scanner works on a copy of the text in which comments and string/char
literals are blanked out, so nothing inside them is touched.  Line numbers of
the original are kept (``#line 1`` after the prologue; replacements keep their
newlines) so compiler messages and deadlock reports point at the .cu file.
"""
from __future__ import annotations

import re

HEADER = "paralift_cuda.h"

_IDENT = re.compile(r"[A-Za-z_]\w*")


# ---------------------------------------------------------------------------
# lexical helpers
# ---------------------------------------------------------------------------
def blank_non_code(src: str) -> str:
    """`src` with comments and string/char literals replaced by spaces.

    Newlines are kept, so offsets and line numbers are the same as in `src`.
    The delimiters of string literals are kept (as `"`) so that `#include
    "x.h"` still looks like an include.
    """
    out = list(src)
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "/" and i + 1 < n and src[i + 1] == "/":
            j = src.find("\n", i)
            j = n if j < 0 else j
            # a line comment ending in a backslash continues on the next line
            while j < n and j > 0 and src[j - 1] == "\\":
                k = src.find("\n", j + 1)
                j = n if k < 0 else k
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c == "/" and i + 1 < n and src[i + 1] == "*":
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif c == "R" and i + 1 < n and src[i + 1] == '"' and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r'R"([^(\s]{0,16})\(', src[i:])
            if not m:
                i += 1
                continue
            end = src.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            for k in range(i + 1, end - 1):
                if out[k] != "\n":
                    out[k] = " "
            i = end
        elif c in "\"'":
            if c == "'" and i > 0 and (src[i - 1].isalnum()) and i + 1 < n and src[i + 1].isalnum():
                i += 1  # digit separator 1'000'000
                continue
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")": "(", "]": "[", "}": "{"}


def _match_forward(code: str, i: int) -> int:
    """Index of the bracket closing the one at `i` ((, [ or {), or -1."""
    depth = 0
    n = len(code)
    j = i
    while j < n:
        c = code[j]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


def _match_backward(code: str, i: int, close: str, open_: str) -> int:
    """Index of the bracket opening the `close` at `i`, or -1."""
    depth = 0
    j = i
    while j >= 0:
        c = code[j]
        if c == close:
            depth += 1
        elif c == open_:
            depth -= 1
            if depth == 0:
                return j
        elif close == ">" and c in ";{}":
            return -1
        j -= 1
    return -1


def _line_of(src: str, pos: int) -> int:
    return src.count("\n", 0, pos) + 1


def _split_top(text: str, sep: str = ",") -> list[tuple[int, int]]:
    """Spans of `text` split at `sep` outside brackets (and outside <...> in
    declarations when angle=True)."""
    spans, depth, start = [], 0, 0
    for k, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            spans.append((start, k))
            start = k + 1
    spans.append((start, len(text)))
    return spans


def _split_decl(text: str) -> list[tuple[int, int]]:
    """Declarator spans split at top-level commas, treating <...> as brackets."""
    spans, depth, angle, start = [], 0, 0, 0
    for k, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and c == "<":
            angle += 1
        elif depth == 0 and c == ">" and angle:
            angle -= 1
        elif c == "," and depth == 0 and angle == 0:
            spans.append((start, k))
            start = k + 1
    spans.append((start, len(text)))
    return spans


# ---------------------------------------------------------------------------
# scopes: is a position inside a function body, and which function?
# ---------------------------------------------------------------------------
def _scopes(code: str) -> list[tuple[int, int, str, str]]:
    """(open, close, kind, header) for every {...} block.

    kind is 'ns' (namespace / extern "C"), 'class', 'init' (brace
    initialiser) or 'code' (function bodies and statements).
    """
    res = []
    stack: list[tuple[int, str, str]] = []
    prev_stop = 0
    for k, c in enumerate(code):
        if c == "{":
            header = code[prev_stop:k]
            h = " ".join(header.split())
            # preprocessor lines before the header do not belong to it
            if "\n" in header:
                lines = [ln for ln in header.split("\n") if not ln.strip().startswith("#")]
                h = " ".join(" ".join(lines).split())
            if re.search(r"\bnamespace\b[^;()]*$", h) or re.search(r'\bextern\s*"\s*"\s*$', h) or re.search(r'\bextern\s*"C(\+\+)?"\s*$', h):
                kind = "ns"
            elif re.search(r"\b(struct|class|union|enum)\b[^()]*$", h):
                kind = "class"
            elif re.search(r"(=|\breturn|,|\(|\[)\s*$", h) or not h.strip() and stack and stack[-1][1] == "init":
                kind = "init"
            else:
                kind = "code"
            stack.append((k, kind, h))
            prev_stop = k + 1
        elif c == "}":
            if stack:
                o, kind, h = stack.pop()
                res.append((o, k, kind, h))
            prev_stop = k + 1
        elif c == ";":
            prev_stop = k + 1
    return res


class _ScopeIndex:
    def __init__(self, code: str):
        self.scopes = sorted(_scopes(code))

    def enclosing(self, pos: int) -> list[tuple[int, int, str, str]]:
        return [s for s in self.scopes if s[0] < pos < s[1]]

    def in_function(self, pos: int) -> bool:
        return any(s[2] == "code" for s in self.enclosing(pos))

    def function_header(self, pos: int) -> str | None:
        for s in self.enclosing(pos):  # outermost first
            if s[2] == "code":
                return s[3]
        return None


# ---------------------------------------------------------------------------
# unsupported features
# ---------------------------------------------------------------------------
_FEATURES: list[tuple[str, str]] = [
    ("texture memory", r"\btexture\s*<|\btex(1D|2D|3D|1Dfetch|Cubemap)\w*\s*[<(]|\bcudaTextureObject_t\b|"
                       r"\bcudaCreateTextureObject\b|\bcudaBindTexture\w*|\bsurf(1D|2D|3D)\w*\s*[<(]|"
                       r"\bcudaSurfaceObject_t\b|\bcudaArray\b|\bcudaMallocArray\b|\bcudaArray_t\b"),
    ("cooperative groups grid synchronization", r"\bthis_grid\s*\(|\bgrid_group\b|\bcudaLaunchCooperativeKernel\w*|"
                                                r"\bthis_multi_grid\s*\(|\bmulti_grid_group\b"),
    ("cooperative groups coalesced/labeled groups", r"\bcoalesced_threads\s*\(|\bcoalesced_group\b|"
                                                    r"\blabeled_partition\b|\bbinary_partition\b"),
    ("thread block clusters", r"\bthis_cluster\s*\(|\bcluster_group\b|__cluster_dims__|\bcudaLaunchKernelEx\b"),
    ("inline PTX", r"\basm\s*(volatile\s*|__volatile__\s*)?\(|\b__asm__\b|\b__asm\b"),
    ("cuBLAS", r"\bcublas\w*"),
    ("cuFFT", r"\bcufft\w*"),
    ("cuRAND", r"\bcurand\w*"),
    ("cuSPARSE", r"\bcusparse\w*"),
    ("cuSOLVER", r"\bcusolver\w*"),
    ("cuDNN", r"\bcudnn\w*"),
    ("Thrust", r"\bthrust\s*::"),
    ("CUB", r"\bcub\s*::"),
    ("NCCL", r"\bnccl[A-Z]\w*"),
    ("NVRTC", r"\bnvrtc\w*"),
    ("half precision (cuda_fp16/cuda_bf16)", r"\b__half2?\b|\b__float2half\w*|\b__half2float\b|\b__nv_bfloat16\w*|"
                                              r"\b__float2bfloat16\w*"),
    ("tensor core WMMA", r"\bwmma\s*::|\bnvcuda\s*::"),
    ("libcu++ (cuda:: namespace: memcpy_async, pipelines, barriers)", r"\bcuda\s*::\s*(std|memcpy_async|pipeline|barrier|"
                                                                      r"atomic\w*|aligned_size_t)\b|\b__pipeline_\w+"),
    # the emulation launches through the kernel's own type: a void* has lost it
    ("cudaLaunchKernel with a kernel cast to void *", r"\bcudaLaunchKernel\s*\(\s*\(\s*(const\s+)?void\s*\*\s*\)"),
    ("CUDA graphs", r"\bcudaGraph\w*|\bcudaStreamBeginCapture\w*|\bcudaStreamEndCapture\b"),
    ("CUDA driver API", r"\bcu(Init|DeviceGet\w*|CtxCreate\w*|ModuleLoad\w*|ModuleGetFunction|LaunchKernel\w*|"
                        r"MemAlloc\w*|MemcpyHtoD\w*|MemcpyDtoH\w*|MemFree\w*)\s*\(|\bCUdeviceptr\b|\bCUfunction\b|"
                        r"\bCUmodule\b|\bCUcontext\b"),
    ("3D memory copies (cudaMalloc3D/cudaMemcpy3D)", r"\bcudaMalloc3D\w*|\bcudaMemcpy3D\w*|\bmake_cudaPitchedPtr\b|"
                                                     r"\bcudaExtent\b"),
    ("multi-GPU peer access", r"\bcudaMemcpyPeer\w*|\bcudaDeviceEnablePeerAccess\b"),
    ("CUDA IPC", r"\bcudaIpc\w+"),
    ("device-side malloc of CUDA heap limits", r"\bcudaLimitDevRuntime\w*"),
]

_INCLUDE_FEATURES: list[tuple[str, str]] = [
    ("Thrust", r"thrust/"),
    ("CUB", r"cub/"),
    ("cuBLAS", r"cublas"),
    ("cuFFT", r"cufft"),
    ("cuRAND", r"curand"),
    ("cuSPARSE", r"cusparse"),
    ("cuSOLVER", r"cusolver"),
    ("cuDNN", r"cudnn"),
    ("NCCL", r"nccl\.h"),
    ("NVRTC", r"nvrtc\.h"),
    ("half precision (cuda_fp16/cuda_bf16)", r"cuda_(fp16|bf16|fp8)\.h"),
    ("tensor core WMMA", r"^mma\.h$"),
    ("libcu++ (cuda:: namespace: memcpy_async, pipelines, barriers)", r"^cuda/"),
    ("texture memory", r"texture_fetch_functions|cuda_texture_types|surface_functions"),
    ("cooperative groups memcpy_async", r"cooperative_groups/memcpy_async"),
]

_INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"]+)[>"]', re.M)


def _includes(src: str, code: str) -> list[tuple[int, int, str]]:
    """(start, end, path) of #include lines that are not commented out."""
    res = []
    for m in _INCLUDE_RE.finditer(src):
        if "#" in code[m.start():m.end()]:
            res.append((m.start(), m.end(), m.group(1).strip()))
    return res


def _launch_sites(code: str) -> list[int]:
    return [m.start() for m in re.finditer(r"<<<", code)]


def unsupported_features(source: str) -> list[str]:
    """Features of `source` the CPU emulation cannot run, e.g. ["texture memory"]."""
    code = blank_non_code(source)
    found: list[str] = []

    def add(name: str) -> None:
        if name not in found:
            found.append(name)

    for name, pat in _FEATURES:
        if re.search(pat, code):
            add(name)
    for _, _, path in _includes(source, code):
        for name, pat in _INCLUDE_FEATURES:
            if re.search(pat, path):
                add(name)
    idx = _ScopeIndex(code)
    for pos in _launch_sites(code):
        h = idx.function_header(pos)
        if h is not None and re.search(r"\b__global__\b|\b__device__\b", h) and not re.search(r"\b__host__\b", h):
            add("dynamic parallelism (kernel launch from device code)")
            break
    if re.search(r"\bcooperative_groups\b|\bcooperative_groups\.h\b", code + "".join(p for _, _, p in _includes(source, code))):
        # block-level groups are supported by the stub header; grid-wide ones are reported above
        pass
    return found


# ---------------------------------------------------------------------------
# rewriting
# ---------------------------------------------------------------------------
def _c_string(text: str) -> str:
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _kernel_start(code: str, p: int) -> int:
    """Start of the kernel expression ending right before `<<<` at p."""
    j = p - 1
    while j >= 0 and code[j] in " \t\r\n\\":
        j -= 1
    end = j
    while j >= 0:
        c = code[j]
        if c == ">":
            o = _match_backward(code, j, ">", "<")
            if o < 0:
                break
            j = o - 1
            while j >= 0 and code[j] in " \t":
                j -= 1
            continue
        if c == ")":
            o = _match_backward(code, j, ")", "(")
            return o if o >= 0 else j + 1
        if c.isalnum() or c == "_":
            while j >= 0 and (code[j].isalnum() or code[j] == "_"):
                j -= 1
            k = j
            while k >= 0 and code[k] in " \t":
                k -= 1
            if k >= 1 and code[k] == ":" and code[k - 1] == ":":
                j = k - 2
                while j >= 0 and code[j] in " \t":
                    j -= 1
                if j < 0 or not (code[j].isalnum() or code[j] in "_>"):
                    return j + 1  # leading ::
                continue
            return j + 1
        break
    return j + 1 if j < end else end + 1


class RewriteError(ValueError):
    pass


def _rewrite_launches(src: str, code: str, edits: list[tuple[int, int, str]]) -> None:
    n = len(code)
    for p in _launch_sites(code):
        start = _kernel_start(code, p)
        kexpr = src[start:p].strip()
        if not kexpr:
            raise RewriteError(f"line {_line_of(src, p)}: cannot find the kernel before <<<")
        # configuration: up to the >>> at bracket depth 0
        depth, q = 0, p + 3
        while q < n:
            c = code[q]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif depth == 0 and code.startswith(">>>", q):
                break
            q += 1
        if q >= n:
            raise RewriteError(f"line {_line_of(src, p)}: unterminated <<<")
        cfg_text = src[p + 3:q]
        cfg = [re.sub(r"^[ \t]+|[ \t]+$", "", cfg_text[a:b]) for a, b in _split_top(code[p + 3:q])]
        if len(cfg) < 2 or len(cfg) > 4 or not all(c.strip() for c in cfg):
            raise RewriteError(f"line {_line_of(src, p)}: a launch needs 2 to 4 configuration arguments, got {cfg_text!r}")
        r = q + 3
        while r < n and code[r] in " \t\r\n\\":
            r += 1
        if r >= n or code[r] != "(":
            raise RewriteError(f"line {_line_of(src, p)}: expected ( after >>>")
        e = _match_forward(code, r)
        if e < 0:
            raise RewriteError(f"line {_line_of(src, p)}: unbalanced parentheses in kernel arguments")
        args = src[r + 1:e]
        while len(cfg) < 4:
            cfg.append("0")
        name = _c_string(re.sub(r"\s+", "", kexpr))
        kcall = " ".join(kexpr.replace("\\\n", " ").split())
        # keep every newline of the original span so that line numbers stay right
        gap = src[q + 3:r]
        nl_gap = "\\\n" * gap.count("\\\n") + "\n" * (gap.count("\n") - gap.count("\\\n"))
        nl_kernel = "\n" * src[start:p].count("\n")
        text = (f"__pl_launch({name}, {cfg[0]}, {cfg[1]}, {cfg[2]}, {cfg[3]}, "
                f"[&](auto&... __pl_kargs) {{ {kcall}(__pl_kargs...); }}{nl_kernel}{nl_gap}")
        if args.strip():
            text += ", " + args
        else:
            text += args  # keep its newlines
        text += ")"
        edits.append((start, e + 1, text))


def _strip_words(text: str, words: tuple[str, ...]) -> str:
    for w in words:
        text = re.sub(r"\b" + w + r"\b", " ", text)
    return text


def _strip_align(text: str) -> str:
    out, k = [], 0
    for m in re.finditer(r"\b(__align__|alignas|__attribute__)\s*\(", text):
        if m.start() < k:
            continue
        o = m.end() - 1
        c = _match_forward(text, o)
        if c < 0:
            continue
        out.append(text[k:m.start()])
        k = c + 1
    out.append(text[k:])
    return "".join(out)


def _declarator_name(decl: str) -> tuple[str, str, str] | None:
    """(prefix, name, suffix) of a declaration like 'volatile float s[32][33]'."""
    # the name is the last identifier before the first top-level '[' (or the end)
    depth, cut = 0, len(decl)
    for k, c in enumerate(decl):
        if c in "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "[" and depth == 0:
            cut = k
            break
        elif c == "=" and depth == 0:
            cut = k
            break
    head = decl[:cut]
    # ignore identifiers inside parentheses (attributes) for the name search
    masked = list(head)
    depth = 0
    for k, c in enumerate(head):
        if c == "(":
            depth += 1
        if depth:
            masked[k] = " "
        if c == ")":
            depth -= 1
    ids = list(_IDENT.finditer("".join(masked)))
    if not ids:
        return None
    m = ids[-1]
    return head[:m.start()], m.group(0), decl[m.end():]


def _shared_statement_bounds(code: str, pos: int) -> tuple[int, int]:
    s = pos
    while s > 0 and code[s - 1] not in ";{}":
        if code[s - 1] == "\n":
            # a preprocessor line ends a statement; a #define body starts after its name
            line_start = code.rfind("\n", 0, s - 1) + 1
            if code[line_start:s - 1].lstrip().startswith("#"):
                break
        s -= 1
    # inside a #define on the same line: start after "#define NAME(args)"
    line_start = code.rfind("\n", 0, pos) + 1
    m = re.match(r"[ \t]*#[ \t]*define[ \t]+\w+(\([^)]*\))?", code[line_start:pos])
    if m:
        s = max(s, line_start + m.end())
    e = pos
    depth = 0
    while e < len(code):
        c = code[e]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ";" and depth == 0:
            break
        e += 1
    return s, e


def _rewrite_shared(src: str, code: str, scopes: _ScopeIndex, edits: list[tuple[int, int, str]]) -> None:
    seen_ends: set[int] = set()
    for m in re.finditer(r"\b__shared__\b", code):
        s, e = _shared_statement_bounds(code, m.start())
        if e in seen_ends or e >= len(code):
            continue
        seen_ends.add(e)
        stmt = src[s:e]
        stmt_code = code[s:e]
        lead = len(stmt_code) - len(stmt_code.lstrip())
        is_extern = re.search(r"\bextern\b", stmt_code) is not None
        body = _strip_words(stmt_code, ("__shared__", "extern", "static"))
        if is_extern:
            body = _strip_align(body)
        nl = "\n" * stmt[lead:].count("\n")  # the leading whitespace is kept as it is
        local = scopes.in_function(m.start())
        out: list[str] = []
        defines: list[str] = []
        base_prefix = None
        for a, b in _split_decl(body):
            decl = body[a:b]
            if not decl.strip():
                continue
            parts = _declarator_name(decl)
            if parts is None:
                raise RewriteError(f"line {_line_of(src, m.start())}: cannot parse __shared__ declaration {stmt.strip()!r}")
            prefix, name, suffix = parts
            if base_prefix is None:
                base_prefix = prefix.rstrip().rstrip("*&").rstrip()
                full_prefix = prefix
            else:
                full_prefix = base_prefix + " " + prefix
            full_prefix = " ".join(full_prefix.split())
            suffix = " ".join(suffix.split())
            tname = f"__pl_shT_{name}"
            if is_extern:
                suffix = re.sub(r"^\s*\[\s*0?\s*\]", "", suffix)
                out.append(f"typedef {full_prefix} {tname}{suffix};")
                if local:
                    out.append(f"{tname}* {name} = ({tname}*)::paralift_cuda::dynamic_shared();")
                else:
                    defines.append(f"#define {name} (({tname}*)::paralift_cuda::dynamic_shared())")
            else:
                out.append(f"typedef {full_prefix} {tname}{suffix};")
                alloc = (f"*({tname}*)::paralift_cuda::static_shared(&__pl_shK_{name}, sizeof({tname}), "
                         f"alignof({tname}))")
                if local:
                    out.append(f"static char __pl_shK_{name}; {tname}& {name} = {alloc};")
                else:
                    out.append(f"static inline {tname}& __pl_shG_{name}() {{ static char __pl_shK_{name}; "
                               f"return {alloc}; }}")
                    defines.append(f"#define {name} (__pl_shG_{name}())")
        text = stmt[:lead] + " ".join(out)
        if defines:
            line = _line_of(src, e)
            # the ';' stays; the #defines go on lines of their own, then #line restores numbering
            after = src.find("\n", e)
            rest_end = len(src) if after < 0 else after
            edits.append((s, e, text + nl))
            edits.append((rest_end, rest_end, "\n" + "\n".join(defines) + f"\n#line {line + 1}"))
        else:
            edits.append((s, e, text + nl))


def _apply(src: str, edits: list[tuple[int, int, str]]) -> str:
    edits = sorted(edits, key=lambda t: (t[0], t[1]))
    out, k = [], 0
    for a, b, text in edits:
        if a < k:
            raise RewriteError("overlapping rewrites (a launch or __shared__ declaration inside another)")
        out.append(src[k:a])
        out.append(text)
        k = b
    out.append(src[k:])
    return "".join(out)


def rewrite(source: str) -> str:
    """.cu text -> C++ text for g++ -std=c++17 -fopenmp -I include_dir().

    The result starts with ``#include "paralift_cuda.h"``.  Unsupported
    features become ``#error "unsupported on CPU emulation: X"`` lines.
    Raises RewriteError on launch syntax it cannot parse.
    """
    code = blank_non_code(source)
    scopes = _ScopeIndex(code)
    edits: list[tuple[int, int, str]] = []
    _rewrite_launches(source, code, edits)
    _rewrite_shared(source, code, scopes, edits)
    for m in re.finditer(r"\b__noinline__\b", code):
        edits.append((m.start(), m.end(), "__attribute__((noinline))"))
    # the runtime's cooperative_groups.h holds reduce and scan as well
    for start, end, path in _includes(source, code):
        if path in ("cooperative_groups/reduce.h", "cooperative_groups/scan.h"):
            edits.append((start, end, "#include <cooperative_groups.h>"))
    body = _apply(source, edits)
    head = [f'#include "{HEADER}"']
    for feat in unsupported_features(source):
        head.append(f'#error "unsupported on CPU emulation: {feat}"')
    head.append("#line 1")
    return "\n".join(head) + "\n" + body
