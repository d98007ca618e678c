"""C/C++ front end on tree-sitter: parsing, signatures and a model of one function.

The model records, for one function definition, its declarations (with scopes
resolved), its loops (as a tree), every array access (with its subscript as an
affine polynomial when it is one), every scalar read/write, calls, early exits
and any construct the analysis does not understand.  Later passes
(paralift.agents.analysis / dependence) decide what may run in parallel.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import tree_sitter_c
import tree_sitter_cpp
from tree_sitter import Language, Node, Parser

from paralift.types import Param, ParamKind, Role, Signature

from .base import AnalysisError
from .poly import Poly

# ---------------------------------------------------------------------------
# parsing
# ---------------------------------------------------------------------------

_C_EXT = {".c", ".h"}
_CPP_EXT = {".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".cu"}


def detect_language(path: str | None, source: str) -> str:
    """"c" or "cpp": by file extension when there is one, else by content."""
    if path:
        p = str(path).lower()
        for ext in _CPP_EXT:
            if p.endswith(ext):
                return "cpp"
        for ext in _C_EXT:
            if p.endswith(ext):
                return "c"
    cpp_markers = (r"\bstd::", r"#\s*include\s*<(vector|iostream|cmath|algorithm|numeric|array|string)>",
                   r"\btemplate\s*<", r"\bclass\s+\w+", r"\bnamespace\b", r"\busing\s+namespace\b",
                   r"\b\w+\s*&\s*\w+\s*[,)]")
    for pat in cpp_markers:
        if re.search(pat, source):
            return "cpp"
    return "c"


@lru_cache(maxsize=2)
def _language(language: str) -> Language:
    if language == "c":
        return Language(tree_sitter_c.language())
    if language == "cpp":
        return Language(tree_sitter_cpp.language())
    raise AnalysisError(f"unknown language {language!r} (expected 'c' or 'cpp')")


def parse(source: str, language: str):
    """Parse `source`; raise AnalysisError on the first syntax error."""
    parser = Parser(_language(language))
    data = source.encode("utf-8")
    tree = parser.parse(data)
    root = tree.root_node
    if root.has_error:
        bad = _first_error(root)
        if bad is not None:
            line = bad.start_point[0] + 1
            snippet = data[bad.start_byte:bad.end_byte].decode("utf-8", "replace").strip().splitlines()
            what = f" near '{snippet[0][:40]}'" if snippet and snippet[0] else ""
            kind = "missing token" if bad.is_missing else "syntax error"
            raise AnalysisError(f"parse error ({language}): {kind} at line {line}{what}")
        raise AnalysisError(f"parse error ({language})")
    return tree, data


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for ch in node.children:
        if ch.has_error or ch.is_missing or ch.type == "ERROR":
            found = _first_error(ch)
            if found is not None:
                return found
    return None


def text(node: Node | None) -> str:
    if node is None:
        return ""
    return node.text.decode("utf-8", "replace")


def line_of(node: Node) -> int:
    return node.start_point[0] + 1


# ---------------------------------------------------------------------------
# types
# ---------------------------------------------------------------------------

_SCALAR_TYPES = {
    "char", "signed char", "unsigned char", "short", "unsigned short", "int", "unsigned int",
    "long", "unsigned long", "long long", "unsigned long long", "float", "double", "long double",
    "size_t", "ssize_t", "ptrdiff_t", "bool", "_Bool",
    "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
}
_UNSIGNED_TYPES = {t for t in _SCALAR_TYPES if t.startswith("unsigned") or t.startswith("uint")} | {"size_t", "bool", "_Bool"}
INTEGER_TYPES = _SCALAR_TYPES - {"float", "double", "long double"}
FLOAT_TYPES = {"float", "double", "long double"}


def normalize_type(words: str) -> str:
    """'unsigned' -> 'unsigned int', 'long int' -> 'long', 'std::size_t' -> 'size_t'."""
    w = words.replace("std::", "").split()
    w = [x for x in w if x not in ("signed",)] if words.split() != ["signed", "char"] else w
    if not w:
        return "int"
    s = " ".join(w)
    if s == "signed char":
        return s
    unsigned = "unsigned" in w
    rest = [x for x in w if x != "unsigned"]
    if rest and rest[-1] == "int" and len(rest) > 1:
        rest = rest[:-1]
    core = " ".join(rest) if rest else "int"
    return f"unsigned {core}" if unsigned else core


def is_unsigned(t: str) -> bool:
    return t in _UNSIGNED_TYPES


# ---------------------------------------------------------------------------
# translation unit: macros, typedefs, globals, functions
# ---------------------------------------------------------------------------

@dataclass
class Unit:
    source: str
    language: str
    data: bytes
    root: Node
    object_macros: dict[str, str] = field(default_factory=dict)
    function_macros: set[str] = field(default_factory=set)
    typedefs: dict[str, str] = field(default_factory=dict)      # name -> scalar type
    globals: dict[str, str] = field(default_factory=dict)       # name -> declared type text
    enumerators: set[str] = field(default_factory=set)
    functions: dict[str, Node] = field(default_factory=dict)    # free function definitions
    templates: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)

    def macro_int(self, name: str) -> int | None:
        v = self.object_macros.get(name)
        if v is None:
            return None
        v = v.strip()
        if re.fullmatch(r"[\s()0-9+\-*/%xXa-fA-FuUlL]+", v or "x"):
            try:
                expr = re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", v).replace("/", "//")
                val = eval(compile(expr, "<macro>", "eval"), {"__builtins__": {}}, {})  # literals only
                return int(val)
            except Exception:
                return None
        return None


def load_unit(source: str, language: str) -> Unit:
    tree, data = parse(source, language)
    u = Unit(source=source, language=language, data=data, root=tree.root_node)
    _scan_top(u, tree.root_node, in_template=False)
    _add_project_macros(u)
    return u


# Macros the file sees from its project's headers and -D flags (paralift.project):
# tree-sitter does not preprocess, so they are lent in; the file's own #defines win.
_PROJECT_MACROS: tuple[dict[str, str], set[str]] = ({}, set())


@contextlib.contextmanager
def project_macros(objects: dict[str, str], functions: set[str]):
    global _PROJECT_MACROS
    saved, _PROJECT_MACROS = _PROJECT_MACROS, (dict(objects), set(functions))
    try:
        yield
    finally:
        _PROJECT_MACROS = saved


def _add_project_macros(u: Unit) -> None:
    objects, functions = _PROJECT_MACROS
    own = set(u.object_macros) | u.function_macros
    u.object_macros.update({k: v for k, v in objects.items() if k not in own})
    u.function_macros |= {f for f in functions if f not in own}


def _scan_top(u: Unit, node: Node, in_template: bool) -> None:
    for ch in node.named_children:
        t = ch.type
        if t == "preproc_def":
            name = text(ch.child_by_field_name("name"))
            u.object_macros[name] = text(ch.child_by_field_name("value"))
        elif t == "preproc_function_def":
            u.function_macros.add(text(ch.child_by_field_name("name")))
        elif t in ("preproc_ifdef", "preproc_if", "preproc_else", "preproc_elif", "linkage_specification",
                   "declaration_list", "namespace_definition"):
            body = ch.child_by_field_name("body")
            _scan_top(u, body if body is not None else ch, in_template)
        elif t == "type_definition":
            ty = ch.child_by_field_name("type")
            if ty is not None and ty.type == "enum_specifier":
                _scan_enum(u, ty)
            for d in ch.children_by_field_name("declarator"):
                if d.type in ("type_identifier", "primitive_type") and ty is not None and ty.type in (
                        "primitive_type", "sized_type_specifier"):
                    u.typedefs[text(d)] = normalize_type(text(ty))
        elif t == "alias_declaration":
            name = text(ch.child_by_field_name("name"))
            ty = ch.child_by_field_name("type")
            if ty is not None:
                tt = normalize_type(text(ty))
                if tt in _SCALAR_TYPES:
                    u.typedefs[name] = tt
        elif t == "template_declaration":
            for sub in ch.named_children:
                if sub.type == "function_definition":
                    n = _function_name(sub)
                    if n:
                        u.templates.add(n)
                elif sub.type in ("class_specifier", "struct_specifier"):
                    _scan_class(u, sub)
        elif t == "function_definition":
            name = _function_name(ch)
            if name is None:
                continue
            if "::" in name:
                u.methods.add(name.split("::")[-1])
                u.methods.add(name)
            else:
                u.functions[name] = ch
        elif t == "declaration":
            ty = ch.child_by_field_name("type")
            for d in ch.children_by_field_name("declarator"):
                if d.type == "function_declarator":
                    continue
                nm = _declarator_name(d)
                if nm:
                    u.globals[nm] = text(ty)
            if ty is not None and ty.type == "enum_specifier":
                _scan_enum(u, ty)
        elif t in ("enum_specifier",):
            _scan_enum(u, ch)
        elif t in ("class_specifier", "struct_specifier", "union_specifier"):
            _scan_class(u, ch)
            if t == "enum_specifier":
                _scan_enum(u, ch)
        elif t == "expression_statement":
            pass


def _scan_enum(u: Unit, node: Node) -> None:
    body = node.child_by_field_name("body")
    if body is None:
        return
    for e in body.named_children:
        if e.type == "enumerator":
            u.enumerators.add(text(e.child_by_field_name("name")))


def _scan_class(u: Unit, node: Node) -> None:
    body = node.child_by_field_name("body")
    if body is None:
        return
    for m in body.named_children:
        if m.type == "function_definition":
            n = _function_name(m)
            if n:
                u.methods.add(n)
        elif m.type == "template_declaration":
            for sub in m.named_children:
                if sub.type == "function_definition":
                    n = _function_name(sub)
                    if n:
                        u.methods.add(n)


def _function_declarator(fn: Node) -> Node | None:
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type in ("pointer_declarator", "reference_declarator", "parenthesized_declarator",
                                       "attributed_declarator"):
        nxt = d.child_by_field_name("declarator")
        if nxt is None:
            nxt = next((c for c in d.named_children if c.type.endswith("declarator")), None)
        d = nxt
    if d is not None and d.type == "function_declarator":
        return d
    return None


def _function_name(fn: Node) -> str | None:
    d = _function_declarator(fn)
    if d is None:
        return None
    nm = d.child_by_field_name("declarator")
    if nm is None:
        return None
    if nm.type in ("identifier", "field_identifier"):
        return text(nm)
    if nm.type in ("qualified_identifier", "destructor_name", "operator_name"):
        return text(nm)
    return None


def _declarator_name(d: Node | None) -> str | None:
    while d is not None:
        if d.type in ("identifier", "field_identifier"):
            return text(d)
        nxt = d.child_by_field_name("declarator")
        if nxt is None:
            nxt = next((c for c in d.named_children if c.type in ("identifier",) or c.type.endswith("declarator")), None)
        d = nxt
    return None


# ---------------------------------------------------------------------------
# signatures
# ---------------------------------------------------------------------------

@dataclass
class ParamInfo:
    param: Param
    type_text: str            # the parameter declaration as written
    restrict: bool = False
    by_value_vector: bool = False


def _type_words(u: Unit, ty: Node) -> tuple[str | None, str]:
    """(scalar base type or None, description) of a type node."""
    t = ty.type
    if t in ("primitive_type", "sized_type_specifier"):
        return normalize_type(text(ty)), text(ty)
    if t == "type_identifier":
        name = text(ty)
        if name in u.typedefs:
            return u.typedefs[name], name
        if normalize_type(name) in _SCALAR_TYPES:
            return normalize_type(name), name
        return None, name
    if t == "qualified_identifier":
        name = text(ty).replace(" ", "")
        if name.startswith("std::") and normalize_type(name[5:]) in _SCALAR_TYPES:
            return normalize_type(name[5:]), name
        return None, name
    return None, text(ty)


def _vector_elem(u: Unit, ty: Node) -> tuple[bool, str | None, str]:
    """(is std::vector, element scalar type or None, description)."""
    node = ty
    if node.type == "qualified_identifier":
        scope = text(node.child_by_field_name("scope"))
        name = node.child_by_field_name("name")
        if scope != "std" or name is None:
            return False, None, text(ty)
        node = name
    if node.type != "template_type":
        return False, None, text(ty)
    if text(node.child_by_field_name("name")) != "vector":
        return False, None, text(ty)
    args = node.child_by_field_name("arguments")
    descs = [a for a in args.named_children] if args is not None else []
    if len(descs) != 1 or descs[0].type != "type_descriptor":
        return True, None, text(ty)
    inner = descs[0].child_by_field_name("type")
    quals = [text(c) for c in descs[0].named_children if c.type == "type_qualifier"]
    if inner is None or descs[0].child_by_field_name("declarator") is not None or quals:
        return True, None, text(ty)
    base, desc = _type_words(u, inner)
    return True, base, text(ty)


def parse_params(u: Unit, fn: Node, fname: str) -> tuple[list[ParamInfo], str]:
    fdecl = _function_declarator(fn)
    plist = fdecl.child_by_field_name("parameters") if fdecl is not None else None
    if plist is None:
        raise AnalysisError(f"function '{fname}': cannot read its parameter list")
    # K&R: identifiers in the parameter list and declarations before the body
    if any(c.type == "identifier" for c in plist.named_children) or any(
            c.type == "declaration" for c in fn.named_children):
        raise AnalysisError(f"function '{fname}' uses a K&R-style (old-style) declaration, which is not supported")
    out: list[ParamInfo] = []
    for pd in plist.named_children:
        if pd.type in ("comment",):
            continue
        if pd.type == "variadic_parameter" or text(pd) == "...":
            raise AnalysisError(f"unsupported parameter type in '{fname}': variadic '...'")
        if pd.type == "optional_parameter_declaration":
            pass
        elif pd.type != "parameter_declaration":
            raise AnalysisError(f"unsupported parameter in '{fname}': {text(pd)}")
        ty = pd.child_by_field_name("type")
        decl = pd.child_by_field_name("declarator")
        if ty is not None and ty.type == "primitive_type" and text(ty) == "void" and decl is None:
            continue
        out.append(_one_param(u, pd, ty, decl, fname))
    ret = fn.child_by_field_name("type")
    return out, text(ret)


def _one_param(u: Unit, pd: Node, ty: Node | None, decl: Node | None, fname: str) -> ParamInfo:
    ptext = " ".join(text(pd).split())
    bad = f"unsupported parameter type in '{fname}': '{ptext}'"
    if ty is None:
        raise AnalysisError(bad)
    if ty.type == "type_identifier" and text(ty) in u.object_macros:
        raise AnalysisError(f"parameter '{ptext}' of '{fname}' uses macro '{text(ty)}', which the analysis does not expand")
    top_quals = {text(c) for c in pd.named_children if c.type == "type_qualifier"}
    const = "const" in top_quals
    if "volatile" in top_quals:
        raise AnalysisError(bad + " (volatile)")
    # declarator chain
    ptr_depth = 0
    arr_depth = 0
    ref = False
    restrict = False
    ptr_const = False
    d = decl
    name = None
    while d is not None:
        if d.type == "identifier":
            name = text(d)
            break
        if d.type == "pointer_declarator":
            ptr_depth += 1
            q = {text(c) for c in d.named_children if c.type == "type_qualifier"}
            if q & {"restrict", "__restrict", "__restrict__"} or "restrict" in text(d).split("*", 1)[-1].split()[:1]:
                restrict = True
            if "const" in q:
                ptr_const = True
        elif d.type == "array_declarator":
            arr_depth += 1
        elif d.type == "reference_declarator":
            if "&&" in text(d):
                raise AnalysisError(bad + " (rvalue reference)")
            ref = True
        elif d.type in ("function_declarator", "abstract_function_declarator"):
            raise AnalysisError(bad + " (function pointer)")
        elif d.type == "parenthesized_declarator":
            pass
        else:
            raise AnalysisError(bad)
        nxt = d.child_by_field_name("declarator")
        if nxt is None:
            nxt = next((c for c in d.named_children if c.type == "identifier" or c.type.endswith("declarator")), None)
        d = nxt
    if name is None:
        raise AnalysisError(f"parameter '{ptext}' of '{fname}' has no name")
    del ptr_const
    is_vec, vec_elem, vdesc = _vector_elem(u, ty)
    if is_vec:
        if ptr_depth or arr_depth:
            raise AnalysisError(bad)
        if vec_elem is None or vec_elem in ("bool", "_Bool"):
            raise AnalysisError(bad + " (only std::vector of arithmetic types other than bool is supported)")
        if not ref:
            raise AnalysisError(bad + " (std::vector passed by value; pass it by reference)")
        p = Param(name=name, base_type=vec_elem, kind=ParamKind.VECTOR, const=const,
                  role=Role.IN if const else Role.INOUT)
        return ParamInfo(p, ptext)
    base, desc = _type_words(u, ty)
    if base is None:
        raise AnalysisError(bad)
    if base == "void":
        raise AnalysisError(bad + " (void pointer)")
    if ptr_depth + arr_depth >= 2:
        raise AnalysisError(bad + " (2-D arrays and pointers to pointers are not supported; flatten to T*)")
    if ptr_depth + arr_depth == 1:
        if ref:
            raise AnalysisError(bad)
        if base == "char" and not ("unsigned" in desc or "signed" in desc):
            raise AnalysisError(bad + " (char* strings are not supported)")
        p = Param(name=name, base_type=base, kind=ParamKind.POINTER, const=const,
                  role=Role.IN if const else Role.INOUT)
        return ParamInfo(p, ptext, restrict=restrict)
    if ref:
        if const:
            return ParamInfo(Param(name=name, base_type=base, kind=ParamKind.SCALAR, const=True, role=Role.IN), ptext)
        return ParamInfo(Param(name=name, base_type=base, kind=ParamKind.REF, const=False, role=Role.INOUT), ptext)
    return ParamInfo(Param(name=name, base_type=base, kind=ParamKind.SCALAR, const=const, role=Role.IN), ptext)


def signature_of(u: Unit, fn: Node, name: str, strict: bool = True) -> Signature:
    """The Signature of a function definition (params as declared; roles/extents filled later)."""
    static = any(c.type == "storage_class_specifier" and text(c) == "static" for c in fn.named_children)
    body = fn.child_by_field_name("body")
    head = u.data[fn.start_byte:body.start_byte if body is not None else fn.end_byte].decode("utf-8", "replace")
    head = " ".join(head.split())
    try:
        infos, ret = parse_params(u, fn, name)
        params = [i.param for i in infos]
    except AnalysisError:
        if strict:
            raise
        params, ret = [], text(fn.child_by_field_name("type"))
    rt = fn.child_by_field_name("type")
    ret_words = text(rt)
    d = fn.child_by_field_name("declarator")
    if d is not None and d.type == "pointer_declarator":
        ret_words += " *"
    return Signature(name=name, return_type=" ".join(ret_words.split()), params=params, text=head,
                     static=static, start_line=line_of(fn), end_line=fn.end_point[0] + 1)


# ---------------------------------------------------------------------------
# function model
# ---------------------------------------------------------------------------

PURE_FUNCTIONS = {
    "sqrt", "sqrtf", "cbrt", "cbrtf", "exp", "expf", "exp2", "exp2f", "expm1", "log", "logf", "log2", "log2f",
    "log10", "log10f", "log1p", "pow", "powf", "sin", "cos", "tan", "sinf", "cosf", "tanf", "asin", "acos",
    "atan", "atan2", "asinf", "acosf", "atanf", "atan2f", "sinh", "cosh", "tanh", "sinhf", "coshf", "tanhf",
    "fabs", "fabsf", "fmin", "fmax", "fminf", "fmaxf", "floor", "ceil", "floorf", "ceilf", "round", "roundf",
    "trunc", "truncf", "fmod", "fmodf", "hypot", "hypotf", "erf", "erff", "erfc", "copysign", "abs", "labs",
    "llabs", "isnan", "isinf", "isfinite", "signbit", "fma", "fmaf", "min", "max",
    "std::sqrt", "std::cbrt", "std::exp", "std::exp2", "std::expm1", "std::log", "std::log2", "std::log10",
    "std::log1p", "std::pow", "std::sin", "std::cos", "std::tan", "std::asin", "std::acos", "std::atan",
    "std::atan2", "std::sinh", "std::cosh", "std::tanh", "std::fabs", "std::abs", "std::fmin", "std::fmax",
    "std::floor", "std::ceil", "std::round", "std::trunc", "std::fmod", "std::hypot", "std::erf", "std::erfc",
    "std::min", "std::max", "std::isnan", "std::isinf", "std::isfinite", "std::fma", "std::copysign",
}
_EXIT_FUNCTIONS = {"exit", "abort", "_Exit", "quick_exit", "std::exit", "std::abort", "longjmp", "assert"}
_CONSTANT_NAMES = {"NULL", "nullptr", "true", "false", "M_PI", "M_E", "INFINITY", "NAN", "HUGE_VAL",
                   "DBL_MAX", "DBL_MIN", "FLT_MAX", "FLT_MIN", "INT_MAX", "INT_MIN", "LONG_MAX", "LONG_MIN",
                   "UINT_MAX", "SIZE_MAX", "DBL_EPSILON", "FLT_EPSILON", "LLONG_MAX", "LLONG_MIN", "ULONG_MAX"}


@dataclass(eq=False)
class Decl:
    name: str
    key: str
    kind: str                 # scalar | array (local fixed array) | pointer | vector | ref | localvec | global
    base_type: str | None
    type_text: str
    node: Node | None
    is_param: bool = False
    param: Param | None = None
    info: ParamInfo | None = None
    loop: "Loop | None" = None   # innermost loop whose body declares it
    line: int = 0
    init: Node | None = None
    dims: list[Node] = field(default_factory=list)
    writes: int = 0           # number of write events anywhere in the function
    elem_of: tuple | None = None  # range-for element: (vector decl, loop)
    view: tuple | None = None     # kind "view" (`const float *row = in + r*cols;`): (array decl, offset Poly)

    @property
    def is_array(self) -> bool:
        return self.kind in ("pointer", "vector", "array", "localvec")

    def __repr__(self) -> str:
        return f"Decl({self.key})"


@dataclass(eq=False)
class Loop:
    id: int
    node: Node
    kind: str                     # for | while | do | range
    line: int
    parent: "Loop | None"
    depth: int
    children: list["Loop"] = field(default_factory=list)
    var: Decl | None = None
    var_in_init: bool = False
    init_node: Node | None = None  # the lower-bound expression
    bound_node: Node | None = None
    bound_str: str | None = None    # the bound when the condition was solved for the variable (i + k <= n)
    cond_op: str | None = None     # < <= > >=
    step: int = 0
    lower: Poly | None = None      # inclusive range of the loop variable
    upper: Poly | None = None
    canonical: bool = False
    why_not: str = ""
    body: Node | None = None
    skip_stmt: Node | None = None  # while-form loops: the trailing increment statement of the body
    update_node: Node | None = None
    range_of: "Decl | None" = None  # range-for loops: the vector iterated over
    elem_text: str = ""             # range-for loops: the element declaration ("auto &v")

    def init_text(self) -> str:
        return "0" if self.range_of is not None else text(self.init_node)

    def bound_text(self) -> str:
        if self.bound_str is not None:
            return self.bound_str
        return f"{self.range_of.name}.size()" if self.range_of is not None else text(self.bound_node)

    def canonical_condition(self) -> str | None:
        """`var OP bound` when the source's condition has another form OpenMP does not accept (None otherwise)."""
        return None if self.bound_str is None else f"{self.var.name} {self.cond_op} {self.bound_str}"

    def body_prefix(self) -> str:
        """Declarations a rewritten body needs first (range-for element)."""
        if self.range_of is None:
            return ""
        return f"{self.elem_text} = {self.range_of.name}[{self.var.name}];"

    @property
    def while_form(self) -> bool:
        return self.skip_stmt is not None

    @property
    def start(self) -> int:
        return self.node.start_byte

    @property
    def end(self) -> int:
        return self.node.end_byte

    def contains(self, node_or_byte) -> bool:
        b = node_or_byte if isinstance(node_or_byte, int) else node_or_byte.start_byte
        return self.node.start_byte <= b < self.node.end_byte

    def encloses(self, other: "Loop") -> bool:
        p = other
        while p is not None:
            if p is self:
                return True
            p = p.parent
        return False

    def __repr__(self) -> str:
        return f"Loop({self.kind}@{self.line} {self.var.name if self.var else '?'})"


