"""A file's build settings from its project's compile_commands.json (clangd's convention).

`find_project(source, project_dir)` returns the `Project` of one source file: the
compile_commands.json used, and the flags the file needs to build (include paths
made absolute, defines, the language standard and code-generation flags; never
outputs, dependency files, optimization levels, warnings, sanitizers or OpenMP,
which the sandbox sets itself). Those flags travel on `Task.build_flags` to every
build in the sandbox, and `analysis_context(project)` lends the analysis (tree-sitter
sees only the file) the macros that the project's headers and `-D` flags define.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from paralift.errors import UsageError

DB_NAME = "compile_commands.json"

# Flags that take their value as the next argument when not joined.
_PATH_FLAGS = ("-isystem", "-iquote", "-idirafter", "-include", "-imacros", "-I")
_VALUE_FLAGS = ("-D", "-U")
_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".C", ".cu")
_DROP_WITH_ARG = {"-o", "-MF", "-MT", "-MQ", "-x", "-arch", "--param", "-Xclang", "-Xlinker", "-Xpreprocessor",
                  "-target", "--target", "-Xassembler", "-aux-info"}
# -f flags that the sandbox decides (OpenMP, sanitizers, coverage, LTO) or that only change diagnostics.
_DROP_F = ("-fopenmp", "-fsanitize", "-fno-sanitize", "-fprofile", "-fcoverage", "-ftest-coverage", "-flto",
           "-fdiagnostics", "-fcolor-diagnostics", "-fno-color-diagnostics", "-fmessage-length", "-fdump",
           "-fopt-info", "-fstack-usage", "-fcallgraph-info", "-fsyntax-only", "-fno-diagnostics")


@dataclass
class Project:
    database: Path                      # the compile_commands.json used
    flags: tuple[str, ...]              # what the file needs to build, in the order given
    directory: Path                     # the entry's working directory
    source: Path
    note: str = ""                      # how the entry was chosen, for the report
    dropped: list[str] = field(default_factory=list)
    compiler: str = ""                  # the entry's compiler (runs the preprocessor for project_macros)

    def describe(self) -> str:
        return f"build flags from {self.database}{' (' + self.note + ')' if self.note else ''}: " + \
            (" ".join(self.flags) or "none")


def preprocessor_flags(flags, nvcc: bool = False) -> list[str]:
    """Of `flags`, the include paths and defines alone (for nvcc and the CUDA
    emulation, which set their own standard and code generation). `nvcc` knows
    -I, -isystem and -include only: -iquote and -idirafter folders become -I."""
    out, it = [], iter(flags)
    for f in it:
        if f in ("-isystem", "-iquote", "-idirafter", "-include", "-imacros"):
            value = next(it, "")
            if not nvcc or f in ("-isystem", "-include"):
                out += [f, value]
            elif f != "-imacros":
                out.append("-I" + value)
        elif f.startswith(("-I", "-D", "-U")):
            out.append(f)
    return out


def with_flags(argv: list[str], flags, cuda: bool = False) -> list[str]:
    """A compile step of a build command with the project's flags after the
    compiler (`cuda`: include paths and defines only, nvcc and the emulation set
    the rest); link steps and others unchanged."""
    if not flags or not any(a.endswith(_SOURCES) for a in argv[1:]) or "cuda-emulate" in argv:
        return argv
    extra = preprocessor_flags(flags, nvcc="nvcc" in Path(argv[0]).name) if cuda else list(flags)
    return [argv[0], *extra, *argv[1:]]


def _entry_args(entry: dict) -> list[str]:
    if isinstance(entry.get("arguments"), list):
        return [str(a) for a in entry["arguments"]]
    if isinstance(entry.get("command"), str):
        return shlex.split(entry["command"])
    return []


def _entry_dir(entry: dict, db: Path) -> Path:
    """The entry's working directory; a relative one (a database checked into a
    repository) is relative to the database's folder."""
    d = entry.get("directory")
    return Path(os.path.normpath(os.path.join(db.resolve().parent, d if isinstance(d, str) else ".")))


