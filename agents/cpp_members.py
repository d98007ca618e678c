"""C++ function templates instantiated in the file, and member functions of a class whose loops touch
its fields (issue 23), analysed as the free functions they stand for.

- A function template `template <typename T> void axpy(T a, std::vector<T> const& x, ...)` is analysed
  with the types of its instantiation in the file (`template void axpy<float>(...);`, a call
  `axpy<float>(...)`, or a call `axpy(a, x, y)` whose variable arguments deduce T): the `template <...>` header is replaced, on the same lines, by `typedef float T;`
  (a non-type parameter by a constexpr), so the function is an ordinary function of those types. The
  drivers call the instantiation (Signature.call = "axpy<float>"). Every instantiation the file makes is
  analysed; the OpenMP translation (pragmas in the template's body) is kept only when it is the same for
  all of them. MPI code for a template whose one type parameter is float or double (and which writes
  no floating type itself) is made generic: T for the type, __pl_mpi_t<T>() for the datatype, kept when
  the generator's code for the other floating type is the same text once made generic; otherwise MPI,
  and CUDA always, keep a template sequential (the written code would hold for one instantiation only).
- A member function `void Grid::smooth(double w)` defined outside its class is analysed as the free
  function `Grid__pl_smooth(std::vector<double> &u, int n, double w)`: the fields its body names become
  leading parameters (by reference when written), the body is untouched. The tests build one
  default-constructed object, swap the fields' values into it before the call and back after
  (Signature.receiver, Param.member). A class the driver cannot build that way (no default constructor,
  a base class, private fields the function uses, reference or array fields, `this`) keeps the function
  sequential with the reason.

Candidates are written on the rewritten source and mapped back (map_back): the rewritten header is
replaced by the original one, so the output keeps the template or the member function as written.
"""
from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field

from tree_sitter import Node

from .base import AnalysisError, NotParallelizable
from .syntax import text

NOTE_TEMPLATE = "function template analysed with the types of its instantiation in the file"
NOTE_MEMBER = "member function analysed with the fields it uses as parameters"


@dataclass
class Rewrite:
    source: str                  # the analysable source
    function: str                # the function's name in it
    name: str                    # the function's name as the user knows it ("axpy", "Grid::smooth")
    back: list[tuple[str, str]]  # (rewritten text, original text) that map a candidate back
    call: str = ""               # Signature.call
    receiver: str = ""           # Signature.receiver
    fields: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)     # the instantiation's arguments (templates)
    bindings: dict = field(default_factory=dict)       # template parameter -> its argument
    # a member function defined in its class: (the appended free copy's header, the body as written)
    moved: tuple[str, str] | None = None
    head: str = ""               # the member function's header as written (Signature.text)
    others: list["Rewrite"] = field(default_factory=list)   # the file's other instantiations

    def describe(self) -> str:
        if self.receiver:
            return f"member function of '{self.receiver}' analysed with the fields it uses as parameters"
        return f"function template analysed as its instantiation {self.call}"


# ---------------------------------------------------------------- templates

def _template_params(decl: Node) -> list[tuple[str, str, str | None]]:
    """[(kind 'type' | 'value', name, declared type of a value parameter)] in order."""
    params = decl.child_by_field_name("parameters")
    out = []
    for p in (params.named_children if params is not None else []):
        if p.type in ("type_parameter_declaration", "optional_type_parameter_declaration"):
            names = [text(c) for c in p.named_children if c.type == "type_identifier"]
            if len(names) != 1:
                raise AnalysisError(f"template parameter '{text(p)}' is not understood")
            out.append(("type", names[0], None))
        elif p.type in ("parameter_declaration", "optional_parameter_declaration"):
            d = p.child_by_field_name("declarator")
            ty = p.child_by_field_name("type")
            if d is None or d.type != "identifier" or ty is None:
                raise AnalysisError(f"template parameter '{text(p)}' is not understood")
            out.append(("value", text(d), text(ty)))
        else:
            raise AnalysisError(f"template parameter '{text(p)}' is not understood (a variadic or template "
                                f"template parameter)")
    return out