@dataclass(eq=False)
class Event:
    """One read/write of a scalar or an array element."""
    seq: int
    decl: Decl
    node: Node                    # identifier / subscript node
    write: bool
    read: bool
    loops: tuple                  # enclosing loops, outermost first
    guards: tuple                 # loop depths at which enclosing conditionals were entered
    conds: tuple                  # enclosing if-conditions with polarity: ((cond node, taken?), ...)
    line: int
    stmt: Node | None = None
    red_op: str | None = None     # set when the event belongs to a reduction-shaped statement
    # array accesses only
    index: Node | None = None
    poly: Poly | None = None
    index_arrays: tuple = ()      # arrays whose element is the whole subscript (A[B[..]])
    index_scalar: Decl | None = None  # scalar that is the whole subscript (A[k])
    expr_cond: bool = False       # inside ?:, && or || within its statement

    @property
    def is_array(self) -> bool:
        return self.index is not None or self.decl.is_array

    def text(self) -> str:
        return text(self.node)

    def conditional_within(self, loop: Loop | None) -> bool:
        d = 0 if loop is None else loop.depth + 1
        return self.expr_cond or any(g >= d for g in self.guards)


@dataclass(eq=False)
class Blocker:
    """Something that keeps every enclosing loop sequential."""
    reason: str
    node: Node
    loops: tuple
    line: int
    target: Loop | None = None    # for 'break': only this loop (and its enclosing ones are unaffected)