def _entry_file(entry: dict, db: Path) -> Path | None:
    f = entry.get("file")
    if not isinstance(f, str):
        return None
    return Path(os.path.normpath(os.path.join(_entry_dir(entry, db), f)))


def extract_flags(args: list[str], directory: Path, source: Path) -> tuple[list[str], list[str]]:
    """(kept, dropped) of one compile command's arguments (the compiler first)."""
    kept: list[str] = []
    dropped: list[str] = []

    def absolute(p: str) -> str:
        return os.path.normpath(os.path.join(directory, p))

    i, args = 1, list(args)
    while i < len(args):
        a = args[i]
        nxt = args[i + 1] if i + 1 < len(args) else None
        i += 1
        path_flag = next((f for f in _PATH_FLAGS if a == f or a.startswith(f)), None)
        if path_flag is not None:
            value = a[len(path_flag):]
            if not value:
                if nxt is None:
                    continue
                value, i = nxt, i + 1
            kept += [path_flag, absolute(value)] if path_flag != "-I" else ["-I" + absolute(value)]
        elif a in _VALUE_FLAGS and nxt is not None:
            kept.append(a + nxt)
            i += 1
        elif a.startswith(_VALUE_FLAGS) or a.startswith("-std=") or a == "-pthread" or a.startswith("-m"):
            kept.append(a)
        elif a.startswith("-f") and not a.startswith(_DROP_F):
            kept.append(a)
        elif a in _DROP_WITH_ARG:
            dropped += [a, nxt or ""]
            i += 1
        elif a.startswith("-"):
            dropped.append(a)       # -c, -O*, -g, -W*, -M*, output and dependency flags
        elif absolute(a) == str(source) or a.endswith(_SOURCES):
            continue                # the source itself
        else:
            dropped.append(a)
    return kept, dropped