def _split_args(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "<([":
            depth += 1
        elif ch in ">)]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return [" ".join(a.split()) for a in out]


def _blank(source: str) -> str:
    """Comments and string/char literals as spaces (same offsets)."""
    def rep(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', rep, source, flags=re.S)


def instantiations(source: str, name: str, skip: tuple[int, int]) -> list[list[str]]:
    """The distinct explicit template argument lists `name<...>(` is used with outside `skip` (the
    template's own definition), in order of appearance."""
    blank = _blank(source)
    out: list[list[str]] = []
    for m in re.finditer(r"(?<![\w:])" + re.escape(name) + r"\s*<", blank):
        if skip[0] <= m.start() < skip[1]:
            continue
        i, depth = m.end(), 1
        while i < len(blank) and depth:
            depth += {"<": 1, ">": -1}.get(blank[i], 0)
            i += 1
        if depth or not re.match(r"\s*\(", blank[i:]):
            continue
        args = _split_args(source[m.end():i - 1])
        if args and args not in out:
            out.append(args)
    return out


def _type_key(t: str) -> str:
    """A declared type without qualifiers, references and spaces ("std::vector<int>", "double*")."""
    t = re.sub(r"\b(const|volatile|restrict|__restrict__|__restrict|typename)\b", " ", t).replace("&", " ")
    t = re.sub(r"\s+", " ", t).strip()
    return re.sub(r"\s*([<>,*:()\[\]])\s*", r"\1", t)


def _inner_declarator(d: Node) -> Node | None:
    """The declarator inside `d` (a reference declarator has it as an unnamed child)."""
    inner = d.child_by_field_name("declarator")
    if inner is None and d.type == "reference_declarator":
        inner = next((c for c in d.named_children), None)
    return inner


def _param_types(fn: Node) -> list[tuple[str, str]]:
    """[(name, declared type with its pointer stars)] of a function definition's parameters."""
    d = fn.child_by_field_name("declarator")
    while d is not None and d.type != "function_declarator":
        d = d.child_by_field_name("declarator")
    plist = d.child_by_field_name("parameters") if d is not None else None
    out = []
    for p in (plist.named_children if plist is not None else []):
        ty = p.child_by_field_name("type")
        dd = p.child_by_field_name("declarator")
        stars = ""
        while dd is not None and dd.type not in ("identifier",):
            if dd.type == "pointer_declarator":
                stars += "*"
            dd = _inner_declarator(dd)
        if ty is not None and dd is not None:
            out.append((text(dd), text(ty) + stars))
    return out


def _local_types(fn: Node) -> dict[str, str]:
    """Names declared in a function (its parameters and plain local declarations) -> their types."""
    out = dict(_param_types(fn))
    stack = [fn.child_by_field_name("body")]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        if n.type == "declaration":
            ty = n.child_by_field_name("type")
            for dd in n.children_by_field_name("declarator"):
                stars = ""
                while dd is not None and dd.type not in ("identifier",):
                    if dd.type == "pointer_declarator":
                        stars += "*"
                    dd = _inner_declarator(dd)
                if ty is not None and dd is not None and text(ty) != "auto":
                    out.setdefault(text(dd), text(ty) + stars)
        stack.extend(n.named_children)
    return out


def _arg_type(a: Node, locs: dict, unit) -> str | None:
    """The type of a call argument when the file says it: a variable of a declared type, a field of a
    variable whose class is defined in the file (`g.u`), or a numeric literal (`0.5` double, `2.0f`
    float, `1` int)."""
    if a.type == "identifier":
        return locs.get(text(a))
    if a.type == "number_literal":
        t = text(a).lower()
        if t.startswith("0x"):
            return None
        if any(c in t for c in ".e"):
            return "float" if t.endswith("f") else ("long double" if t.endswith("l") else "double")
        suffix = re.sub(r"^[0-9']+", "", t)
        return {"": "int", "u": "unsigned int", "l": "long", "ul": "unsigned long", "lu": "unsigned long",
                "ll": "long long", "ull": "unsigned long long", "llu": "unsigned long long"}.get(suffix)
    if a.type == "field_expression" and text(a.child_by_field_name("operator") or a) != "->":
        obj, fld = a.child_by_field_name("argument"), a.child_by_field_name("field")
        if obj is None or fld is None or obj.type != "identifier" or text(obj) not in locs:
            return None
        cls = _find_class(unit.root, _type_key(locs[text(obj)]))
        if cls is None:
            return None
        body = cls.child_by_field_name("body")
        for m in body.named_children:
            if m.type != "field_declaration":
                continue
            for d in m.children_by_field_name("declarator"):
                if d.type == "field_identifier" and text(d) == text(fld):
                    ty = m.child_by_field_name("type")
                    return text(ty) if ty is not None else None
    return None


def deduced_instantiations(unit, name: str, fn: Node, params, skip: tuple[int, int]) -> list[list[str]]:
    """Template arguments of calls `name(args)` in the file's other functions that deduce them: an
    argument that is a variable of a declared type, matched against the template parameter's type
    (`std::vector<T> &` with a `std::vector<int>` gives T = int). Calls that leave a parameter
    undeduced, or deduce it two ways, give nothing."""
    ptypes = [_type_key(t) for _, t in _param_types(fn)]
    tnames = [p[1] for p in params]
    if any(k != "type" for k, _, _ in params):
        return []
    found: list[list[str]] = []
    stack = [unit.root]
    while stack:
        n = stack.pop()
        if n.type == "function_definition" and not (skip[0] <= n.start_byte < skip[1]):
            locs = None
            calls = [c for c in _descendants(n) if c.type == "call_expression"
                     and text(c.child_by_field_name("function")) == name]
            for c in calls:
                if locs is None:
                    locs = _local_types(n)
                args = [a for a in c.child_by_field_name("arguments").named_children if a.type != "comment"]
                if len(args) != len(ptypes):
                    continue
                got: dict[str, str] = {}
                ok = True
                for a, pt in zip(args, ptypes):
                    at = _arg_type(a, locs, unit)
                    if at is None or not any(re.search(rf"(?<!\w){re.escape(t)}(?!\w)", pt) for t in tnames):
                        continue
                    pat, seen = "", set()
                    for tok in re.split(r"(\w+)", pt):
                        if tok in tnames:
                            pat += f"(?P={tok})" if tok in seen else f"(?P<{tok}>.+?)"
                            seen.add(tok)
                        else:
                            pat += re.escape(tok)
                    m = re.fullmatch(pat, _type_key(at))
                    if m is None:
                        ok = False
                        break
                    for t, v in m.groupdict().items():
                        if v is not None and got.setdefault(t, v) != v:
                            ok = False
                if ok and all(t in got for t in tnames):
                    args_t = [got[t] for t in tnames]
                    if args_t not in found:
                        found.append(args_t)
            continue
        stack.extend(n.named_children)
    return found


def _descendants(n: Node):
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(x.named_children)


def template_rewrites(source: str, language: str, name: str, unit) -> Rewrite:
    """The rewrite of the function template `name` for its first instantiation in the file (the others
    in .others); AnalysisError naming what is missing otherwise."""
    fn, _ = unit.template_functions[name]
    decl = fn.parent
    if decl is None or decl.type != "template_declaration":
        raise AnalysisError(f"function template '{name}' is not understood")
    params = _template_params(decl)
    found = instantiations(source, name, (decl.start_byte, decl.end_byte))
    if not found:
        found = deduced_instantiations(unit, name, fn, params, (decl.start_byte, decl.end_byte))
    if not found:
        raise AnalysisError(f"function template '{name}' is not instantiated in the file (no 'template void "
                            f"{name}<double>(...);', no call '{name}<double>(...)', no call whose variable "
                            f"arguments deduce its template parameters), so the types to analyse it with are "
                            f"not known")
    data = unit.data
    head = data[decl.start_byte:fn.start_byte].decode("utf-8")
    rewrites = []
    for args in found:
        if len(args) != len(params):
            raise AnalysisError(f"function template '{name}' is instantiated as '{name}<{', '.join(args)}>' "
                                f"(default or deduced template arguments are not understood)")
        defs = []
        for (kind, pname, ptype), a in zip(params, args):
            defs.append(f"typedef {a} {pname};" if kind == "type" else f"constexpr {ptype} {pname} = {a};")
        new_head = " ".join(defs) + " /* paralift: template instantiation */" + "\n" * head.count("\n")
        if "\n" not in head:
            new_head += " "
        src = (data[:decl.start_byte] + new_head.encode() + data[fn.start_byte:]).decode("utf-8")
        rewrites.append(Rewrite(source=src, function=name, name=name, back=[(new_head, head)],
                                call=f"{name}<{', '.join(args)}>", types=args,
                                bindings={p[1]: a for p, a in zip(params, args)}))
    first = rewrites[0]
    first.others = rewrites[1:]
    return first


# ---------------------------------------------------------------- member functions

def _find_class(root: Node, qual: str) -> Node | None:
    """The class/struct definition named by `qual` ("Grid" or "ns::Grid")."""
    parts = qual.split("::")
    stack = [(root, [])]
    while stack:
        n, ns = stack.pop()
        for ch in n.named_children:
            if ch.type in ("class_specifier", "struct_specifier") and ch.child_by_field_name("body") is not None:
                nm = ch.child_by_field_name("name")
                if nm is not None and (ns + [text(nm)])[-len(parts):] == parts:
                    return ch
            if ch.type == "namespace_definition":
                nm = ch.child_by_field_name("name")
                body = ch.child_by_field_name("body")
                if body is not None:
                    stack.append((body, ns + ([text(nm)] if nm is not None else [])))
            elif ch.type in ("declaration_list", "linkage_specification", "preproc_ifdef", "preproc_if",
                             "template_declaration"):
                stack.append((ch, ns))
    return None


def _fields(cls: Node, cname: str) -> tuple[dict, bool, bool]:
    """({field: (type text, declarator text, public, declarator kind)}, has a default constructor, has
    a base class); the class's member function and static member names are in out[None]."""
    body = cls.child_by_field_name("body")
    public = cls.type == "struct_specifier"
    out: dict = {None: set()}
    ctors: list[str] = []
    base = any(c.type == "base_class_clause" for c in cls.named_children)
    for m in body.named_children:
        if m.type == "access_specifier":
            public = text(m).strip().rstrip(":").strip() == "public"
            continue
        if m.type in ("function_definition", "declaration", "field_declaration"):
            d = m.child_by_field_name("declarator")
            while d is not None and d.type not in ("function_declarator",) and d.child_by_field_name(
                    "declarator") is not None:
                d = d.child_by_field_name("declarator")
            if d is not None and d.type == "function_declarator":
                nm = text(d.child_by_field_name("declarator"))
                if nm == cname:
                    ctors.append(text(d.child_by_field_name("parameters")))
                out[None].add(nm)
                continue
        if m.type != "field_declaration":
            continue
        if any(c.type == "storage_class_specifier" for c in m.named_children):
            for d in m.children_by_field_name("declarator"):
                while d is not None and d.type != "field_identifier":
                    d = d.child_by_field_name("declarator")
                if d is not None:
                    out[None].add(text(d))
            continue
        ty = m.child_by_field_name("type")
        for d in m.children_by_field_name("declarator"):
            nm = d
            while nm is not None and nm.type not in ("field_identifier",):
                nm = nm.child_by_field_name("declarator")
            if nm is None or ty is None:
                continue
            out[text(nm)] = (text(ty), text(d), public, d.type)
    default = not ctors or any(re.fullmatch(r"\(\s*(void)?\s*\)", c) or "=" in c for c in ctors)
    return out, default, base


def _written(body_text: str, name: str) -> bool:
    n = re.escape(name)
    return bool(re.search(rf"(?<![\w.>]){n}\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)|(?:\+\+|--)\s*{n}\b|"
                          rf"(?<![\w.>]){n}\s*(?:\+\+|--)", body_text))


def member_rewrite(source: str, language: str, name: str, unit) -> Rewrite:
    fn = unit.member_functions[name]
    cname, method = name.rsplit("::", 1)
    short = cname.split("::")[-1]
    where = f"member function '{name}'"
    if method in (short, "~" + short) or method.startswith("operator"):
        raise AnalysisError(f"{where} is a constructor, destructor or operator, which is not translated")
    cls = _find_class(unit.root, cname)
    if cls is None:
        raise AnalysisError(f"{where}: its class '{cname}' is not defined in the file, so the tests cannot "
                            f"build an object to call it on")
    fields, default, base = _fields(cls, short)
    if base:
        raise AnalysisError(f"{where}: class '{cname}' has a base class, which the analysis does not model")
    if not default:
        raise AnalysisError(f"{where}: class '{cname}' has no default constructor, so the tests cannot build "
                            f"an object to call it on")
    body = fn.child_by_field_name("body")
    decl = fn.child_by_field_name("declarator")
    while decl is not None and decl.type != "function_declarator":
        decl = decl.child_by_field_name("declarator")
    if body is None or decl is None:
        raise AnalysisError(f"{where} is not understood")
    ids: set[str] = set()
    stack = [body]
    while stack:
        n = stack.pop()
        if n.type == "this":
            raise AnalysisError(f"{where} uses 'this', which the analysis does not model")
        if n.type == "identifier":
            ids.add(text(n))
        stack.extend(n.named_children)
    pnode = decl.child_by_field_name("parameters")
    own = set()
    for p in (pnode.named_children if pnode is not None else []):
        d = p.child_by_field_name("declarator")
        while d is not None and d.type != "identifier":
            d = d.child_by_field_name("declarator")
        if d is not None:
            own.add(text(d))
    others = fields.pop(None)
    shared = sorted(n for n in others if n in ids and n not in own)
    if shared:
        raise AnalysisError(f"{where} uses '{shared[0]}', another member function or a static member of class "
                            f"'{cname}', which the analysis does not model")
    used = [f for f in fields if f in ids and f not in own]
    btext = text(body)
    fparams = []
    for f in used:
        ty, dtext, public, dtype = fields[f]
        if not public:
            raise AnalysisError(f"{where} uses the private field '{f}' of class '{cname}', which the tests "
                                f"cannot set")
        if dtype not in ("field_identifier", "pointer_declarator"):
            raise AnalysisError(f"{where} uses the field '{f}' ('{dtext}'), whose kind (an array, a "
                                f"reference or an initialized field) is not modelled")
        if dtype == "pointer_declarator":
            fparams.append(f"{ty} {dtext}")
        elif "vector" in ty or "array" in ty or "string" in ty:
            fparams.append(f"{ty} &{f}" if _written(btext, f) or not ty.startswith("const") else f"{ty} &{f}")
        else:
            fparams.append(f"{ty} &{f}" if _written(btext, f) else f"{ty} {f}")
    data = unit.data
    ret = data[fn.start_byte:decl.start_byte].decode("utf-8")
    old_head = data[fn.start_byte:body.start_byte].decode("utf-8")
    inner = text(pnode)[1:-1].strip() if pnode is not None else ""
    if inner == "void":
        inner = ""
    free = cname.replace("::", "__") + "__pl_" + method
    if fn.parent is not None and fn.parent.type == "field_declaration_list":
        # defined in its class: the free function is a copy appended to the file, whose translated
        # body map_back moves into the class
        ret = re.sub(r"\b(virtual|static|inline|explicit|constexpr)\b\s*", "", ret)
        new_head = f"\n/* paralift: {name} */\n{ret}{free}({', '.join(fparams + ([inner] if inner else []))}) "
        src = unit.source.rstrip("\n") + "\n" + new_head + text(body) + "\n"
        return Rewrite(source=src, function=free, name=name, back=[], call=method, receiver=cname, fields=used,
                       moved=(new_head, text(body)), head=" ".join(old_head.split()))
    new_head = f"{ret}{free}({', '.join(fparams + ([inner] if inner else []))}) "
    new_head += "\n" * (old_head.count("\n") - new_head.count("\n"))
    src = (data[:fn.start_byte] + new_head.encode() + data[body.start_byte:]).decode("utf-8")
    # defined inside a namespace: the drivers (at file scope) name the class with it
    ns, up = [], fn.parent
    while up is not None:
        if up.type == "namespace_definition" and up.child_by_field_name("name") is not None:
            ns.insert(0, text(up.child_by_field_name("name")))
        up = up.parent
    receiver = "::".join(ns + [cname])
    return Rewrite(source=src, function=free, name=name, back=[(new_head, old_head)],
                   call=f"{method}", receiver=receiver, fields=used, head=" ".join(old_head.split()))


# ---------------------------------------------------------------- analysis and candidates

def rewrite_for(source: str, language: str, function: str, unit) -> Rewrite | None:
    """The rewrite that makes `function` an analysable free function; None for a free function."""
    if language != "cpp":
        return None
    if function in unit.template_functions:
        return template_rewrites(source, language, function, unit)
    if function in unit.member_functions:
        return member_rewrite(source, language, function, unit)
    return None


def attach(fx, rw: Rewrite) -> None:
    """Mark the analysis of the rewritten source with its rewrite and the Signature the tests use."""
    fx.cpp_rewrite = rw
    ret = fx.signature.return_type
    for k, v in rw.bindings.items():       # `T sum(...)`: the result has the instantiation's type
        ret = re.sub(rf"(?<![\w:]){re.escape(k)}(?![\w])", v, ret)
    sig = dataclasses.replace(fx.signature, name=rw.name, call=rw.call, receiver=rw.receiver, return_type=ret,
                              text=rw.head or fx.signature.text)
    sig.params = [dataclasses.replace(p, member=p.name in rw.fields) for p in fx.signature.params]
    fx.task_signature = sig
    note = NOTE_MEMBER if rw.receiver else NOTE_TEMPLATE
    if note not in fx.notes:
        fx.notes.append(note)


_MPI_TYPES = re.compile(r"\bMPI_(?:CHAR|SIGNED_CHAR|UNSIGNED_CHAR|SHORT|UNSIGNED_SHORT|INT|UNSIGNED|LONG|"
                        r"UNSIGNED_LONG|LONG_LONG|UNSIGNED_LONG_LONG|FLOAT|DOUBLE|LONG_DOUBLE|C_BOOL|CXX_BOOL|"
                        r"INT8_T|INT16_T|INT32_T|INT64_T|UINT8_T|UINT16_T|UINT32_T|UINT64_T|BYTE|"
                        r"C_FLOAT_COMPLEX|C_DOUBLE_COMPLEX|CXX_FLOAT_COMPLEX|CXX_DOUBLE_COMPLEX|"
                        r"FLOAT_INT|DOUBLE_INT|LONG_INT|2INT)\b")


def check_target(fx, target) -> None:
    """NotParallelizable when the target's translation cannot be written for this rewrite."""
    t = getattr(target, "value", target)
    rw = getattr(fx, "cpp_rewrite", None)
    if rw is None:
        return
    # a member function defined outside its class: the kernel goes at file scope before it and the host
    # wrapper, written on the fields as parameters, is the member function's body (fields by their names);
    # a function template: explicit specializations for the file's instantiations (specializations)
    if t == "cuda" and rw.receiver and not (rw.moved is None and "::" not in rw.receiver):
        what = (f"'{rw.name}' is a member function of '{rw.receiver}' defined "
                f"{'in a namespace' if rw.moved is None else 'in its class'}")
        raise NotParallelizable(f"'{rw.name}' is kept sequential for cuda: {what}, which the CUDA translation "
                                f"does not write (a host wrapper and device code per instantiation/object)")


def map_back(fx, code: str, target=None, original: str | None = None) -> str:
    """A candidate written on the rewritten source, as the original function (template / member)."""
    t = getattr(target, "value", target)
    if t == "mpi" and fx.unit.language == "cpp":
        from .cpp_bits import mpi_bool_buffers
        try:
            code = mpi_bool_buffers(fx, code)
        except NotParallelizable as e:
            name = getattr(getattr(fx, "task_signature", None), "name", None) or fx.signature.name
            raise NotParallelizable(f"'{name}' is kept sequential for mpi: {e}") from None
    rw = getattr(fx, "cpp_rewrite", None)
    if rw is None:
        return code
    if t == "cuda" and not rw.receiver:
        return specializations(rw, code, original, "cuda")
    if rw.moved is not None:
        head, body = rw.moved
        at = code.find(head)
        if at < 0 or code.count(head) != 1:
            raise NotParallelizable(f"'{rw.name}' is kept sequential: the translated function could not be "
                                    f"mapped back into its class")
        translated = code[at + len(head):].rstrip("\n")
        code = code[:at].rstrip("\n") + "\n"
        if code.count(body) != 1:
            raise NotParallelizable(f"'{rw.name}' is kept sequential: its body is not unique in the file, so the "
                                    f"translation could not be mapped back into its class")
        code = code.replace(body, translated, 1)
        if not code.endswith("\n") and original is not None and not original.endswith("\n"):
            pass
    pre_back = code
    for new, old in rw.back:
        if code.count(new) != 1:
            raise NotParallelizable(f"'{rw.name}' is kept sequential: the translated function could not be "
                                    f"mapped back to the {'member function' if rw.receiver else 'template'}")
        code = code.replace(new, old, 1)
    if not rw.receiver and original is not None and t == "mpi":
        generic = _generic_mpi(rw, code, original)
        if generic is not None:
            return generic
    if not rw.receiver and original is not None:
        added = _added_text(original, code)
        words = set(re.findall(r"[\w:]+", " ".join(rw.types)))
        if (t == "mpi" and _MPI_TYPES.search(added)) or any(re.search(rf"(?<![\w:]){re.escape(w)}(?![\w:])", added)
                                           for w in words if w not in ("std", "const", "unsigned", "long")):
            if t == "mpi" and rw.bindings:
                return specializations(rw, pre_back, original, "mpi")
            raise NotParallelizable(f"'{rw.name}' is kept sequential for {t}: it is a function template and its "
                                    f"translation names the element types of one instantiation "
                                    f"({rw.call}), which would be wrong for the others")
    if not rw.receiver and t == "openmp" and rw.others:
        from .analysis import analyze
        from .codegen_openmp import generate_openmp
        mine = _pragmas(code)
        from .base import AnalysisError as _AE
        for o in rw.others:
            try:
                fo = analyze(o.source, "cpp", o.function)
            except _AE as e:
                raise NotParallelizable(f"'{rw.name}' is kept sequential for openmp: it is a function template and "
                                        f"its instantiation {o.call} is not understood ({e})") from None
            try:
                other = generate_openmp(fo)[0] if fo.chosen_loops() else ""
            except NotParallelizable:
                other = ""
            if _pragmas(other) != mine:
                raise NotParallelizable(f"'{rw.name}' is kept sequential for openmp: it is a function template "
                                        f"instantiated as {rw.call} and {o.call}, whose loops do not take the "
                                        f"same OpenMP directives")
    return code


def _pragmas(code: str) -> list[str]:
    return [" ".join(line.split()) for line in code.splitlines() if line.strip().startswith("#pragma omp")]


def _added_text(original: str, code: str) -> str:
    import difflib
    a, b = original.splitlines(), code.splitlines()
    out = []
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            out += b[j1:j2]
    return _blank("\n".join(out))


def definition_lines(code: str, language: str, name: str) -> tuple[int, int] | None:
    """(first, last) 1-based lines of the definition of the function template (its `template <...>`
    line included) or out-of-class member function `name`; None when `code` has none."""
    if language != "cpp":
        return None
    from .unit import load_unit
    try:
        u = load_unit(code, language)
    except AnalysisError:
        return None
    if name in u.template_functions:
        fn = u.template_functions[name][0]
        node = fn.parent if fn.parent is not None and fn.parent.type == "template_declaration" else fn
    elif name in u.member_functions:
        node = u.member_functions[name]
    else:
        return None
    return node.start_point[0] + 1, node.end_point[0] + 1


# MPI for a function template: where its only floating types are its type parameters (T = float or
# double, no `float`/`double` written in the template), every `double` and MPI_DOUBLE the generator
# wrote stands for T: they are written as T and __pl_mpi_t<T>(). Kept only when the code the generator
# writes for the other floating type, made generic the same way, is the same text.
_FLOATS = {"float": "MPI_FLOAT", "double": "MPI_DOUBLE"}
MPI_T_HELPER = """#include <type_traits>
/* paralift: the MPI datatype of a template's element type */
template <typename __PL_T> static inline MPI_Datatype __pl_mpi_t() {
    if (std::is_same<__PL_T, double>::value) return MPI_DOUBLE;
    if (std::is_same<__PL_T, float>::value) return MPI_FLOAT;
    if (std::is_same<__PL_T, long double>::value) return MPI_LONG_DOUBLE;
    return MPI_DATATYPE_NULL;
}"""


def _generic_lines(rw, code: str, original: str) -> str | None:
    import difflib
    floats = {k: v for k, v in rw.bindings.items() if v in _FLOATS}
    if len(floats) != 1 or len(rw.bindings) != 1:
        return None
    (tname, ty), = floats.items()
    head = original.find(rw.back[0][1]) if rw.back else -1
    tmpl = original[head:] if head >= 0 else original
    if re.search(r"\b(float|double)\b", _blank(tmpl.split("\n}\n")[0])):
        return None
    a, b = original.split("\n"), code.split("\n")
    out = []
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        seg = b[j1:j2]
        if tag in ("replace", "insert"):
            seg = [re.sub(rf"\b{_FLOATS[ty]}\b", f"__pl_mpi_t<{tname}>()", re.sub(rf"\b{ty}\b", tname, line))
                   for line in seg]
            if any(re.search(r"\b(float|double|MPI_FLOAT|MPI_DOUBLE|MPI_\w+_INT|__pl_type_\w+)\b", line) or
                   "MPI_C_" in line or "MPI_CXX_" in line for line in seg):
                return None
        out += seg
    return "\n".join(out)


def _generic_mpi(rw, code: str, original: str) -> str | None:
    """The MPI candidate of a template made generic (above), or None."""
    if any(v not in _FLOATS for o in rw.others for v in o.bindings.values()):
        # __pl_mpi_t<T>() knows the floating types only: another instantiation (total<int> beside
        # total<double>) would reach MPI with MPI_DATATYPE_NULL, and the tests run the first one only
        return None
    gen = _generic_lines(rw, code, original)
    if gen is None:
        return None
    # the other floating type: the generator's code for it, made generic, must be the same
    (tname, ty), = rw.bindings.items()
    other = "float" if ty == "double" else "double"
    from .analysis import analyze
    from .codegen_mpi import generate_mpi
    try:
        probe_src = rw.source.replace(f"typedef {ty} {tname};", f"typedef {other} {tname};", 1)
        fa, fb = analyze(rw.source, "cpp", rw.function), analyze(probe_src, "cpp", rw.function)
        ca, cb = generate_mpi(fa)[0], generate_mpi(fb)[0]
    except Exception:       # noqa: BLE001 - no probe, no generic code
        return None
    new_head, old_head = rw.back[0]
    ca = ca.replace(new_head, old_head, 1)
    cb = cb.replace(new_head.replace(f"typedef {ty} {tname};", f"typedef {other} {tname};", 1), old_head, 1)
    pa = _generic_lines(rw, ca, original)
    rb = dataclasses.replace(rw, bindings={tname: other})
    pb = _generic_lines(rb, cb, original)
    if pa is None or pa != pb:
        return None
    m = re.search(r"^#include <mpi.h>\n", gen, re.M)
    if m is None:
        return None
    return gen[:m.end()] + MPI_T_HELPER + "\n" + gen[m.end():]


# ---------------------------------------------------------------- CUDA: explicit specializations

_INST = "/* paralift: template instantiation */"


def _binding_line(rw: Rewrite, ln: str) -> bool:
    """Is ln one of the rewrite's bindings of the template parameters (`typedef float T;`,
    `constexpr int N = 4;`)?"""
    t = " ".join(ln.split())
    return t.endswith(_INST) or any(t in (f"typedef {a} {p};", f"typedef {a} {p}; {_INST}") or
                                    (t.startswith("constexpr ") and t.endswith(f" {p} = {a};"))
                                    for p, a in rw.bindings.items())


def _unit_for(rw: Rewrite, code: str, idx: int, target: str = "cuda") -> str:
    """The CUDA or MPI unit written for instantiation `rw` as an explicit specialization: the template
    parameters' typedefs dropped and their arguments written in, the host function `template <>
    f<args>(...)`, CUDA's kernels named apart per instantiation."""
    lines = code.split("\n")
    is_def = functools.partial(_binding_line, rw)
    cut = next((i for i, ln in enumerate(lines) if is_def(ln)), None)
    if cut is None:
        raise NotParallelizable(f"'{rw.name}' is kept sequential for {target}: the {target.upper()} code of its "
                                f"instantiation {rw.call} does not carry the template's parameters")
    # the parameters are written in after their typedefs only: the prelude's own templates name T too
    tail = "\n".join(ln for ln in lines[cut:] if not is_def(ln))
    for p, a in rw.bindings.items():
        tail = re.sub(rf"(?<![\w:.]){re.escape(p)}(?![\w])", a, tail)
    code = "\n".join(lines[:cut] + [tail])
    code = code.replace(f"__pl_kernel_{rw.function}_", f"__pl_kernel_{rw.function}_t{idx}_")
    args = ", ".join(rw.types)
    out, done = [], False
    for ln in code.split("\n"):
        if not done and "__global__" not in ln and not ln.lstrip().startswith(("#", "/*", "//")) and \
                re.search(rf"(?<![\w:]){re.escape(rw.function)}\s*\(", ln):
            ln = "template <> " + re.sub(rf"(?<![\w:]){re.escape(rw.function)}\s*\(", f"{rw.function}<{args}>(", ln,
                                        count=1)
            done = True
        out.append(ln)
    if not done:
        raise NotParallelizable(f"'{rw.name}' is kept sequential for {target}: the host function of its "
                                f"instantiation {rw.call} could not be found in the {target.upper()} code")
    return "\n".join(out)


def _generic_text(rw: Rewrite, unit: str) -> str:
    """The unit with the instantiation's arguments written as its parameters again (for comparing the
    code of two instantiations): from the first kernel on, the shared prelude (which names both floating
    types) left out."""
    at = unit.find("__global__")
    unit = unit[unit.rfind("\n", 0, at) + 1:] if at >= 0 else unit
    unit = re.sub(r"__pl_kernel_(\w+?)_t\d+_", r"__pl_kernel_\1_", unit)
    for p, a in sorted(rw.bindings.items(), key=lambda kv: -len(kv[1])):
        unit = re.sub(rf"(?<![\w:]){re.escape(a)}(?![\w])", p, unit)
    return unit


def _unbound_text(rw: Rewrite, code: str) -> str:
    """The code generated on the rewritten source (the template's parameters still named, bound by the
    typedefs) with those typedefs and MPI's datatypes of the arguments written as the parameters: equal
    for two instantiations when the parameters are all that differs. Writing the arguments back as
    parameters in the finished unit instead would take the generator's own `int` and `long long` for T."""
    from .codegen_mpi import MPI_TYPES
    out = "\n".join(ln for ln in code.split("\n") if not _binding_line(rw, ln)).replace(rw.function, "__pl_fn")
    for p, a in rw.bindings.items():
        if a in MPI_TYPES:
            out = re.sub(rf"\b{MPI_TYPES[a]}\b", f"MPI_TYPE_OF_{p}", out)
    return out


def specializations(rw: Rewrite, code: str, original: str | None, target: str = "cuda") -> str:
    """The CUDA or MPI translation of a function template: the template as written (sequential, for any
    other arguments), then, for each instantiation the file makes, an explicit specialization
    `template <> f<float>(...)` (with CUDA's kernels before it). The code of every instantiation must be
    the same text once its arguments (and MPI's datatypes of them) are written as the parameters again,
    so the one the tests verify (the first) stands for the others; otherwise the template stays
    sequential."""
    from paralift.assemble import _concat
    from paralift.types import Candidate, Target
    from .analysis import analyze
    if target == "cuda":
        from .codegen_cuda import generate_cuda as generate
    else:
        from .codegen_mpi import generate_mpi as generate
    units = [_unit_for(rw, code, 0, target)]
    for k, o in enumerate(rw.others, start=1):
        try:
            fo = analyze(o.source, "cpp", o.function)
            co = generate(fo)[0]
        except (AnalysisError, NotParallelizable) as e:
            raise NotParallelizable(f"'{rw.name}' is kept sequential for {target}: its instantiation {o.call} is "
                                    f"not translated ({e})") from None
        units.append(_unit_for(o, co, k, target))
        same = (_generic_text(o, units[-1]) == _generic_text(rw, units[0]) if target == "cuda"
                else _unbound_text(o, co) == _unbound_text(rw, code))
        if not same:
            raise NotParallelizable(f"'{rw.name}' is kept sequential for {target}: its instantiations {rw.call} "
                                    f"and {o.call} do not take the same {target.upper()} code")
    merged = _concat([Candidate(code=u, target=Target.parse(target), agent="rule") for u in units])
    if original is None:
        return merged
    # the template itself, as written, before the first specialization (and its kernels)
    from .frontend import load_unit
    unit = load_unit(original, "cpp")
    fn, _ = unit.template_functions[rw.function]
    decl = fn.parent
    tmpl = unit.data[decl.start_byte:decl.end_byte].decode("utf-8")
    at = merged.find("__global__" if target == "cuda" else "template <> ")
    at = merged.rfind("\n", 0, at) + 1 if at >= 0 else len(merged)
    return merged[:at] + tmpl + "\n\n" + merged[at:]

