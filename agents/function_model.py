"""A model of one function definition: its declarations (with scopes resolved),
its loops (as a tree), every array access (with its subscript as an affine
polynomial when it is one), every scalar read/write, calls, early exits and any
construct the analysis does not understand (Blockers)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from paralift.types import Param, ParamKind

from .base import AnalysisError
from .poly import Poly
from .shapes import _atom, _atom2, _strip_parens, atom_symbols, if_minmax_shape, reduction_shape
from .syntax import (INTEGER_TYPES, _always_jumps, _int_literal, _scope_node, _strip, _walk, is_unsigned, line_of,
                     normalize_type, text)
from .unit import (ParamInfo, Unit, _declarator_name, _literal_size, _std_array, _type_words, _vector_elem, is_nested,
                   parse_params, record_type)


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
    "std::clamp", "std::distance", "std::norm", "std::conj", "std::real", "std::imag", "std::arg", "std::polar",
    "std::exp2", "std::lerp", "std::signbit", "norm", "conj", "real", "imag", "arg", "polar",
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
        return self.kind in ("pointer", "vector", "array", "localvec", "array2")

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
    # a nested vector's element A[r][c]: (row Poly, column Poly) (either may be None); `poly` is then
    # the flattened r*@cols:A + c, whose stride @cols:A stands for the row's length (DependenceTester
    # tests each dimension: different rows, or different columns of one row, are different elements)
    dims: tuple | None = None

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


def _template_value_params(fn: Node, tparams: set[str]) -> set[str] | None:
    """Names of a function template's parameters when each is a scalar or a template type parameter
    taken by value or const& (what a pure helper may take); None otherwise."""
    from .unit import _function_declarator
    fd = _function_declarator(fn)
    plist = fd.child_by_field_name("parameters") if fd is not None else None
    if plist is None:
        return None
    names = set()
    for pd in plist.named_children:
        if pd.type != "parameter_declaration":
            return None
        ty, d = pd.child_by_field_name("type"), pd.child_by_field_name("declarator")
        const = any(c.type == "type_qualifier" and text(c) == "const" for c in pd.named_children)
        if ty is None or d is None or not (text(ty) in tparams or ty.type == "primitive_type"):
            return None
        if d.type == "reference_declarator" and const and d.named_children and d.named_children[0].type == "identifier":
            d = d.named_children[0]
        if d.type != "identifier":
            return None
        names.add(text(d))
    return names


def _subscript_index(node: Node) -> Node | None:
    """The index of `a[i]` (C: field 'index'; C++: one expression in 'indices')."""
    idx = node.child_by_field_name("index")
    if idx is None:
        ind = node.child_by_field_name("indices")
        if ind is not None and len(ind.named_children) == 1:
            idx = ind.named_children[0]
    return idx


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
        # a struct or complex accumulator has no reduction clause: it stays a dependence
        red_op = None if self._is_record(decl.base_type) else self._red_marks.get(node.id)
        ev = Event(seq=self._seq, decl=decl, node=node, write=write, read=read, loops=tuple(self._loop_stack),
                   guards=tuple(self._guards), conds=tuple(self._conds), line=line_of(node), stmt=self._stmt,
                   red_op=red_op, expr_cond=self._expr_cond > 0, **kw)
        self.events.append(ev)
        return ev

    def _is_record(self, base_type: str | None) -> bool:
        return bool(base_type) and (base_type in self.unit.records or base_type.startswith("std::complex<"))

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
        row_of = None      # `for (T v : row)` over a row of a nested vector (`for (auto const& row : A)`)
        if rd is None and right is not None and right.type == "identifier":
            rr = self._resolve(text(right))
            if rr is not None and rr.kind == "nrow":
                rd, row_of = rr, rr.elem_of
        elif right is not None and self._nested_of(_strip_parens(right)) is not None:
            # `for (T v : A[r])`: a row of a nested vector, named by its subscript
            sub = _strip_parens(right)
            top = self._nested_of(sub)
            ri = _subscript_index(sub)
            self._expr(ri)
            rd = Decl(name=" ".join(text(sub).split()), key=self._key("__pl_row"), kind="nrow",
                      base_type=top.base_type, type_text="", node=sub, param=top.param)
            rd.elem_of = (top, self.poly(ri))
            row_of = rd.elem_of
        dname = _declarator_name(dnode)
        by_ref = dnode is not None and dnode.type == "reference_declarator" and "&&" not in text(dnode)
        ok = rd is not None and rd.kind in ("vector", "nrow") and dname is not None and ty is not None and \
            dnode is not None and (dnode.type == "identifier" or (by_ref and dnode.named_children and
                                                                 dnode.named_children[0].type == "identifier"))
        nested_rows = ok and rd.kind == "vector" and rd.param is not None and is_nested(rd.param)
        if nested_rows and not by_ref:
            ok = False      # a copy of each row: not analysed
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
            top = row_of[0] if row_of is not None else rd
            loop.lower = Poly.const(0)
            loop.upper = (Poly.sym(f"@cols:{top.name}") if row_of is not None else Poly.sym(f"@size:{rd.name}")) - 1
            loop.elem_text = self.unit.data[node.start_byte:dnode.end_byte].decode("utf-8").split("(", 1)[1].strip()
            kind = "nrow" if nested_rows else ("nelem" if row_of is not None and by_ref else
                                               ("elem" if by_ref else "scalar"))
            elem = Decl(name=dname, key=self._key(dname), kind=kind,
                        base_type=rd.base_type, type_text=text(ty), node=dnode, loop=loop, line=line_of(node))
            elem.elem_of = (rd, Poly.sym(var.key)) if nested_rows else \
                ((rd, loop) if row_of is None else (top, row_of[1], loop))
            self.decls.append(elem)
            self._scopes[-1][dname] = elem
            if not by_ref and row_of is not None:
                self._nested_event(top, right, row_of[1], Poly.sym(var.key), write=False, read=True)
                self._event(elem, dnode, write=True, read=False)
            elif not by_ref:
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
        None unless var has coefficient +-1 and every other term is an integer variable, a vector's size() or a
        constant (with unsigned terms, an upper bound computed in long long and clamped at 0)."""
        if var.base_type is None or var.base_type not in INTEGER_TYPES:
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
        wide = is_unsigned(var.base_type)    # unsigned arithmetic somewhere: n - k may wrap
        for s in rest.symbols():
            if s.startswith("@size:"):       # v.size(): a size_t
                names[s], wide = f"{s[len('@size:'):]}.size()", True
                continue
            d = self.decl_by_key(s)
            if d is None or d.kind != "scalar" or d.base_type not in INTEGER_TYPES:
                return None
            names[s] = d.name
            wide = wide or is_unsigned(d.base_type)
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
        if c.constant == 1:                  # var + rest OP 0  ->  var OP -rest
            b = -rest
        else:                                # -var + rest OP 0  ->  var flip(OP) rest
            b, op = rest, flip[op]
        if not wide:
            return op, "(" + b.render(lambda s: names[s]) + ")", b
        # `i + k <= v.size()` with unsigned terms: v.size() - k wraps when k > v.size(), where the loop as
        # written runs no iteration. The bound is computed in long long and clamped at 0, so the solved
        # loop runs the same (no) iterations; only upper bounds (the loop counts up from its start).
        if op not in ("<", "<="):
            return None
        if op == "<=":
            b = b + 1
        wide_text = "(" + b.render(lambda s: f"(long long){names[s]}") + ")"
        return "<", f"({wide_text} > 0 ? {wide_text} : 0LL)", b

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
        if base is None and ty is not None:
            base = record_type(self.unit, ty)
        is_vec, vec_elem, _ = _vector_elem(self.unit, ty) if ty is not None else (False, None, "")
        if ty is not None and ty.type == "placeholder_type_specifier":
            base = "auto"
        # a local std::array<T, N> (a weights table, a small buffer): a local array of N elements of T
        std_arr = _std_array(self.unit, ty) if ty is not None and not is_vec else None
        if std_arr is not None:
            base = std_arr[0]
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
            if std_arr is not None and not ptr and not dims and kind == "scalar":
                tt = ty.child_by_field_name("name") if ty.type == "qualified_identifier" else ty
                dims = [tt.child_by_field_name("arguments").named_children[-1]]
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
            if kind == "array2" and not ("const" in quals and value is not None and len(dims) == 2
                                         and _int_literal(dims[0]) is not None):
                kind = decl.kind = "array2w"
            if kind in ("localref", "localptr", "array2w", "other"):
                what = {"localref": "local reference", "localptr": "local pointer",
                        "array2w": "2-D local array (other than a const table with an initializer)",
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
            if self._member(node, write, read):
                return
            self._block(f"member access '{text(node)}' at line {line_of(node)}", node)
            self._expr(arg)
        elif t == "lambda_expression":
            # its body runs when (and as often as) whatever receives it calls it
            self._block(f"lambda expression at line {line_of(node)} (not analysed)", node)
        elif t == "qualified_identifier":
            if text(node) not in ("std::numeric_limits",):
                pass
        else:
            self._block(f"unsupported expression '{t}' at line {line_of(node)}", node)
            for ch in node.named_children:
                self._expr(ch)

    def _member(self, node: Node, write: bool, read: bool) -> bool:
        """`a[i].x`, `p.x`, `v.real` on a struct or complex element, parameter or local: an access to the
        whole element (a field write also counts as a read: the other fields keep their values)."""
        arg = _strip_parens(node.child_by_field_name("argument"))
        if text(node.child_by_field_name("operator")) != ".":
            return False
        if arg.type == "subscript_expression":
            d = self._array_base(arg.child_by_field_name("argument"))
            if d is None or not self._is_record(d.base_type):
                return False
            self._subscript(arg, write, read or write)
            return True
        if arg.type == "identifier":
            d = self._resolve(text(arg))
            if d is None or not self._is_record(d.base_type) or d.is_array:
                return False
            if write and d.is_param and d.param is not None and d.param.const:
                self._block(f"write to a field of const parameter '{d.name}' at line {line_of(node)}", node)
            self._ident(arg, write, read or write)
            return True
        if arg.type == "field_expression" and self._member(arg, write, read):
            return True      # nested struct: a.b.c
        return False

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
        if d.kind == "nelem":
            self._nested_event(d.elem_of[0], node, d.elem_of[1], Poly.sym(d.elem_of[2].var.key), write, read)
            return
        if d.kind == "nrow":
            self._block(f"row '{name}' of the nested vector '{d.elem_of[0].name}' used as a whole at line "
                        f"{line_of(node)}", node)
            self._event(d.elem_of[0], node, write or read, True)
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

    def _nested_of(self, node: Node | None) -> Decl | None:
        """The nested-vector declaration A of a row `A[r]` (None for anything else)."""
        if node is None or node.type != "subscript_expression":
            return None
        d = self._array_base(node.child_by_field_name("argument"))
        return d if d is not None and d.param is not None and is_nested(d.param) else None

    def _subscript(self, node: Node, write: bool, read: bool) -> None:
        base = node.child_by_field_name("argument")
        if base is not None and base.type == "subscript_expression" and self._table2(node, base, write, read):
            return
        if self._nested_of(base) is not None:
            self._nested_access(self._nested_of(base), node, base, write, read)
            return
        rowd = self._resolve(text(base)) if base is not None and base.type == "identifier" else None
        if rowd is not None and rowd.kind == "nrow":
            ci = _subscript_index(node)
            if ci is None:
                self._block(f"unsupported array access '{text(node)}' at line {line_of(node)}", node)
                return
            self._expr(ci)
            self._nested_event(rowd.elem_of[0], node, rowd.elem_of[1], self.poly(ci), write, read)
            return
        d0 = self._array_base(base)
        if d0 is not None and d0.param is not None and is_nested(d0.param):
            self._block(f"row '{text(node)}' of the nested vector '{d0.name}' used as a whole at line "
                        f"{line_of(node)}", node)
            idx0 = _subscript_index(node)
            if idx0 is not None:
                self._expr(idx0)
            self._event(d0, node, write or read, True, index=idx0, poly=None)
            return
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

    def _nested_event(self, d: Decl, node: Node, pr: Poly | None, pc: Poly | None, write: bool, read: bool) -> None:
        """Element (pr, pc) of the nested vector d (a row named by a range-for or by its subscript)."""
        if write and d.param.const:
            self._block(f"write to the const nested vector '{d.name}' at line {line_of(node)}", node)
        flat = None if pc is None or pr is None else pr * Poly.sym(f"@cols:{d.name}") + pc
        self._event(d, node, write, read, index=node, poly=flat, dims=(pr, pc))

    def _nested_access(self, d: Decl, node: Node, row: Node, write: bool, read: bool) -> None:
        """`A[r][c]` on a std::vector<std::vector<T>> parameter: element c of row r."""
        ri, ci = _subscript_index(row), _subscript_index(node)
        if ri is None or ci is None:
            self._block(f"unsupported array access '{text(node)}' at line {line_of(node)}", node)
            return
        self._expr(ri)
        self._expr(ci)
        if write and d.param.const:
            self._block(f"write to the const nested vector '{d.name}' at line {line_of(node)}", node)
        pr, pc = self.poly(ri), self.poly(ci)
        flat = None if pr is None or pc is None else pr * Poly.sym(f"@cols:{d.name}") + pc
        self._event(d, node, write, read, index=node, poly=flat, dims=(pr, pc))

    def _table2(self, node: Node, inner: Node, write: bool, read: bool) -> bool:
        """`k[a + 1][b + 1]` on a const 2-D local table: a read at the flattened subscript."""
        d = self._array_base(inner.child_by_field_name("argument"))
        if d is None or d.kind != "array2":
            return False
        i0, i1 = _subscript_index(inner), _subscript_index(node)
        if i0 is None or i1 is None:
            return False
        self._expr(i0)
        self._expr(i1)
        if write:
            self._block(f"write to the const table '{d.name}' at line {line_of(node)}", node)
        p0, p1, cols = self.poly(i0), self.poly(i1), _int_literal(d.dims[0])   # the outer declarator is the last dimension
        flat = None if p0 is None or p1 is None else p0 * Poly.const(cols) + p1
        self._event(d, node, write, read, index=node, poly=flat)
        return True

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

    def std_array_size(self, d: Decl) -> int | None:
        """N of a local `std::array<T, N>` (its size() is that constant)."""
        if d.kind != "array" or d.is_param or len(d.dims) != 1 or "array" not in (d.type_text or "") or \
                "<" not in (d.type_text or ""):
            return None
        return _literal_size(self.unit, d.dims[0])

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
            if d is not None and self.std_array_size(d) is not None and field_ in ("size", "empty") and not argn:
                return
            rowd = self._resolve(text(obj)) if obj is not None and obj.type == "identifier" else None
            if rowd is not None and rowd.kind == "nrow" and field_ in ("size", "empty") and not argn:
                return
            nd = self._nested_of(_strip_parens(obj))
            if nd is not None and field_ in ("size", "empty") and not argn:
                self._expr(_subscript_index(_strip_parens(obj)))
                return
            if field_ in ("real", "imag") and not argn and self._member(fn, False, True):
                self.calls.append(Call(f"std::complex::{field_}", node, loops, line_of(node), True))
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
        pure = name in PURE_FUNCTIONS or self._pure_user_function(name) or \
            re.fullmatch(r"(std::)?complex(<(float|double)>)?", name) is not None or name in self.unit.records
        if name in _EXIT_FUNCTIONS and self._loop_stack:
            self._block(f"call to '{name}' (early exit) at line {line_of(node)}", node)
        self.calls.append(Call(name, node, loops, line_of(node), pure))
        if not pure:
            self._block(f"call to '{name}' (not known to be pure) at line {line_of(node)}", node)
        for a in argn:
            self._expr(a)

    def _pure_user_function(self, name: str, seen: set | None = None) -> bool:
        fn = self.unit.functions.get(name)
        template = self.unit.template_functions.get(name) if fn is None else None
        if fn is None and template is None:
            return False
        seen = set() if seen is None else seen
        if name in seen:
            return False  # recursion: keep it simple
        seen.add(name)
        if template is not None:
            fn, tparams = template
            names = _template_value_params(fn, tparams)
            if names is None:
                return False
            infos, record_params = [], set()
        else:
            tparams = set()
            try:
                infos, _ = parse_params(self.unit, fn, name)
            except AnalysisError:
                return False
            if any(i.param.kind != ParamKind.SCALAR for i in infos):
                return False
            names = {i.param.name for i in infos}
            record_params = {i.param.name for i in infos if self._is_record(i.param.base_type)}
        body = fn.child_by_field_name("body")
        local_names = set(names)
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
                if f not in PURE_FUNCTIONS and f not in tparams and not self._pure_user_function(f, seen):
                    return False     # (T(0): a conversion to a template type parameter)
            elif n.type in ("assignment_expression", "update_expression"):
                tgt = n.child_by_field_name("left") or n.child_by_field_name("argument")
                if tgt is None or tgt.type != "identifier" or text(tgt) not in local_names:
                    return False
            elif n.type == "field_expression" and text(n.child_by_field_name("operator")) == "." and \
                    text(n.child_by_field_name("argument")) in record_params:
                continue       # reading a field of a struct passed by value or const&
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
                obj = _strip_parens(fn.child_by_field_name("argument"))
                rowd = self._resolve_at(text(obj), node) if obj.type == "identifier" else None
                if rowd is not None and rowd.kind == "nrow":
                    return Poly.sym(f"@cols:{rowd.elem_of[0].name}")
                if obj.type == "subscript_expression":
                    b = obj.child_by_field_name("argument")
                    d = self._resolve_at(text(b), node) if b is not None and b.type == "identifier" else None
                    if d is not None and d.param is not None and is_nested(d.param):
                        return Poly.sym(f"@cols:{d.name}")    # the row's length (see Event.dims)
                    return None
                d = self._resolve_at(text(obj), node)
                if d is not None and d.kind == "vector":
                    return Poly.sym(f"@size:{d.name}")
                if d is not None and self.std_array_size(d) is not None:
                    return Poly.const(self.std_array_size(d))
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