@dataclass(eq=False)
class Call:
    name: str
    node: Node
    loops: tuple
    line: int
    pure: bool


class FunctionModel:
    def __init__(self, unit: Unit, fn: Node, name: str, infos: list[ParamInfo]):
        self.unit = unit
        self.fn = fn
        self.name = name
        self.body = fn.child_by_field_name("body")
        self.infos = infos
        self.params: dict[str, Decl] = {}
        self.decls: list[Decl] = []
        self.loops: list[Loop] = []
        self.events: list[Event] = []
        self.blockers: list[Blocker] = []
        self.calls: list[Call] = []
        self.divisors: list[tuple[Node, Decl, bool]] = []   # (node, decl, is_array_element)
        self.bound_arrays: list[tuple[Decl, Loop]] = []     # arrays read in loop bounds
        self.returns: list[Node] = []
        self.jumps: list[tuple[str, Node, tuple]] = []   # (continue|break|return|goto, node, loops)
        self._seq = 0
        self._scopes: list[dict[str, Decl]] = []
        self._loop_stack: list[Loop] = []
        self._guards: list[int] = []
        self._conds: list[tuple[Node, bool]] = []
        self._breakables: list[Loop | None] = []   # None for a switch
        self._expr_cond = 0
        self._stmt: Node | None = None
        self._red_marks: dict[int, str] = {}
        self._names: dict[str, int] = {}
        self.local_single_def: dict[str, Poly] = {}
        self.macro_uses: list[str] = []
        scope: dict[str, Decl] = {}
        for inf in infos:
            p = inf.param
            kind = {ParamKind.SCALAR: "scalar", ParamKind.POINTER: "pointer", ParamKind.VECTOR: "vector",
                    ParamKind.REF: "ref"}[p.kind]
            d = Decl(name=p.name, key=self._key(p.name), kind=kind, base_type=p.base_type, type_text=inf.type_text,
                     node=None, is_param=True, param=p, info=inf)
            scope[p.name] = d
            self.params[p.name] = d
            self.decls.append(d)
        self._scopes.append(scope)
        self.globals_: dict[str, Decl] = {}
        self._stmt_block(self.body)
        for ev in self.events:
            if ev.write:
                ev.decl.writes += 1
        self._single_defs()

    # -- helpers ------------------------------------------------------------
    def _key(self, name: str) -> str:
        n = self._names.get(name, 0)
        self._names[name] = n + 1
        return name if n == 0 else f"{name}'{n}"

    def _resolve(self, name: str) -> Decl | None:
        for sc in reversed(self._scopes):
            if name in sc:
                return sc[name]
        if name in self.globals_:
            return self.globals_[name]
        if name in self.unit.globals:
            d = Decl(name=name, key=f"::{name}", kind="global", base_type=None, type_text=self.unit.globals[name],
                     node=None)
            self.globals_[name] = d
            return d
        return None

    def _block(self, reason: str, node: Node, target: Loop | None = None) -> None:
        self.blockers.append(Blocker(reason, node, tuple(self._loop_stack), line_of(node), target))

    def _event(self, decl: Decl, node: Node, write: bool, read: bool, **kw) -> Event:
        self._seq += 1
        ev = Event(seq=self._seq, decl=decl, node=node, write=write, read=read, loops=tuple(self._loop_stack),
                   guards=tuple(self._guards), conds=tuple(self._conds), line=line_of(node), stmt=self._stmt,
                   red_op=self._red_marks.get(node.id), expr_cond=self._expr_cond > 0, **kw)
        self.events.append(ev)
        return ev

    # -- statements ---------------------------------------------------------
    def _stmt_block(self, node: Node) -> None:
        self._scopes.append({})
        pushed = 0
        for ch in node.named_children:
            self._statement(ch)
            # `if (c) { ...; continue; }` (no else): the rest of the block runs only when !c
            if ch.type == "if_statement" and ch.child_by_field_name("alternative") is None and \
                    _always_jumps(ch.child_by_field_name("consequence")):
                self._conds.append((ch.child_by_field_name("condition"), False))
                pushed += 1
        for _ in range(pushed):
            self._conds.pop()
        self._scopes.pop()

    def _statement(self, node: Node) -> None:
        t = node.type
        if t == "compound_statement":
            self._stmt_block(node)
        elif t == "expression_statement":
            self._stmt = node
            self._mark_reduction(node)
            for ch in node.named_children:
                self._expr(ch)
            self._stmt = None
        elif t == "declaration":
            self._stmt = node
            self._declaration(node)
            self._stmt = None
        elif t == "if_statement":
            self._stmt = node
            cond = node.child_by_field_name("condition")
            self._mark_if_reduction(node)
            self._expr(cond)
            self._stmt = None
            self._guards.append(len(self._loop_stack))
            self._scopes.append({})
            cons = node.child_by_field_name("consequence")
            if cons is not None:
                self._conds.append((cond, True))
                self._statement(cons)
                self._conds.pop()
            alt = node.child_by_field_name("alternative")
            if alt is not None:
                self._conds.append((cond, False))
                if alt.type == "else_clause":
                    for ch in alt.named_children:
                        self._statement(ch)
                else:
                    self._statement(alt)
                self._conds.pop()
            self._scopes.pop()
            self._guards.pop()
        elif t == "for_statement":
            self._for(node)
        elif t in ("while_statement", "do_statement"):
            self._while(node, "while" if t == "while_statement" else "do")
        elif t == "for_range_loop":
            self._range_for(node)
        elif t in ("return_statement", "break_statement", "continue_statement", "goto_statement") and \
                self._record_jump(t.split("_")[0], node):
            pass
        elif t == "return_statement":
            self._stmt = node
            self.returns.append(node)
            if self._loop_stack:
                self._block(f"early return at line {line_of(node)}", node)
            for ch in node.named_children:
                self._expr(ch)
            self._stmt = None
        elif t == "break_statement":
            target = self._breakables[-1] if self._breakables else None
            if target is not None:
                self._block(f"early exit (break) at line {line_of(node)}", node, target=target)
        elif t == "continue_statement":
            pass
        elif t == "goto_statement":
            self._block(f"goto at line {line_of(node)}", node)
        elif t == "labeled_statement":
            self._block(f"label at line {line_of(node)}", node)
            for ch in node.named_children:
                if ch.type != "statement_identifier":
                    self._statement(ch)
        elif t == "switch_statement":
            self._stmt = node
            self._expr(node.child_by_field_name("condition"))
            self._stmt = None
            self._guards.append(len(self._loop_stack))
            self._breakables.append(None)
            self._statement(node.child_by_field_name("body"))
            self._breakables.pop()
            self._guards.pop()
        elif t in ("case_statement",):
            for ch in node.named_children:
                if ch.type.endswith("statement") or ch.type in ("declaration", "compound_statement"):
                    self._statement(ch)
        elif t in ("comment", "empty_statement", ";"):
            pass
        elif t.startswith("preproc"):
            self._block(f"preprocessor directive inside the function at line {line_of(node)}", node)
        elif t in ("type_definition",):
            pass
        else:
            self._block(f"unsupported statement '{t}' at line {line_of(node)}", node)

    def _record_jump(self, kind: str, node: Node) -> bool:
        self.jumps.append((kind, node, tuple(self._loop_stack)))
        return False

    def _range_for(self, node: Node) -> None:
        """`for (auto &v : x)` over a std::vector parameter = an index loop over x with v = x[i]."""
        loop = self._new_loop(node, "range")
        loop.why_not = "range-based for loop"
        loop.body = node.child_by_field_name("body")
        right = node.child_by_field_name("right")
        dnode = node.child_by_field_name("declarator")
        ty = node.child_by_field_name("type")
        rd = self._array_base(right) if right is not None and right.type == "identifier" else None
        dname = _declarator_name(dnode)
        by_ref = dnode is not None and dnode.type == "reference_declarator" and "&&" not in text(dnode)
        ok = rd is not None and rd.kind == "vector" and dname is not None and ty is not None and \
            dnode is not None and (dnode.type == "identifier" or (by_ref and dnode.named_children and
                                                                 dnode.named_children[0].type == "identifier"))
        self._scopes.append({})
        self._loop_stack.append(loop)
        self._breakables.append(loop)
        if ok:
            vname = f"__pl_r{loop.id}"
            var = Decl(name=vname, key=self._key(vname), kind="scalar", base_type="size_t", type_text="size_t",
                       node=None, loop=loop, line=line_of(node))
            self.decls.append(var)
            loop.var, loop.range_of, loop.kind, loop.canonical, loop.why_not = var, rd, "for", True, ""
            loop.cond_op, loop.step = "<", 1
            loop.lower, loop.upper = Poly.const(0), Poly.sym(f"@size:{rd.name}") - 1
            loop.elem_text = self.unit.data[node.start_byte:dnode.end_byte].decode("utf-8").split("(", 1)[1].strip()
            elem = Decl(name=dname, key=self._key(dname), kind="elem" if by_ref else "scalar",
                        base_type=rd.base_type, type_text=text(ty), node=dnode, loop=loop, line=line_of(node))
            elem.elem_of = (rd, loop)
            self.decls.append(elem)
            self._scopes[-1][dname] = elem
            if not by_ref:
                self._event(rd, right, write=False, read=True, index=right, poly=Poly.sym(var.key))
                self._event(elem, dnode, write=True, read=False)
        else:
            self._block("range-based for loop (not analysed)", node)
            if rd is not None:
                self._event(rd, right, write=by_ref and not (rd.param is not None and rd.param.const), read=True)
            else:
                self._expr(right)
            if dname:
                dd = Decl(name=dname, key=self._key(dname), kind="other", base_type=None,
                          type_text=text(ty), node=node, loop=loop, line=line_of(node))
                self._scopes[-1][dname] = dd
                self.decls.append(dd)
        self._statement(loop.body)
        self._breakables.pop()
        self._loop_stack.pop()
        self._scopes.pop()

    def _new_loop(self, node: Node, kind: str) -> Loop:
        parent = self._loop_stack[-1] if self._loop_stack else None
        loop = Loop(id=len(self.loops), node=node, kind=kind, line=line_of(node), parent=parent,
                    depth=len(self._loop_stack))
        if parent is not None:
            parent.children.append(loop)
        self.loops.append(loop)
        return loop

    def _for(self, node: Node) -> None:
        loop = self._new_loop(node, "for")
        loop.body = node.child_by_field_name("body")
        self._scopes.append({})
        init = node.child_by_field_name("initializer")
        cond = node.child_by_field_name("condition")
        upd = node.child_by_field_name("update")
        # init runs once, outside the loop
        self._stmt = node
        if init is not None:
            if init.type == "declaration":
                self._declaration(init, loop_init=loop)
            else:
                self._expr(init)
        self._loop_stack.append(loop)
        self._breakables.append(loop)
        if cond is not None:
            self._expr(cond)
            self._record_bound_arrays(cond, loop)
        if upd is not None:
            self._expr(upd)
        self._stmt = None
        self._canonical(loop, init, cond, upd)
        if loop.body is not None:
            self._statement(loop.body)
        self._breakables.pop()
        self._loop_stack.pop()
        self._scopes.pop()

    def _while(self, node: Node, kind: str) -> None:
        loop = self._new_loop(node, kind)
        loop.body = node.child_by_field_name("body")
        loop.why_not = f"{kind} loop (trip count not known on entry)"
        self._loop_stack.append(loop)
        self._breakables.append(loop)
        cond = node.child_by_field_name("condition")
        if kind == "while":
            self._stmt = node
            self._expr(cond)
            self._stmt = None
            self._statement(loop.body)
        else:
            self._statement(loop.body)
            self._stmt = node
            self._expr(cond)
            self._stmt = None
        self._breakables.pop()
        self._loop_stack.pop()
        if kind == "while":
            self._while_canonical(loop, node, cond)

    def _while_canonical(self, loop: Loop, node: Node, cond: Node | None) -> None:
        """`i = lo; while (i < n) { ...; i++; }` is a for loop in disguise (no `continue`)."""
        if cond is None:
            return
        if cond.type == "condition_clause":
            vals = cond.named_children
            if len(vals) != 1:
                return
            cond = vals[0]
        cond = _strip_parens(cond)
        body = loop.body
        if cond.type != "binary_expression" or body is None or body.type != "compound_statement":
            return
        if any(k == "continue" and lps and lps[-1] is loop for k, _n, lps in self.jumps):
            return
        stmts = [c for c in body.named_children if c.type != "comment"]
        prev = node.prev_named_sibling
        while prev is not None and prev.type == "comment":
            prev = prev.prev_named_sibling
        if not stmts or prev is None or node.parent is None or node.parent.type != "compound_statement":
            return
        last = stmts[-1]
        if last.type != "expression_statement" or len(last.named_children) != 1:
            return
        upd = _strip_parens(last.named_children[0])
        op = text(cond.child_by_field_name("operator"))
        left, right = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if op not in flip:
            return
        if left.type == "identifier":
            vname, bound = text(left), right
        elif right.type == "identifier":
            vname, bound, op = text(right), left, flip[op]
        else:
            return
        var = self._resolve(vname)
        if var is None or var.kind != "scalar" or var.base_type not in INTEGER_TYPES:
            return
        init = None
        if prev.type == "declaration":
            ds = prev.children_by_field_name("declarator")
            if ds and ds[-1].type == "init_declarator" and text(ds[-1].child_by_field_name("declarator")) == vname:
                init = ds[-1].child_by_field_name("value")
        elif prev.type == "expression_statement" and len(prev.named_children) == 1:
            a = _strip_parens(prev.named_children[0])
            if a.type == "assignment_expression" and text(a.child_by_field_name("operator")) == "=" and \
                    text(a.child_by_field_name("left")) == vname:
                init = a.child_by_field_name("right")
        if init is None:
            return
        step = None
        if upd.type == "update_expression" and text(upd.child_by_field_name("argument")) == vname:
            step = 1 if "++" in text(upd) else -1
        elif upd.type == "assignment_expression" and text(upd.child_by_field_name("left")) == vname:
            aop = text(upd.child_by_field_name("operator"))
            rv = _int_literal(upd.child_by_field_name("right"))
            if aop in ("+=", "-=") and rv:
                step = rv if aop == "+=" else -rv
        if not step or (step > 0) != (op in ("<", "<=")):
            return
        if is_unsigned(var.base_type) and step < 0:
            return
        # the variable must not be written elsewhere in the body
        for e in self.events:
            if e.decl is var and e.write and body.start_byte <= e.node.start_byte < body.end_byte \
                    and not (last.start_byte <= e.node.start_byte < last.end_byte):
                return
        loop.var, loop.init_node, loop.bound_node, loop.cond_op, loop.step = var, init, bound, op, step
        lo_p, b_p = self.poly(init), self.poly(bound)
        if step > 0:
            loop.lower = lo_p
            loop.upper = (b_p - 1) if (b_p is not None and op == "<") else b_p
        else:
            loop.upper = lo_p
            loop.lower = (b_p + 1) if (b_p is not None and op == ">") else b_p
        loop.kind = "for"
        loop.canonical = True
        loop.why_not = ""
        loop.skip_stmt = last
        loop.update_node = upd

    def _record_bound_arrays(self, cond: Node, loop: Loop) -> None:
        for n in _walk(cond):
            if n.type == "subscript_expression":
                base = n.child_by_field_name("argument")
                if base is not None and base.type == "identifier":
                    d = self._resolve(text(base))
                    if d is not None and d.is_array:
                        self.bound_arrays.append((d, loop))

    def _canonical(self, loop: Loop, init: Node | None, cond: Node | None, upd: Node | None) -> None:
        var = None
        lo = None
        if init is not None:
            if init.type == "declaration":
                decls = [c for c in init.children_by_field_name("declarator")]
                if len(decls) == 1 and decls[0].type == "init_declarator":
                    dn = decls[0].child_by_field_name("declarator")
                    if dn is not None and dn.type == "identifier":
                        var = self._resolve(text(dn))
                        lo = decls[0].child_by_field_name("value")
                        loop.var_in_init = True
            elif init.type == "assignment_expression" and text(init.child_by_field_name("operator")) == "=":
                left = init.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    var = self._resolve(text(left))
                    lo = init.child_by_field_name("right")
        if var is None or lo is None:
            loop.why_not = "loop is not in canonical form (init)"
            return
        if var.kind not in ("scalar",) or (var.base_type not in INTEGER_TYPES and var.base_type != "auto"):
            loop.why_not = f"loop variable '{var.name}' is not an integer"
            return
        loop.var = var
        loop.init_node = lo
        # condition: var OP bound  or  bound OP var
        if cond is None or cond.type != "binary_expression":
            loop.why_not = "loop condition is not a simple comparison"
            return
        op = text(cond.child_by_field_name("operator"))
        left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if op not in flip:
            loop.why_not = f"loop condition uses '{op}'"
            return
        bound_str = None
        if left.type == "identifier" and text(left) == var.name:
            bound = right
        elif right.type == "identifier" and text(right) == var.name:
            bound, op = left, flip[op]
        else:
            solved = self._solve_condition(var, left, right, op)
            if solved is None:
                loop.why_not = "loop condition is not of the form 'var < bound'"
                self._range_only(loop, var, lo, left, right, op, upd)
                return
            # `i + k <= n` -> `i <= n - k`: the same iterations (signed integers only: no wrap-around)
            bound, op, bound_str = cond, solved[0], solved[1]
        # update
        step = None
        if upd is not None:
            if upd.type == "update_expression" and text(upd.child_by_field_name("argument")) == var.name:
                step = 1 if "++" in text(upd) else -1
            elif upd.type == "assignment_expression" and text(upd.child_by_field_name("left")) == var.name:
                aop = text(upd.child_by_field_name("operator"))
                rv = _int_literal(upd.child_by_field_name("right"))
                if aop in ("+=", "-=") and rv:
                    step = rv if aop == "+=" else -rv
                elif aop == "=":
                    r = upd.child_by_field_name("right")
                    if r is not None and r.type == "binary_expression":
                        rop = text(r.child_by_field_name("operator"))
                        a, b = r.child_by_field_name("left"), r.child_by_field_name("right")
                        if rop in ("+", "-") and text(a) == var.name and _int_literal(b):
                            step = _int_literal(b) * (1 if rop == "+" else -1)
                        elif rop == "+" and text(b) == var.name and _int_literal(a):
                            step = _int_literal(a)
        if not step:
            loop.why_not = "loop increment is not a constant step"
            return
        if (step > 0) != (op in ("<", "<=")):
            loop.why_not = "loop direction and condition disagree"
            return
        if var.base_type and is_unsigned(var.base_type) and step < 0:
            loop.why_not = "decreasing loop over an unsigned variable"
            return
        loop.bound_node = bound
        loop.bound_str = bound_str
        loop.cond_op = op
        loop.step = step
        lo_p = self.poly(lo)
        b_p = self.poly(bound) if bound_str is None else solved[2]
        if step > 0:
            loop.lower = lo_p
            loop.upper = (b_p - 1) if (b_p is not None and op == "<") else b_p
        else:
            loop.upper = lo_p
            loop.lower = (b_p + 1) if (b_p is not None and op == ">") else b_p
        loop.canonical = True

    def _solve_condition(self, var: Decl, left: Node, right: Node, op: str) -> tuple[str, str, Poly] | None:
        """`var + k <= n`, `n - var > 0`, `var + 1 < w` solved for var: (op, bound as C text, bound Poly);
        None unless var has coefficient +-1 and every other term is a signed integer variable or constant."""
        if var.base_type is None or is_unsigned(var.base_type) or var.base_type not in INTEGER_TYPES:
            return None
        pl, pr = self.poly(left), self.poly(right)
        if pl is None or pr is None:
            return None
        diff = pl - pr                       # diff OP 0
        c = diff.coeff(var.key)
        if diff.degree_in(var.key) != 1 or not c.is_const() or c.constant not in (1, -1):
            return None
        rest = diff.drop(var.key)
        names = {}
        for s in rest.symbols():
            d = self.decl_by_key(s)
            if d is None or d.kind != "scalar" or d.base_type not in INTEGER_TYPES or is_unsigned(d.base_type):
                return None
            names[s] = d.name
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if c.constant == 1:                  # var + rest OP 0  ->  var OP -rest
            b = -rest
        else:                                # -var + rest OP 0  ->  var flip(OP) rest
            b, op = rest, flip[op]
        return op, "(" + b.render(lambda s: names[s]) + ")", b

    def _range_only(self, loop: Loop, var: Decl, lo: Node, left: Node, right: Node, op: str, upd) -> None:
        """`i + k <= n` and similar: record the range of i (for extents) but keep the loop sequential."""
        pl, pr = self.poly(left), self.poly(right)
        lo_p = self.poly(lo)
        if pl is None or pr is None or lo_p is None or upd is None:
            return
        if not (upd.type == "update_expression" and "++" in text(upd)):
            return
        diff = pl - pr          # diff OP 0
        c = diff.coeff(var.key)
        if diff.degree_in(var.key) != 1 or not c.is_const() or c.constant not in (1, -1):
            return
        rest = diff.drop(var.key)
        if c.constant == 1 and op in ("<", "<="):      # i + rest OP 0  ->  i OP -rest
            b = -rest
            loop.lower, loop.upper = lo_p, (b - 1) if op == "<" else b
            loop.var = var

    def _declaration(self, node: Node, loop_init: Loop | None = None) -> None:
        ty = node.child_by_field_name("type")
        quals = {text(c) for c in node.named_children if c.type in ("type_qualifier", "storage_class_specifier")}
        if "static" in quals and self._loop_stack is not None:
            self._block(f"static local variable at line {line_of(node)}", node)
        if ty is not None and ty.type == "type_identifier" and text(ty) in self.unit.object_macros:
            raise AnalysisError(f"function '{self.name}' uses macro '{text(ty)}' as a type, which the analysis does not expand")
        base, desc = _type_words(self.unit, ty) if ty is not None else (None, "")
        is_vec, vec_elem, _ = _vector_elem(self.unit, ty) if ty is not None else (False, None, "")
        if ty is not None and ty.type == "placeholder_type_specifier":
            base = "auto"
        for d in node.children_by_field_name("declarator"):
            value = None
            dn = d
            ctor_args = None
            if d.type == "init_declarator":
                dn = d.child_by_field_name("declarator")
                value = d.child_by_field_name("value")
            kind = "scalar"
            dims: list[Node] = []
            inner = dn
            ptr = 0
            while inner is not None and inner.type != "identifier":
                if inner.type == "pointer_declarator":
                    ptr += 1
                elif inner.type == "array_declarator":
                    sz = inner.child_by_field_name("size")
                    if sz is not None:
                        dims.append(sz)
                    else:
                        dims.append(inner)
                elif inner.type == "reference_declarator":
                    kind = "localref"
                elif inner.type == "function_declarator":
                    # C++ most vexing parse: std::vector<double> t(n);
                    ctor_args = inner.child_by_field_name("parameters")
                nxt = inner.child_by_field_name("declarator")
                if nxt is None:
                    nxt = next((c for c in inner.named_children if c.type == "identifier" or c.type.endswith("declarator")), None)
                inner = nxt
            if inner is None:
                self._block(f"unsupported declaration at line {line_of(node)}", node)
                continue
            name = text(inner)
            if is_vec:
                kind = "localvec"
                base = vec_elem
            elif kind == "localref":
                pass
            elif ptr:
                kind = "localptr"
            elif dims:
                kind = "array" if len(dims) == 1 else "array2"
            elif base is None:
                kind = "other"
            view = self._view_of(value, base) if kind == "localptr" and ptr == 1 and value is not None else None
            if view is not None:
                kind = "view"
                for part in view[2]:
                    self._expr(part)
            elif value is not None and value.type != "argument_list" and kind not in ("array", "array2"):
                self._expr(value)
            elif value is not None:
                self._expr(value)
            if ctor_args is not None:
                for a in ctor_args.named_children:
                    self._expr(a)
            for sz in dims:
                if sz.type != "array_declarator":
                    self._expr(sz)
            decl = Decl(name=name, key=self._key(name), kind=kind, base_type=base, type_text=text(ty), node=inner,
                        loop=self._loop_stack[-1] if self._loop_stack else None, line=line_of(node), init=value,
                        dims=dims)
            if view is not None:
                decl.view = view[:2]
            self._scopes[-1][name] = decl
            self.decls.append(decl)
            if kind in ("localref", "localptr", "array2", "other"):
                what = {"localref": "local reference", "localptr": "local pointer", "array2": "2-D local array",
                        "other": f"local of type '{text(ty)}'"}[kind]
                self._block(f"{what} '{name}' at line {line_of(node)}", node)
            if value is not None or ctor_args is not None or kind in ("array", "localvec"):
                if kind == "scalar":
                    self._event(decl, inner, write=True, read=False)
                elif kind in ("array", "localvec") and (value is not None or ctor_args is not None):
                    pass

    def _view_of(self, value: Node, elem: str | None) -> tuple[Decl, Poly, Node | None] | None:
        """`in + r*cols`, `r*cols + in`, `in - k`, `&in[r*cols]`, `in` (a pointer parameter or another view
        of one, same element type): (array, offset Poly, offset node); None for anything else (a cast
        changes the element size, so it is not looked through)."""
        v = _strip_parens(value)
        d, p, parts = None, None, []
        if v.type == "pointer_expression" and text(v.child_by_field_name("operator")) == "&":
            arg = _strip_parens(v.child_by_field_name("argument"))
            if arg.type == "subscript_expression":
                b = _strip_parens(arg.child_by_field_name("argument"))
                idx = arg.child_by_field_name("index")
                if b is not None and b.type == "identifier" and idx is not None:
                    d, p, parts = self._pointer_like(b), self.poly(idx), [idx]
        else:
            split = self._split_pointer(v)
            if split is not None:
                d, p, parts = split
        if d is None or d.kind not in ("pointer", "view") or p is None or elem is None or d.base_type != elem:
            return None
        names = {dd.name for dd in (self.decl_by_key(k) for k in p.symbols()) if dd is not None}
        if len(names) != len(p.symbols()) or self._rewritten_later(value, names):
            return None
        if d.kind == "view":
            d, p = d.view[0], d.view[1] + p
        return d, p, parts

    def _pointer_like(self, node: Node) -> Decl | None:
        d = self._resolve(text(node))
        return d if d is not None and (d.kind == "pointer" or d.kind == "view") else None

    def _rewritten_later(self, value: Node, names: set[str]) -> bool:
        """Is a variable of `names` assigned after `value` in its scope? (a view built from it would move)"""
        scope = _scope_node(value)
        if scope is None:
            return True
        for n in _walk(scope):
            if n.start_byte < value.end_byte:
                continue
            target = None
            if n.type == "assignment_expression":
                target = n.child_by_field_name("left")
            elif n.type == "update_expression":
                target = n.child_by_field_name("argument")
            elif n.type == "pointer_expression" and text(n.child_by_field_name("operator")) == "&":
                target = n.child_by_field_name("argument")
            if target is not None and _strip_parens(target).type == "identifier" and text(_strip_parens(target)) in names:
                return True
        return False

    # -- reductions (shape only; legality is decided per loop) ---------------
    def _mark_reduction(self, stmt: Node) -> None:
        exprs = [c for c in stmt.named_children]
        if len(exprs) != 1:
            return
        e = exprs[0]
        op, targets = reduction_shape(e)
        if op is not None:
            for n in targets:
                self._red_marks[n.id] = op

    def _mark_if_reduction(self, node: Node) -> None:
        op, targets = if_minmax_shape(node)
        if op is not None:
            for n in targets:
                self._red_marks[n.id] = op

    # -- expressions --------------------------------------------------------
    def _expr(self, node: Node | None, write: bool = False, read: bool = True) -> None:
        if node is None:
            return
        t = node.type
        if t == "identifier":
            self._ident(node, write, read)
        elif t in ("number_literal", "string_literal", "char_literal", "true", "false", "null", "nullptr",
                   "concatenated_string", "comment", "raw_string_literal", "sizeof_expression",
                   "alignof_expression", "offsetof_expression"):
            if t == "sizeof_expression":
                pass
        elif t == "parenthesized_expression":
            for ch in node.named_children:
                self._expr(ch, write, read)
        elif t == "assignment_expression":
            op = text(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            self._expr(right)
            if op in ("/=", "%="):
                self._note_divisor(right)
            self._expr(left, write=True, read=(op != "="))
        elif t == "update_expression":
            self._expr(node.child_by_field_name("argument"), write=True, read=True)
        elif t == "subscript_expression":
            self._subscript(node, write, read)
        elif t == "pointer_expression":
            op = node.children[0].type if node.children else ""
            arg = node.child_by_field_name("argument")
            if op == "&":
                self._address_of(arg)
            else:
                self._deref(node, arg, write, read)
        elif t == "call_expression":
            self._call(node)
        elif t == "binary_expression":
            op = text(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            self._expr(left)
            if op in ("&&", "||"):
                self._expr_cond += 1
                self._expr(right)
                self._expr_cond -= 1
            else:
                self._expr(right)
            if op in ("/", "%"):
                self._note_divisor(right)
        elif t == "conditional_expression":
            self._expr(node.child_by_field_name("condition"))
            self._expr_cond += 1
            self._expr(node.child_by_field_name("consequence"))
            self._expr(node.child_by_field_name("alternative"))
            self._expr_cond -= 1
        elif t in ("unary_expression", "cast_expression"):
            self._expr(node.child_by_field_name("argument") or node.child_by_field_name("value"))
        elif t in ("comma_expression",):
            self._expr(node.child_by_field_name("left"))
            self._expr(node.child_by_field_name("right"))
        elif t in ("initializer_list", "argument_list", "condition_clause"):
            for ch in node.named_children:
                self._expr(ch)
        elif t == "field_expression":
            arg = node.child_by_field_name("argument")
            self._block(f"member access '{text(node)}' at line {line_of(node)}", node)
            self._expr(arg)
        elif t == "qualified_identifier":
            if text(node) not in ("std::numeric_limits",):
                pass
        else:
            self._block(f"unsupported expression '{t}' at line {line_of(node)}", node)
            for ch in node.named_children:
                self._expr(ch)

    def _ident(self, node: Node, write: bool, read: bool) -> None:
        name = text(node)
        d = self._resolve(name)
        if d is None:
            if name in self.unit.function_macros:
                raise AnalysisError(f"function '{self.name}' uses macro '{name}', which the analysis does not expand")
            if name in self.unit.object_macros:
                if self.unit.macro_int(name) is None:
                    raise AnalysisError(f"function '{self.name}' uses macro '{name}', which the analysis does not expand")
                if write:
                    raise AnalysisError(f"assignment to macro '{name}'")
                return
            if name in self.unit.enumerators or name in _CONSTANT_NAMES:
                if write:
                    self._block(f"assignment to constant '{name}'", node)
                return
            if name in self.unit.functions or name in PURE_FUNCTIONS:
                self._block(f"function '{name}' used as a value at line {line_of(node)}", node)
                return
            raise AnalysisError(f"function '{self.name}': unknown identifier '{name}' at line {line_of(node)}")
        if d.kind == "global":
            if write:
                self._block(f"writes global variable '{name}' at line {line_of(node)}", node)
            self._event(d, node, write, read)
            return
        if d.kind == "elem":
            arr, lp = d.elem_of
            if write and arr.param is not None and arr.param.const:
                self._block(f"write through a const element '{name}'", node)
            self._event(arr, node, write, read, index=node, poly=Poly.sym(lp.var.key))
            return
        if d.kind == "view":
            what = "reassigned" if write else "used as a pointer value"
            self._block(f"row pointer '{name}' {what} at line {line_of(node)}", node)
            return
        if d.is_array:
            # the array itself used as a value (pointer arithmetic, passed to a call, ...)
            self._block(f"array '{name}' used as a pointer value at line {line_of(node)}", node)
            return
        self._event(d, node, write, read)

    def _address_of(self, arg: Node) -> None:
        self._block(f"address taken ('&{text(arg)}') at line {line_of(arg)}", arg)
        self._expr(arg)

    def _array_base(self, base: Node) -> Decl | None:
        if base is None or base.type != "identifier":
            return None
        d = self._resolve(text(base))
        if d is None or not (d.is_array or d.kind == "view"):
            return None
        return d

    def _subscript(self, node: Node, write: bool, read: bool) -> None:
        base = node.child_by_field_name("argument")
        idx = node.child_by_field_name("index")
        if idx is None:
            ind = node.child_by_field_name("indices")
            if ind is not None and len(ind.named_children) == 1:
                idx = ind.named_children[0]
        d = self._array_base(base)
        if d is None or idx is None:
            self._block(f"unsupported array access '{text(node)}' at line {line_of(node)}", node)
            if base is not None and base.type != "identifier":
                self._expr(base)
            if idx is not None:
                self._expr(idx)
            return
        self._array_access(d, node, idx, write, read)

    def _array_access(self, d: Decl, node: Node, idx: Node, write: bool, read: bool) -> None:
        self._expr(idx)
        inner = _strip(idx)
        index_arrays: list[Decl] = []
        index_scalar = None
        if d.kind == "view":
            # row[c] is in[r*cols + c]
            base, off = d.view
            p = self.poly(idx)
            self._event(base, node, write, read, index=idx, poly=None if p is None else off + p)
            return
        if inner.type == "subscript_expression":
            b = self._array_base(inner.child_by_field_name("argument"))
            if b is not None:
                index_arrays.append(b)
        elif inner.type == "identifier":
            sd = self._resolve(text(inner))
            if sd is not None and sd.kind in ("scalar", "ref"):
                index_scalar = sd
        self._event(d, node, write, read, index=idx, poly=self.poly(idx), index_arrays=tuple(index_arrays),
                    index_scalar=index_scalar)

    def _deref(self, node: Node, arg: Node, write: bool, read: bool) -> None:
        split = self._split_pointer(arg)
        if split is not None and split[0].kind in ("pointer", "array", "view"):
            d, off, parts = split
            for n in parts:
                self._expr(n)
            if d.kind == "view":
                d, off = d.view[0], (None if off is None else d.view[1] + off)
            # *(p + i) is p[i]
            self._event(d, node, write, read, index=arg, poly=off)
            return
        self._block(f"unsupported pointer dereference '{text(node)}' at line {line_of(node)}", node)
        self._expr(arg)

    def _split_pointer(self, node: Node) -> tuple[Decl, Poly | None, list[Node]] | None:
        """`p`, `p + i`, `i + p`, `p + j - 1`, `(p + k) + i` for an array or view p: (p, offset, offset nodes)."""
        n = _strip_parens(node)
        if n.type == "identifier":
            d = self._array_base(n)
            return None if d is None else (d, Poly.const(0), [])
        if n.type != "binary_expression" or text(n.child_by_field_name("operator")) not in ("+", "-"):
            return None
        neg = text(n.child_by_field_name("operator")) == "-"
        l, r = n.child_by_field_name("left"), n.child_by_field_name("right")
        for base, off, ok in ((l, r, True), (r, l, not neg)):
            sub = self._split_pointer(base) if ok else None
            if sub is None:
                continue
            d, p, parts = sub
            q = self.poly(off)
            if p is not None and q is not None:
                p = p - q if neg else p + q
            else:
                p = None
            return d, p, parts + [off]
        return None

    def _call(self, node: Node) -> None:
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        argn = [a for a in args.named_children if a.type != "comment"] if args is not None else []
        loops = tuple(self._loop_stack)
        if fn is not None and fn.type == "field_expression":
            obj = fn.child_by_field_name("argument")
            field_ = text(fn.child_by_field_name("field"))
            d = self._array_base(obj)
            if d is not None and d.kind in ("vector", "localvec") and field_ in ("size", "empty") and not argn:
                return
            self._block(f"unsupported method call '{text(fn)}' at line {line_of(node)}", node)
            self._expr(obj)
            for a in argn:
                self._expr(a)
            return
        if fn is not None and fn.type == "template_function":
            nm = text(fn.child_by_field_name("name"))
            name = nm
        else:
            name = text(fn).replace(" ", "")
        if name in self.unit.function_macros:
            raise AnalysisError(f"function '{self.name}' uses macro '{name}', which the analysis does not expand")
        if name.startswith("std::numeric_limits<") or name.startswith("numeric_limits<"):
            self.calls.append(Call(name, node, loops, line_of(node), True))
            return
        pure = name in PURE_FUNCTIONS or self._pure_user_function(name)
        if name in _EXIT_FUNCTIONS and self._loop_stack:
            self._block(f"call to '{name}' (early exit) at line {line_of(node)}", node)
        self.calls.append(Call(name, node, loops, line_of(node), pure))
        if not pure:
            self._block(f"call to '{name}' (not known to be pure) at line {line_of(node)}", node)
        for a in argn:
            self._expr(a)

    def _pure_user_function(self, name: str, seen: set | None = None) -> bool:
        fn = self.unit.functions.get(name)
        if fn is None:
            return False
        seen = set() if seen is None else seen
        if name in seen:
            return False  # recursion: keep it simple
        seen.add(name)
        try:
            infos, _ = parse_params(self.unit, fn, name)
        except AnalysisError:
            return False
        if any(i.param.kind != ParamKind.SCALAR for i in infos):
            return False
        body = fn.child_by_field_name("body")
        local_names = {i.param.name for i in infos}
        for n in _walk(body):
            if n.type == "declaration":
                if any(text(c) == "static" for c in n.named_children if c.type == "storage_class_specifier"):
                    return False
                for d in n.children_by_field_name("declarator"):
                    nm = _declarator_name(d)
                    if nm:
                        local_names.add(nm)
                    if d.type != "init_declarator" and d.type != "identifier":
                        return False
            elif n.type == "call_expression":
                f = text(n.child_by_field_name("function")).replace(" ", "")
                if f not in PURE_FUNCTIONS and not self._pure_user_function(f, seen):
                    return False
            elif n.type in ("assignment_expression", "update_expression"):
                tgt = n.child_by_field_name("left") or n.child_by_field_name("argument")
                if tgt is None or tgt.type != "identifier" or text(tgt) not in local_names:
                    return False
            elif n.type in ("pointer_expression", "subscript_expression", "field_expression", "goto_statement",
                            "asm_statement", "gnu_asm_expression"):
                return False
            elif n.type == "identifier" and (text(n) in self.unit.globals):
                return False
        return True

    def _note_divisor(self, node: Node) -> None:
        n = _strip(node)
        if n.type == "identifier":
            d = self._resolve(text(n))
            if d is not None:
                self.divisors.append((n, d, False))
        elif n.type == "subscript_expression":
            d = self._array_base(n.child_by_field_name("argument"))
            if d is not None:
                self.divisors.append((n, d, True))

    # -- affine forms -------------------------------------------------------
    def poly(self, node: Node | None) -> Poly | None:
        """The subscript/bound as a polynomial over declaration keys, or None."""
        if node is None:
            return None
        t = node.type
        if t == "number_literal":
            v = _int_literal(node)
            return Poly.const(v) if v is not None else None
        if t == "parenthesized_expression":
            ch = node.named_children
            return self.poly(ch[0]) if len(ch) == 1 else None
        if t == "identifier":
            name = text(node)
            d = self._resolve_at(name, node)
            if d is None:
                v = self.unit.macro_int(name)
                return Poly.const(v) if v is not None else None
            if d.kind in ("scalar", "ref"):
                return Poly.sym(d.key)
            return None
        if t == "binary_expression":
            op = text(node.child_by_field_name("operator"))
            a = self.poly(node.child_by_field_name("left"))
            b = self.poly(node.child_by_field_name("right"))
            if a is None or b is None:
                return None
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/" and b.is_const() and b.constant > 0:
                q = a.exact_div(b.constant)
                if q is not None:
                    return q
                if a.is_const():
                    return Poly.const(int(a.constant / b.constant))
                return Poly.sym(_atom("div", a, b.constant))
            return None
        if t == "unary_expression":
            op = node.children[0].type if node.children else ""
            a = self.poly(node.child_by_field_name("argument"))
            if a is None:
                return None
            if op == "-":
                return -a
            if op == "+":
                return a
            return None
        if t == "cast_expression":
            ty = node.child_by_field_name("type")
            if ty is not None and normalize_type(text(ty)) in INTEGER_TYPES:
                return self.poly(node.child_by_field_name("value"))
            return None
        if t == "conditional_expression":
            # a > b ? a : b  (max)   a < b ? a : b  (min), and the mirrored forms
            cond = _strip_parens(node.child_by_field_name("condition"))
            c1 = _strip(node.child_by_field_name("consequence"))
            c2 = _strip(node.child_by_field_name("alternative"))
            if cond is None or cond.type != "binary_expression":
                return None
            op = text(cond.child_by_field_name("operator"))
            x = _strip(cond.child_by_field_name("left"))
            y = _strip(cond.child_by_field_name("right"))
            if op not in ("<", "<=", ">", ">="):
                return None
            sx, sy, s1, s2 = (" ".join(text(n).split()) for n in (x, y, c1, c2))
            if (s1, s2) == (sx, sy):
                kind = "max" if op in (">", ">=") else "min"
            elif (s1, s2) == (sy, sx):
                kind = "min" if op in (">", ">=") else "max"
            else:
                return None
            pa, pb = self.poly(c1), self.poly(c2)
            if pa is None or pb is None:
                return None
            if (pa - pb).is_const():
                d = (pa - pb).constant
                return (pa if d >= 0 else pb) if kind == "max" else (pb if d >= 0 else pa)
            return Poly.sym(_atom2(kind, pa, pb))
        if t == "call_expression":
            fn = node.child_by_field_name("function")
            args = node.child_by_field_name("arguments")
            if fn is not None and fn.type == "field_expression" and text(fn.child_by_field_name("field")) == "size" \
                    and args is not None and not args.named_children:
                d = self._resolve_at(text(fn.child_by_field_name("argument")), node)
                if d is not None and d.kind == "vector":
                    return Poly.sym(f"@size:{d.name}")
            return None
        return None

    def _resolve_at(self, name: str, node: Node) -> Decl | None:
        """Resolve a name at a node (after the walk: by scope position)."""
        if self._scopes and len(self._scopes) > 1:
            return self._resolve(name)
        # after construction: find the innermost declaration visible at node
        best = None
        for d in self.decls:
            if d.name != name:
                continue
            if d.is_param:
                if best is None:
                    best = d
                continue
            if d.node is None or d.node.start_byte > node.start_byte:
                continue
            scope = _scope_node(d.node)
            if scope is not None and scope.start_byte <= node.start_byte < scope.end_byte:
                if best is None or best.is_param or d.node.start_byte > best.node.start_byte:
                    best = d
        if best is None and name in self.globals_:
            best = self.globals_[name]
        return best

    def _single_defs(self) -> None:
        """Locals assigned exactly once, at their declaration, with an affine value: substitutable."""
        for d in self.decls:
            if d.is_param or d.kind != "scalar" or d.init is None or d.writes != 1:
                continue
            if d.base_type not in INTEGER_TYPES:
                continue
            p = self.poly(d.init)
            if p is None:
                continue
            # every symbol of the definition must keep its value while d is alive: never written, or
            # the variable of a canonical loop enclosing the definition
            enclosing = set()
            lp = d.loop
            while lp is not None:
                if lp.var is not None and lp.canonical:
                    enclosing.add(lp.var.key)
                lp = lp.parent
            ok = True
            for sym in p.symbols():
                for s2 in (atom_symbols(sym) if sym.startswith("@") else {sym}):
                    if s2.startswith("@size:") or s2 in enclosing:
                        continue
                    sd = self.decl_by_key(s2)
                    if sd is None or sd.writes > (1 if (not sd.is_param and sd.init is not None) else 0):
                        ok = False
            if ok:
                self.local_single_def[d.key] = p

    def expand(self, p: Poly | None) -> Poly | None:
        """Substitute single-definition locals by their definitions (to a fixed point)."""
        if p is None:
            return None
        for _ in range(8):
            syms = [s for s in p.symbols() if s in self.local_single_def]
            if not syms:
                return p
            for s in syms:
                p = p.subs(s, self.local_single_def[s])
        return p

    def facts(self, conds) -> list[tuple[Poly, str, Poly]]:
        """Affine facts `a OP b` implied by enclosing if-conditions (with their polarity)."""
        out: list[tuple[Poly, str, Poly]] = []
        neg = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}

        def collect(n: Node | None, pol: bool) -> None:
            if n is None:
                return
            if n.type == "condition_clause":
                vals = n.named_children
                if len(vals) == 1:
                    collect(vals[0], pol)
                return
            n = _strip_parens(n)
            if n.type == "unary_expression" and n.children and n.children[0].type == "!":
                collect(n.child_by_field_name("argument"), not pol)
                return
            if n.type != "binary_expression":
                return
            op = text(n.child_by_field_name("operator"))
            a, b = n.child_by_field_name("left"), n.child_by_field_name("right")
            if op == "&&":
                if pol:
                    collect(a, True)
                    collect(b, True)
                return
            if op == "||":
                if not pol:
                    collect(a, False)
                    collect(b, False)
                return
            if op in neg:
                pa, pb = self.expand(self.poly(a)), self.expand(self.poly(b))
                if pa is not None and pb is not None:
                    out.append((pa, op if pol else neg[op], pb))
        for n, pol in conds:
            collect(n, pol)
        return out

    # -- queries ------------------------------------------------------------
    def decl_by_key(self, key: str) -> Decl | None:
        for d in self.decls:
            if d.key == key:
                return d
        return None

    def loop_of_var(self, key: str, loops) -> Loop | None:
        for lp in reversed(loops):
            if lp.var is not None and lp.var.key == key:
                return lp
        return None

    def top_loops(self) -> list[Loop]:
        return [lp for lp in self.loops if lp.parent is None]


_ATOMS: dict[str, tuple] = {}


def _atom(kind: str, p: Poly, k: int) -> str:
    name = f"@{kind}:({p.render()})/{k}"
    _ATOMS[name] = (kind, p, k)
    return name


def _atom2(kind: str, a: Poly, b: Poly) -> str:
    x, y = sorted([a.render(), b.render()])
    name = f"@{kind}:({x}),({y})"
    _ATOMS[name] = (kind, a, b)
    return name


def atom_info(name: str) -> tuple | None:
    return _ATOMS.get(name)


def atom_symbols(name: str) -> set[str]:
    """Symbols an atom depends on (recursively)."""
    info = _ATOMS.get(name)
    if info is None:
        return set()
    out: set[str] = set()
    for part in info[1:]:
        if isinstance(part, Poly):
            for s in part.symbols():
                out |= atom_symbols(s) if s.startswith("@") else {s}
    return out


def atom_nonneg(name: str, nonneg: set[str]) -> bool:
    info = _ATOMS.get(name)
    if info is None:
        return name.startswith("@size:")
    kind = info[0]
    if kind == "div":
        return info[1].nonneg(nonneg)
    if kind == "max":
        return info[1].nonneg(nonneg) or info[2].nonneg(nonneg)
    if kind == "min":
        return info[1].nonneg(nonneg) and info[2].nonneg(nonneg)
    return False


def _always_jumps(n: Node | None) -> bool:
    if n is None:
        return False
    if n.type in ("continue_statement", "break_statement", "return_statement", "goto_statement"):
        return True
    if n.type == "compound_statement":
        stmts = [c for c in n.named_children if c.type != "comment"]
        return bool(stmts) and _always_jumps(stmts[-1])
    return False


def _scope_node(n: Node) -> Node | None:
    p = n.parent
    while p is not None:
        if p.type in ("compound_statement", "for_statement", "for_range_loop", "function_definition"):
            return p
        p = p.parent
    return None


def _strip(n: Node) -> Node:
    while n is not None and n.type in ("parenthesized_expression", "cast_expression"):
        if n.type == "parenthesized_expression":
            ch = n.named_children
            if len(ch) != 1:
                return n
            n = ch[0]
        else:
            ty = n.child_by_field_name("type")
            if ty is None or normalize_type(text(ty)) not in INTEGER_TYPES:
                return n
            n = n.child_by_field_name("value")
    return n


def _int_literal(node: Node | None) -> int | None:
    if node is None:
        return None
    node = _strip(node)
    if node.type == "unary_expression" and node.children and node.children[0].type == "-":
        v = _int_literal(node.child_by_field_name("argument"))
        return -v if v is not None else None
    if node.type != "number_literal":
        return None
    s = text(node).replace("'", "")
    s2 = re.sub(r"[uUlL]+$", "", s)
    sign = 1
    if s2.startswith("-"):      # tree-sitter-c reads `-1` as one number_literal
        sign, s2 = -1, s2[1:]
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", s2):
            return sign * int(s2, 16)
        if re.fullmatch(r"0[bB][01]+", s2):
            return sign * int(s2, 2)
        if re.fullmatch(r"0[0-7]+", s2):
            return sign * int(s2, 8)
        if re.fullmatch(r"[0-9]+", s2):
            return sign * int(s2)
    except ValueError:
        return None
    return None


def _walk(node: Node | None):
    if node is None:
        return
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


walk = _walk
strip = _strip
int_literal = _int_literal


# ---------------------------------------------------------------------------
# reduction shapes
# ---------------------------------------------------------------------------

_COMPOUND = {"+=": "+", "-=": "+", "*=": "*", "&=": "&", "|=": "|", "^=": "^"}
_MINMAX_FUNCS = {"fmax": "max", "fmaxf": "max", "std::max": "max", "max": "max", "std::fmax": "max",
                 "fmin": "min", "fminf": "min", "std::min": "min", "min": "min", "std::fmin": "min"}


def _lvalue_key(n: Node) -> str | None:
    n = _strip_parens(n)
    if n.type == "identifier":
        return text(n)
    if n.type in ("subscript_expression", "pointer_expression"):
        return " ".join(text(n).split())
    return None


def _strip_parens(n: Node) -> Node:
    while n is not None and n.type == "parenthesized_expression" and len(n.named_children) == 1:
        n = n.named_children[0]
    return n


def _mentions(n: Node, key: str) -> bool:
    for m in _walk(n):
        if m.type in ("identifier", "subscript_expression", "pointer_expression") and _lvalue_key(m) == key:
            return True
        if m.type == "identifier" and "[" not in key and text(m) == key:
            return True
    return False


def reduction_shape(e: Node) -> tuple[str | None, list[Node]]:
    """For `s += e`, `s = s + e`, `s = fmax(s, e)`, `s = e > s ? e : s`, `s++` ...: (op, target nodes)."""
    e = _strip_parens(e)
    if e.type == "update_expression":
        arg = _strip_parens(e.child_by_field_name("argument"))
        if _lvalue_key(arg) is not None:
            return "+", [arg]
        return None, []
    if e.type != "assignment_expression":
        return None, []
    op = text(e.child_by_field_name("operator"))
    left = _strip_parens(e.child_by_field_name("left"))
    right = _strip_parens(e.child_by_field_name("right"))
    key = _lvalue_key(left)
    if key is None:
        return None, []
    if op in _COMPOUND:
        if _mentions(right, key):
            return None, []
        return _COMPOUND[op], [left]
    if op != "=":
        return None, []
    if right.type == "binary_expression":
        bop = text(right.child_by_field_name("operator"))
        a = _strip_parens(right.child_by_field_name("left"))
        b = _strip_parens(right.child_by_field_name("right"))
        if bop in ("+", "*", "&", "|", "^", "&&", "||", "-"):
            if _lvalue_key(a) == key and not _mentions(b, key):
                return ("+" if bop == "-" else bop), [left, a]
            if bop != "-" and _lvalue_key(b) == key and not _mentions(a, key):
                return bop, [left, b]
        return None, []
    if right.type == "call_expression":
        fname = text(right.child_by_field_name("function")).replace(" ", "")
        args = [a for a in right.child_by_field_name("arguments").named_children if a.type != "comment"]
        if fname in _MINMAX_FUNCS and len(args) == 2:
            a, b = _strip_parens(args[0]), _strip_parens(args[1])
            if _lvalue_key(a) == key and not _mentions(b, key):
                return _MINMAX_FUNCS[fname], [left, a]
            if _lvalue_key(b) == key and not _mentions(a, key):
                return _MINMAX_FUNCS[fname], [left, b]
        return None, []
    if right.type == "conditional_expression":
        cond = _strip_parens(right.child_by_field_name("condition"))
        c1 = _strip_parens(right.child_by_field_name("consequence"))
        c2 = _strip_parens(right.child_by_field_name("alternative"))
        if cond.type != "binary_expression":
            return None, []
        cop = text(cond.child_by_field_name("operator"))
        x, y = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
        if cop not in ("<", "<=", ">", ">="):
            return None, []
        sx, sy = " ".join(text(x).split()), " ".join(text(y).split())
        s1, s2 = " ".join(text(c1).split()), " ".join(text(c2).split())
        # s = (x OP y) ? x : y  -> max if OP is > / >=, min if < / <=
        if s1 == sx and s2 == sy:
            kind = "max" if cop in (">", ">=") else "min"
        elif s1 == sy and s2 == sx:
            kind = "min" if cop in (">", ">=") else "max"
        else:
            return None, []
        if _lvalue_key(x) == key and not _mentions(y, key):
            return kind, [left, x, c1 if s1 == sx else c2]
        if _lvalue_key(y) == key and not _mentions(x, key):
            return kind, [left, y, c1 if s1 == sy else c2]
        return None, []
    return None, []


def if_minmax_shape(node: Node) -> tuple[str | None, list[Node]]:
    """`if (e > s) s = e;` (no else, single assignment) -> ("max", [s nodes])."""
    if node.child_by_field_name("alternative") is not None:
        return None, []
    cond = node.child_by_field_name("condition")
    if cond is None:
        return None, []
    if cond.type == "condition_clause":
        vals = cond.named_children
        if len(vals) != 1:
            return None, []
        cond = vals[0]
    cond = _strip_parens(cond)
    if cond.type != "binary_expression":
        return None, []
    cop = text(cond.child_by_field_name("operator"))
    if cop not in ("<", "<=", ">", ">="):
        return None, []
    body = node.child_by_field_name("consequence")
    while body is not None and body.type == "compound_statement":
        stmts = [c for c in body.named_children if c.type != "comment"]
        if len(stmts) != 1:
            return None, []
        body = stmts[0]
    if body is None or body.type != "expression_statement" or len(body.named_children) != 1:
        return None, []
    asg = _strip_parens(body.named_children[0])
    if asg.type != "assignment_expression" or text(asg.child_by_field_name("operator")) != "=":
        return None, []
    left = _strip_parens(asg.child_by_field_name("left"))
    if left.type != "identifier":
        return None, []
    key = text(left)
    val = " ".join(text(_strip_parens(asg.child_by_field_name("right"))).split())
    x, y = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
    sx, sy = " ".join(text(x).split()), " ".join(text(y).split())
    # if (val OP s) s = val   |   if (s OP val) s = val
    if sx == val and sy == key and not _mentions(x, key):
        kind = "max" if cop in (">", ">=") else "min"
        return kind, [y, left]
    if sy == val and sx == key and not _mentions(y, key):
        kind = "max" if cop in ("<", "<=") else "min"
        return kind, [x, left]
    return None, []


def if_argminmax_shape(node: Node) -> dict | None:
    """`if (e < best) { best = e; idx = v; }` (strict <, >; either side order; no else) ->
    {"op": "min"|"max", "best": name, "idx": name, "value": e text, "index": v text}."""
    if node.type != "if_statement" or node.child_by_field_name("alternative") is not None:
        return None
    cond = node.child_by_field_name("condition")
    if cond is not None and cond.type == "condition_clause":
        vals = cond.named_children
        cond = vals[0] if len(vals) == 1 else None
    cond = _strip_parens(cond) if cond is not None else None
    if cond is None or cond.type != "binary_expression":
        return None
    cop = text(cond.child_by_field_name("operator"))
    if cop not in ("<", ">"):
        return None
    body = node.child_by_field_name("consequence")
    stmts = [c for c in body.named_children if c.type != "comment"] if body.type == "compound_statement" else [body]
    if len(stmts) != 2:
        return None
    asg = {}
    for st in stmts:
        if st.type != "expression_statement" or len(st.named_children) != 1:
            return None
        a = _strip_parens(st.named_children[0])
        if a.type != "assignment_expression" or text(a.child_by_field_name("operator")) != "=":
            return None
        left = _strip_parens(a.child_by_field_name("left"))
        if left.type != "identifier":
            return None
        asg[text(left)] = (" ".join(text(_strip_parens(a.child_by_field_name("right"))).split()),
                           _strip_parens(a.child_by_field_name("right")))
    x, y = _strip_parens(cond.child_by_field_name("left")), _strip_parens(cond.child_by_field_name("right"))
    sx, sy = " ".join(text(x).split()), " ".join(text(y).split())
    for val, best, flip in ((sx, sy, False), (sy, sx, True)):
        if best not in asg or asg[best][0] != val or len(asg) != 2:
            continue
        idx = next(k for k in asg if k != best)
        if _mentions(asg[idx][1], best) or _mentions(asg[idx][1], idx) or _mentions(asg[best][1], idx) \
                or _mentions(asg[best][1], best):
            return None
        op = "min" if (cop == "<") != flip else "max"
        return {"op": op, "best": best, "idx": idx, "value": val, "index": asg[idx][0]}
    return None