def _load(db: Path) -> list[dict]:
    try:
        data = json.loads(db.read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{db} is not a readable compile_commands.json ({e})") from None
    if not isinstance(data, list):
        raise UsageError(f"{db} is not a compile_commands.json (expected a list of entries)")
    return [e for e in data if isinstance(e, dict)]


def _same_family(a: Path, b: Path) -> bool:
    cpp = {".cc", ".cpp", ".cxx", ".c++", ".C", ".cu"}
    return (a.suffix in cpp) == (b.suffix in cpp)


def project_of(source: Path, db: Path, interpolate: bool) -> Project | None:
    """The Project of `source` from database `db`: its entry, matched by absolute
    path; with `interpolate` (the user named the database), a file without an entry
    borrows the flags of the entry nearest to it in the tree, as clangd does."""
    src = Path(os.path.normpath(source.resolve()))
    entries = _load(db)
    files = [(e, _entry_file(e, db)) for e in entries]
    files = [(e, f) for e, f in files if f is not None]
    match = [(e, f) for e, f in files if f.resolve() == src]
    note = ""
    if not match:
        if not interpolate:
            return None
        near = [(e, f) for e, f in files if _same_family(f, src)] or files
        if not near:
            raise UsageError(f"{db} has no compile commands")
        match = [max(near, key=lambda ef: len(os.path.commonpath([str(ef[1].resolve()), str(src)])))]
        note = f"{src.name} has no entry; flags of {match[0][1].name}"
    entry, efile = match[0]
    directory = _entry_dir(entry, db)
    kept, dropped = extract_flags(_entry_args(entry), directory, efile)
    if quoted_includes(src):
        # the sandbox builds a copy of the file elsewhere: its own folder is searched
        # for "quoted" headers as the compiler would search it beside the original
        kept += ["-iquote", str(src.parent)]
    args = _entry_args(entry)
    return Project(db.resolve(), tuple(kept), directory, src, note, dropped, args[0] if args else "")


def quoted_includes(src: Path) -> bool:
    try:
        return re.search(r'^\s*#\s*include\s*"', src.read_text(errors="replace"), re.M) is not None
    except OSError:
        return False


def find_database(source: Path) -> list[Path]:
    """compile_commands.json files that apply to `source` when no -p is given,
    nearest first: in each folder from the file's up to the root, and in that
    folder's build/."""
    out = []
    d = source.resolve().parent
    for folder in [d, *d.parents]:
        for cand in (folder / DB_NAME, folder / "build" / DB_NAME):
            if cand.is_file():
                out.append(cand)
    return out


def find_project(source: Path, project_dir: Path | None = None) -> Project | None:
    """The build settings of `source`: from `project_dir`'s compile_commands.json
    (`-p DIR`, or the file itself), else from the nearest database that has an
    entry for the file; None when there is none."""
    if project_dir is not None:
        db = project_dir / DB_NAME if project_dir.is_dir() else project_dir
        if not db.is_file():
            raise UsageError(f"no {DB_NAME} in {project_dir} (generate one with "
                             f"cmake -DCMAKE_EXPORT_COMPILE_COMMANDS=ON, or bear -- make)")
        return project_of(source, db, interpolate=True)
    for db in find_database(source):
        try:
            p = project_of(source, db, interpolate=False)
        except UsageError:
            continue        # a broken database we were not asked to use
        if p is not None:
            return p
    return None


# ------------------------------------------------------------------ analysis

@dataclass
class Macros:
    objects: dict[str, str] = field(default_factory=dict)     # name -> value, other macros expanded
    functions: set[str] = field(default_factory=set)


_DEFINE = re.compile(r"#define\s+(\w+)(\([^)]*\))?\s*(.*)$")
_MARKER = re.compile(r'#\s+\d+\s+"((?:[^"\\]|\\.)*)"((?:\s+\d)*)\s*$')


def project_macros(project: Project, language: str) -> Macros:
    """The macros the file sees from its project: those its -D flags and its
    non-system headers define (the preprocessor is run on the file with the
    project's flags, so #if and #ifdef are resolved as in the real build).
    Object macros' values have the other macros expanded, so `N*M` reads as
    a number. The file's own #defines are the analysis's (tree-sitter)."""
    # the project's own compiler when it is here (its predefined macros and search paths), else gcc's
    cc = shutil.which(project.compiler) if project.compiler else None
    cc = cc or shutil.which(os.environ.get("CXX" if language == "cpp" else "CC") or "") or \
        shutil.which("g++" if language == "cpp" else "gcc")
    if not cc:
        return Macros()
    try:
        r = subprocess.run([cc, *project.flags, "-E", "-dD", str(project.source)], capture_output=True,
                           text=True, timeout=60, cwd=str(project.directory) if project.directory.is_dir() else None)
    except (OSError, subprocess.TimeoutExpired):
        return Macros()
    if r.returncode != 0:
        return Macros()
    raw: dict[str, str] = {}
    functions: set[str] = set()
    current, system = "", False
    src = str(project.source)
    for line in r.stdout.splitlines():
        m = _MARKER.match(line)
        if m:
            current, system = m.group(1), "3" in m.group(2).split()
            continue
        if not line.startswith("#"):
            continue
        if line.startswith("#undef"):
            name = line.split()[1] if len(line.split()) > 1 else ""
            raw.pop(name, None)
            functions.discard(name)
            continue
        d = _DEFINE.match(line)
        if not d or system or current == "<built-in>" or os.path.normpath(current) == src:
            continue
        if d.group(2):
            functions.add(d.group(1))
        else:
            raw[d.group(1)] = d.group(3).strip()
    return Macros({k: _expand(v, raw) for k, v in raw.items()}, functions)


def _expand(value: str, macros: dict[str, str], depth: int = 0) -> str:
    if depth > 16:
        return value
    return re.sub(r"\b[A-Za-z_]\w*\b",
                  lambda m: "(" + _expand(macros[m.group(0)], macros, depth + 1) + ")"
                  if m.group(0) in macros and macros[m.group(0)] != m.group(0) else m.group(0), value)


@contextlib.contextmanager
def analysis_context(project: Project | None, language: str):
    """Within it, the analysis sees the project's macros (see project_macros)."""
    if project is None:
        yield
        return
    from paralift.agents import analysis, frontend
    macros = project_macros(project, language)
    # analyze() caches by source text: facts drawn without the project's macros must not be reused
    analysis._CACHE.clear()
    try:
        with frontend.project_macros(macros.objects, macros.functions):
            yield
    finally:
        analysis._CACHE.clear()
