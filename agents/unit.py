"""A translation unit (macros, typedefs, globals, functions, classes) and the
signatures of its functions: parameters with their kinds, base types and qualifiers."""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from tree_sitter import Node

from paralift.types import Param, ParamKind, Role, Signature

from .base import AnalysisError
from .syntax import _SCALAR_TYPES, line_of, normalize_type, parse, text


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
    # trivially copyable structs/classes: name -> [(field, element type, count)], count 1 for a
    # plain field; their values cross the test driver and MPI ranks as bytes
    records: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    ambiguous_records: set[str] = field(default_factory=set)   # one name, different layouts (namespaces)
    namespace: str = ""       # while scanning: the enclosing namespaces ("a::b::")
    member_functions: dict[str, Node] = field(default_factory=dict)  # 'Class::f' defined outside its class
    # function templates: name -> (definition, names of its type parameters)
    template_functions: dict[str, tuple[Node, set[str]]] = field(default_factory=dict)

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


def other_definitions(source: str, language: str) -> list[str]:
    """Function templates and member functions defined in the file (not in Unit.functions)."""
    u = load_unit(source, language)
    return sorted(u.templates | set(u.member_functions) - set(u.functions))


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
            outer = u.namespace
            if t == "namespace_definition" and ch.child_by_field_name("name") is not None:
                u.namespace = outer + text(ch.child_by_field_name("name")) + "::"
            try:
                _scan_top(u, body if body is not None else ch, in_template)
            finally:
                u.namespace = outer
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
                        u.template_functions[n] = (sub, _template_type_params(ch))
                elif sub.type in ("class_specifier", "struct_specifier"):
                    _scan_class(u, sub)
        elif t == "function_definition":
            name = _function_name(ch)
            if name is None:
                continue
            if "::" in name:
                u.methods.add(name.split("::")[-1])
                u.methods.add(name)
                u.member_functions[name] = ch
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


def _template_type_params(decl: Node) -> set[str]:
    params = decl.child_by_field_name("parameters")
    out = set()
    for p in (params.named_children if params is not None else []):
        if p.type in ("type_parameter_declaration", "optional_type_parameter_declaration"):
            out |= {text(c) for c in p.named_children if c.type == "type_identifier"}
    return out


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
    _scan_record(u, node, body)
    cname = text(node.child_by_field_name("name"))
    in_template = node.parent is not None and node.parent.type == "template_declaration"
    for m in body.named_children:
        if m.type == "function_definition":
            n = _function_name(m)
            if n:
                u.methods.add(n)
                # defined in its class: translated like one defined outside (agents/cpp_members.py);
                # constructors, destructors and operators are not functions to translate
                if cname and not in_template and "::" not in n and n.lstrip("~") != cname \
                        and not n.startswith("operator"):
                    u.member_functions.setdefault(u.namespace + cname + "::" + n, m)
        elif m.type == "template_declaration":
            for sub in m.named_children:
                if sub.type == "function_definition":
                    n = _function_name(sub)
                    if n:
                        u.methods.add(n)


COMPLEX_TYPES = {"float": "std::complex<float>", "double": "std::complex<double>"}


def _scan_record(u: Unit, node: Node, body: Node) -> None:
    """Record `node` in u.records when it is trivially copyable with a layout the tests can build:
    fields of scalar, std::complex or already recorded types (fixed-size arrays of them included), no
    base class, no virtual function, no reference or pointer field."""
    name = text(node.child_by_field_name("name"))
    if not name or any(c.type == "base_class_clause" for c in node.named_children):
        return
    fields: list[tuple[str, str, int]] = []
    for m in body.named_children:
        if m.type in ("access_specifier", "comment"):
            continue
        if m.type == "function_definition" or m.type == "declaration":
            if "virtual" in text(m).split("(")[0].split():
                return
            continue        # methods and constructors do not change the layout
        if m.type != "field_declaration":
            return
        if any(c.type == "storage_class_specifier" for c in m.named_children):
            continue        # static members are not part of an object
        ty = m.child_by_field_name("type")
        elem = record_type(u, ty) if ty is not None else None
        if elem is None:
            return
        for d in m.children_by_field_name("declarator"):
            count = 1
            while d is not None and d.type == "array_declarator":
                sz = d.child_by_field_name("size")
                k = _literal_size(u, sz)
                if k is None:
                    return
                count *= k
                d = d.child_by_field_name("declarator")
            if d is None or d.type != "field_identifier":
                return
            fields.append((text(d), elem, count))
    if fields:
        if name in u.records and u.records[name] != fields:
            u.ambiguous_records.add(name)     # e.g. two namespaces' Point: which one a name means is not known
        u.records[name] = fields
        if u.namespace:
            u.records[u.namespace + name] = fields    # geo::Point: the qualified name is never ambiguous


def _literal_size(u: Unit, sz: Node | None) -> int | None:
    if sz is None:
        return None
    t = text(sz).strip()
    if re.fullmatch(r"[0-9]+[uUlL]*", t):
        return int(re.sub(r"[uUlL]+$", "", t))
    return u.macro_int(t)


def record_type(u: Unit, ty: Node) -> str | None:
    """The element type a test can carry as bytes: a scalar ('double'), a std::complex of float/double
    ('std::complex<double>') or a recorded struct ('Point'); None otherwise."""
    base, _ = _type_words(u, ty)
    if base is not None and base != "void":
        return base
    name = text(ty).replace(" ", "")
    if name in u.records and name not in u.ambiguous_records:
        return name
    m = re.fullmatch(r"(?:std::)?complex<(float|double)>", name)
    if m:
        return COMPLEX_TYPES[m.group(1)]
    if re.fullmatch(r"(?:std::)?pair<.*>", name) and ty.type in ("template_type", "qualified_identifier"):
        return _pair_record(u, ty)
    return None


def _pair_record(u: Unit, ty: Node) -> str | None:
    """std::pair of two carried types: recorded as the struct {first; second;} it is laid out as."""
    node = ty.child_by_field_name("name") if ty.type == "qualified_identifier" else ty
    args = node.child_by_field_name("arguments") if node is not None else None
    descs = [a for a in args.named_children if a.type == "type_descriptor"] if args is not None else []
    if len(descs) != 2:
        return None
    parts = []
    for d in descs:
        inner = d.child_by_field_name("type")
        if inner is None or d.child_by_field_name("declarator") is not None or \
                any(c.type == "type_qualifier" for c in d.named_children):
            return None
        t = record_type(u, inner)
        if t is None:
            return None
        parts.append(t)
    name = f"std::pair<{parts[0]}, {parts[1]}>"
    u.records[name] = [("first", parts[0], 1), ("second", parts[1], 1)]
    return name


def record_dtype(u: Unit, name: str):
    """numpy dtype with the C layout of a recorded struct or std::complex (None for other names)."""
    import numpy as np
    from paralift.sandbox.inputs import dtype_of
    if name in COMPLEX_TYPES.values():
        return np.dtype(np.complex64 if "float" in name else np.complex128)
    fields = u.records.get(name)
    if fields is None:
        return None
    parts = []
    for fname, elem, count in fields:
        sub = record_dtype(u, elem) if elem in u.records or elem.startswith("std::complex") else dtype_of(elem)
        parts.append((fname, sub, (count,)) if count > 1 else (fname, sub))
    return np.dtype(parts, align=True)


def register_records(u: Unit, name: str) -> None:
    """Make `name` (and the records it contains) known to the test inputs (paralift.sandbox.inputs)."""
    from paralift.sandbox.inputs import register_record
    dt = record_dtype(u, name)
    if dt is not None and name in u.records:
        register_record(name, dt)


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
    return True, record_type(u, inner), text(ty)


NESTED_PREFIX = "std::vector<std::vector<"


def nested_container(elem: str) -> str:
    """The container text of a nested vector of `elem` (Param.container; DESIGN: rows of any lengths)."""
    return f"{NESTED_PREFIX}{elem}>>"


STRINGS = "std::vector<std::string>"
STRING = "std::string"


def is_nested(p) -> bool:
    """A std::vector<std::vector<T>> parameter (Param or its Decl's param), or a read-only
    std::vector<std::string> (rows of char: the same model, row = string)."""
    c = getattr(p, "container", None)
    return bool(c) and (c.startswith(NESTED_PREFIX) or c == STRINGS)


def _is_string(u: Unit, ty: Node | None) -> bool:
    """std::string (or `string` after `using namespace std`)."""
    if ty is None:
        return False
    t = text(ty).replace(" ", "")
    return t in ("std::string", "std::__cxx11::string") or (t == "string" and "using namespace std" in u.source)


def _string_param(u: Unit, ty: Node) -> str | None:
    """STRING for a std::string type, STRINGS for std::vector<std::string>, None otherwise."""
    if _is_string(u, ty):
        return STRING
    node = ty.child_by_field_name("name") if ty.type == "qualified_identifier" else ty
    if node is None or node.type != "template_type" or text(node.child_by_field_name("name")) != "vector":
        return None
    if ty.type == "qualified_identifier" and text(ty.child_by_field_name("scope")) != "std":
        return None
    args = node.child_by_field_name("arguments")
    descs = [a for a in args.named_children if a.type != "comment"] if args is not None else []
    if len(descs) != 1 or descs[0].type != "type_descriptor" or descs[0].child_by_field_name("declarator") or \
            any(c.type == "type_qualifier" for c in descs[0].named_children):
        return None
    return STRINGS if _is_string(u, descs[0].child_by_field_name("type")) else None


def _nested_vector_elem(u: Unit, ty: Node) -> str | None:
    """T of `std::vector<std::vector<T>>` when T is carried (scalar, std::complex, trivially copyable struct)."""
    node = ty.child_by_field_name("name") if ty.type == "qualified_identifier" else ty
    args = node.child_by_field_name("arguments") if node is not None else None
    descs = [a for a in args.named_children if a.type != "comment"] if args is not None else []
    if len(descs) != 1 or descs[0].type != "type_descriptor" or descs[0].child_by_field_name("declarator") or \
            any(c.type == "type_qualifier" for c in descs[0].named_children):
        return None
    inner = descs[0].child_by_field_name("type")
    if inner is None:
        return None
    is_vec, elem, _ = _vector_elem(u, inner)
    return elem if is_vec else None


def _vector_arg_text(ty: Node) -> str:
    t = " ".join(text(ty).split())
    return t[t.find("<") + 1:t.rfind(">")].strip() if "<" in t else t


def _std_array(u: Unit, ty: Node) -> tuple[str, int] | None:
    """(element type, size) of `std::array<T, N>` with a carried T and a literal (or macro) N."""
    node = ty
    if node.type == "qualified_identifier":
        if text(node.child_by_field_name("scope")) != "std":
            return None
        node = node.child_by_field_name("name")
    if node is None or node.type != "template_type" or text(node.child_by_field_name("name")) != "array":
        return None
    args = node.child_by_field_name("arguments")
    parts = [a for a in args.named_children if a.type != "comment"] if args is not None else []
    if len(parts) != 2 or parts[0].type != "type_descriptor" or parts[0].child_by_field_name("declarator"):
        return None
    inner = parts[0].child_by_field_name("type")
    elem = record_type(u, inner) if inner is not None else None
    count = _literal_size(u, parts[1])
    if elem is None or count is None or elem in ("bool", "_Bool"):
        return None
    return elem, count


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
    arr = _std_array(u, ty)
    if arr is not None and not (ptr_depth or arr_depth) and ref:
        elem, count = arr
        register_records(u, elem)
        p = Param(name=name, base_type=elem, kind=ParamKind.VECTOR, const=const, role=Role.IN if const else Role.INOUT,
                  extent=str(count), container=f"std::array<{elem}, {count}>")
        return ParamInfo(p, ptext)
    strings = _string_param(u, ty)
    if strings is not None:
        if ptr_depth or arr_depth:
            raise AnalysisError(bad)
        if not const:
            raise AnalysisError(bad + f" (a written {strings}: only read-only strings (const&) are supported)")
        if not ref:
            raise AnalysisError(bad + f" ({strings} passed by value; pass it by const reference)")
        p = Param(name=name, base_type="char", kind=ParamKind.VECTOR, const=True, role=Role.IN, container=strings)
        return ParamInfo(p, ptext)
    is_vec, vec_elem, vdesc = _vector_elem(u, ty)
    nested = _nested_vector_elem(u, ty) if is_vec and vec_elem is None else None
    if nested is not None:
        if ptr_depth or arr_depth:
            raise AnalysisError(bad)
        if not ref:
            raise AnalysisError(bad + " (std::vector passed by value; pass it by reference)")
        if nested in ("bool", "_Bool"):
            raise AnalysisError(bad + " (std::vector<std::vector<bool>>: bit-packed rows are not supported)")
        register_records(u, nested)
        p = Param(name=name, base_type=nested, kind=ParamKind.VECTOR, const=const,
                  role=Role.IN if const else Role.INOUT, container=nested_container(nested))
        return ParamInfo(p, ptext)
    if is_vec:
        if ptr_depth or arr_depth:
            raise AnalysisError(bad)
        if vec_elem is None:
            raise AnalysisError(bad + f" (std::vector of '{_vector_arg_text(ty)}': only vectors of arithmetic types, "
                                      "std::complex and trivially copyable structs are supported)")
        # a written std::vector<bool> is bit-packed: neighbouring elements share a word, so no two threads
        # may write one (agents/cpp_bits.py deals out whole words, or keeps the loop sequential)
        if not ref:
            raise AnalysisError(bad + " (std::vector passed by value; pass it by reference)")
        register_records(u, vec_elem)
        p = Param(name=name, base_type=vec_elem, kind=ParamKind.VECTOR, const=const,
                  role=Role.IN if const else Role.INOUT)
        return ParamInfo(p, ptext)
    base, desc = _type_words(u, ty)
    if base is None:
        base = record_type(u, ty)
        if base is None and text(ty).replace(" ", "") in u.ambiguous_records:
            raise AnalysisError(bad + f" (struct '{text(ty)}' is defined more than once in this file, with "
                                      "different fields (namespaces): which one the parameter has is not resolved)")
        if base is None:
            raise AnalysisError(bad + f" (type '{text(ty)}' is not a scalar, std::complex or trivially copyable struct)")
        register_records(u, base)
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
    from paralift.sandbox.inputs import layout_of
    records = {}
    for t in [p.base_type for p in params] + [" ".join(ret_words.split())]:
        if t in u.records and t not in u.ambiguous_records:
            dt = record_dtype(u, t)
            if dt is not None:
                records[t] = layout_of(dt)
    return Signature(name=name, return_type=" ".join(ret_words.split()), params=params, text=head,
                     static=static, start_line=line_of(fn), end_line=fn.end_point[0] + 1, records=records)
