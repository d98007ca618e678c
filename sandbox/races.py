"""Static race check for OpenMP candidates.

Running a racy loop proves nothing when the machine is busy: two threads that
never overlap in time never lose an update, and ThreadSanitizer reports false
races inside GCC's (uninstrumented) libgomp. So before any run, the candidate's
parallel regions are read for the races that lose updates for certain when two
threads do overlap:

  * a read-modify-write (`s += e`, `s++`, `s = s op e`, `if (e > m) m = e`) of
    a shared scalar: not declared in the region, not the loop variable, not in
    a private/firstprivate/lastprivate/reduction/linear clause, not under
    `atomic`/`critical`/`single`/`master`;
  * a read-modify-write of an array element whose subscript is not provably
    distinct across iterations, unprotected as above: indirect
    (`hist[bin[i]]++`), constant (`a[0] += e`), computed from a value read
    from memory (`int v = data[i]; bins[v]++`), or, in a worksharing loop,
    independent of the loop's variables (`acc[j] += x[i]` over i);
  * a plain write of an array element whose subscript depends on a value read
    from memory (`out[idx[i]] = x[i]`, `int k = perm[i]; out[k] = ...`): two
    iterations writing one element leave whichever value came last.

Other writes are left to the dynamic tests: flagging them would reject correct
code (e.g. each thread writing its own slot). The same reading applies to MPI
candidates, whose ranks may run OpenMP regions too.
"""
from __future__ import annotations

import re
from functools import lru_cache

_RMW_OPS = {"+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>="}
_PROTECTING = ("atomic", "critical", "single", "master", "masked", "ordered")


@lru_cache(maxsize=2)
def _parser(language: str):
    from tree_sitter import Language, Parser
    if language == "c":
        import tree_sitter_c as mod
    else:
        import tree_sitter_cpp as mod
    return Parser(Language(mod.language()))


def _text(node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def _clause_names(arg: str) -> set[str]:
    names: set[str] = set()
    for m in re.finditer(r"\b(private|firstprivate|lastprivate|reduction|linear|copyprivate|in_reduction|task_reduction)"
                         r"\s*\(", arg):
        depth, i = 1, m.end()
        while i < len(arg) and depth:
            depth += {"(": 1, ")": -1}.get(arg[i], 0)
            i += 1
        inner = arg[m.end():i - 1]
        if m.group(1) in ("reduction", "in_reduction", "task_reduction"):
            inner = inner.split(":", 1)[1] if ":" in inner else inner
        elif m.group(1) == "linear":
            inner = inner.split(":", 1)[0]
        for part in _split_top(inner):
            name = re.match(r"\s*([A-Za-z_]\w*)", part)
            if name:
                names.add(name.group(1))
    return names


def _split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _omp_words(arg: str) -> list[str]:
    head = re.split(r"[\(]", arg, maxsplit=1)[0]
    return head.split()


def _next_statement(node):
    sib = node.next_named_sibling
    while sib is not None and sib.type in ("comment",):
        sib = sib.next_named_sibling
    return sib


def _loop_vars(for_node, depth: int) -> set[str]:
    names: set[str] = set()
    node = for_node
    for _ in range(depth):
        if node is None or node.type != "for_statement":
            break
        init = node.child_by_field_name("initializer")
        if init is not None:
            for n in _walk(init):
                if n.type == "identifier" and (n.parent.type in ("init_declarator", "assignment_expression")
                                               and n.parent.children[0] == n):
                    names.add(_text(n))
        body = node.child_by_field_name("body")
        if body is not None and body.type == "compound_statement":
            inner = [c for c in body.named_children if c.type != "comment"]
            node = inner[0] if len(inner) == 1 else None
        else:
            node = body
    return names


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def _declared_in(node) -> set[str]:
    names: set[str] = set()
    for n in _walk(node):
        if n.type in ("declaration", "parameter_declaration", "for_range_loop"):
            for d in _walk(n):
                if d.type == "identifier" and d.parent is not None and d.parent.type in (
                        "init_declarator", "declaration", "pointer_declarator", "array_declarator",
                        "reference_declarator", "for_range_loop"):
                    if d.parent.type == "for_range_loop" and d.parent.child_by_field_name("right") == d:
                        continue
                    names.add(_text(d))
    return names


def _mentions(node, name: str) -> bool:
    return any(n.type == "identifier" and _text(n) == name for n in _walk(node))


_CONSTANTS = ("number_literal", "true", "false", "char_literal", "null", "nullptr")


def _plain_assignment(node, left_type: str):
    """The left side of a plain `lhs = e` whose lhs is of `left_type`, when e is not a constant."""
    if node.type != "assignment_expression" or _text(node.child_by_field_name("operator")) != "=":
        return None
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or left.type != left_type or right is None or right.type in _CONSTANTS:
        return None
    return left


def _plain_write(node):
    """The identifier a plain `x = e` writes, when e is not a constant (a
    shared flag set to a literal is a benign race in practice)."""
    left = _plain_assignment(node, "identifier")
    right = node.child_by_field_name("right") if left is not None else None
    if right is not None and right.type == "unary_expression" and right.named_children and \
            right.named_children[0].type == "number_literal":
        return None
    return left


def _plain_element_write(node):
    """The array element a plain `a[s] = e` writes (e not a constant)."""
    return _plain_assignment(node, "subscript_expression")


def _target_of(node):
    """The lvalue a read-modify-write updates, or None when `node` is none."""
    if node.type == "update_expression":
        return node.child_by_field_name("argument")
    if node.type == "assignment_expression":
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        op = _text(node.child_by_field_name("operator"))
        if op in _RMW_OPS:
            return left
        if op == "=" and left is not None and right is not None:
            key = _text(left)
            if any(_text(n) == key for n in _walk(right) if n.type == left.type):
                return left
            # `if (x[i] > m) m = x[i];`: the condition reads the target.
            anc = node.parent
            while anc is not None and anc.type != "for_statement":
                if anc.type in ("if_statement", "conditional_expression"):
                    cond = anc.child_by_field_name("condition")
                    if cond is not None and any(_text(n) == key for n in _walk(cond) if n.type == left.type):
                        return left
                anc = anc.parent
    return None


def _base_name(lv) -> str | None:
    while lv is not None and lv.type in ("subscript_expression", "parenthesized_expression"):
        lv = lv.child_by_field_name("argument") if lv.type == "subscript_expression" else lv.named_children[0]
    return _text(lv) if lv is not None and lv.type == "identifier" else None


def _indirect_or_constant(sub) -> bool:
    index = sub.child_by_field_name("index") or (sub.child_by_field_name("indices"))
    if index is None:
        # tree-sitter-cpp: subscript_argument_list
        index = next((c for c in sub.named_children if c.type in ("subscript_argument_list",)), None)
    if index is None:
        return False
    kinds = {n.type for n in _walk(index)}
    if "subscript_expression" in kinds or "call_expression" in kinds:
        return True
    return "identifier" not in kinds


def _local_defs(node) -> dict:
    """name -> initializer node of the variables declared (with an initializer) under `node`, plus the
    right-hand sides of plain assignments to them."""
    defs: dict = {}
    for n in _walk(node):
        if n.type == "init_declarator":
            name, value = n.child_by_field_name("declarator"), n.child_by_field_name("value")
            if name is not None and name.type == "identifier" and value is not None:
                defs.setdefault(_text(name), []).append(value)
        elif n.type == "assignment_expression" and _text(n.child_by_field_name("operator")) == "=":
            left = n.child_by_field_name("left")
            if left is not None and left.type == "identifier":
                defs.setdefault(_text(left), []).append(n.child_by_field_name("right"))
    return defs


def _reads_memory(node) -> bool:
    # a call is not a read of shared data: omp_get_thread_num() and its kind identify the thread and are
    # how a region partitions work by hand (a call that reads memory does so through its arguments)
    return any(n.type in ("subscript_expression", "field_expression") or
               (n.type == "pointer_expression" and _text(n).startswith("*")) for n in _walk(node))


def _subscript_names(sub, defs: dict, depth: int = 0) -> tuple[set, bool]:
    """(identifiers the subscript's value depends on, through local definitions; whether it depends on a
    value read from memory)."""
    index = sub.child_by_field_name("index") or sub.child_by_field_name("indices") or \
        next((c for c in sub.named_children if c.type == "subscript_argument_list"), None)
    names: set = set()
    loaded = False
    stack = [(index, 0)] if index is not None else []
    seen: set = set()
    while stack:
        node, d = stack.pop()
        if node is None:
            continue
        if _reads_memory(node):
            loaded = True
        for n in _walk(node):
            if n.type != "identifier":
                continue
            name = _text(n)
            names.add(name)
            if name in defs and name not in seen and d < 8:
                seen.add(name)
                stack.extend((v, d + 1) for v in defs[name])
    arg = sub.child_by_field_name("argument")
    if arg is not None and arg.type == "subscript_expression" and depth < 4:
        # a[i][j] (a 2-D array, a nested vector): the element depends on the row subscript too
        n2, l2 = _subscript_names(arg, defs, depth + 1)
        names |= n2
        loaded = loaded or l2
    return names, loaded


def find_races(code: str, language: str = "c") -> list[str]:
    """One line per definite race found in the candidate's OpenMP regions."""
    try:
        tree = _parser("cpp" if language in ("cpp", "cuda") else "c").parse(code.encode())
    except Exception:  # noqa: BLE001 - a parser failure means no static verdict
        return []
    problems: list[str] = []
    seen: set[tuple[int, str]] = set()

    def region(stmt, protected: set[str], local: set[str], in_loop: bool = False, wvars: frozenset = frozenset(),
               defs: dict | None = None) -> None:
        defs = defs if defs is not None else {}
        children = stmt.named_children if stmt.type == "compound_statement" else [stmt]
        skip_next = False
        for child in children:
            if skip_next:
                skip_next = False
                continue
            if child.type == "preproc_call" and _text(child.child_by_field_name("directive")) == "#pragma":
                arg = _text(child.child_by_field_name("argument")).strip()
                if arg.startswith("omp"):
                    words = _omp_words(arg)
                    target = _next_statement(child)
                    if target is None:
                        continue
                    if any(w in words for w in _PROTECTING):
                        skip_next = True
                        continue
                    extra = _clause_names(arg)
                    # the iteration variables of a loop construct's loops are private
                    # (linear for `simd`), whatever the clauses say
                    loop = any(w in words for w in ("for", "loop", "distribute", "simd", "taskloop"))
                    inner = wvars
                    if loop:
                        m = re.search(r"collapse\s*\(\s*(\d+)\s*\)", arg)
                        lv = _loop_vars(target, int(m.group(1)) if m else 1)
                        extra |= lv
                        inner = frozenset(lv)
                    region(target, protected | extra, local | _declared_in(target), in_loop or loop, inner,
                           {**defs, **_local_defs(target)})
                    skip_next = True
                    continue
            scan(child, protected, local, in_loop, wvars, defs)

    def scan(node, protected: set[str], local: set[str], in_loop: bool, wvars: frozenset = frozenset(),
             defs: dict | None = None) -> None:
        defs = defs if defs is not None else {}
        if node.type == "compound_statement":
            region(node, protected, local | _declared_in(node), in_loop, wvars, defs)
            return
        if node.type in ("for_statement", "while_statement", "do_statement", "if_statement", "else_clause",
                         "switch_statement", "case_statement", "labeled_statement"):
            for c in node.named_children:
                scan(c, protected, local, in_loop, wvars, defs)
            return
        for n in _walk(node):
            lv = _target_of(n)
            rmw = lv is not None
            if lv is None and in_loop:
                # Inside a worksharing loop every iteration may run on another
                # thread: a shared temporary written there is a race.
                lv = _plain_write(n)
            if lv is None:
                lv = _plain_element_write(n)
            if lv is None:
                continue
            name = _base_name(lv)
            if name is None or name in protected or name in local:
                continue
            line = n.start_point[0] + 1
            if lv.type == "identifier":
                msg = (f"data race: shared variable `{name}` is updated at line {line} inside a parallel region "
                       f"without a reduction, atomic or critical section")
            elif lv.type == "subscript_expression":
                names, loaded = _subscript_names(lv, defs)
                if rmw and _indirect_or_constant(lv):
                    why = "no atomic, critical or array reduction"
                elif loaded:
                    why = ("its subscript depends on a value read from memory, so two iterations may "
                           "touch one element; no atomic, critical or array reduction")
                elif rmw and in_loop and wvars and not (names & wvars):
                    why = ("its subscript does not depend on the worksharing loop's variable, so every "
                           "iteration updates the same element; no atomic, critical or array reduction")
                else:
                    continue
                verb = "updated" if rmw else "written"
                msg = f"data race: `{_text(lv)}` may be {verb} by several threads at once at line {line} ({why})"
            else:
                continue
            if (line, name) not in seen:
                seen.add((line, name))
                problems.append(msg)

    def visit(node) -> None:
        for child in node.named_children:
            if child.type == "preproc_call" and _text(child.child_by_field_name("directive")) == "#pragma":
                arg = _text(child.child_by_field_name("argument")).strip()
                words = _omp_words(arg) if arg.startswith("omp") else []
                if "parallel" in words:
                    target = _next_statement(child)
                    if target is not None:
                        extra = _clause_names(arg)
                        wvars: frozenset = frozenset()
                        if "for" in words or "loop" in words:
                            m = re.search(r"collapse\s*\(\s*(\d+)\s*\)", arg)
                            wvars = frozenset(_loop_vars(target, int(m.group(1)) if m else 1))
                            extra |= wvars
                        region(target, extra, _declared_in(target), "for" in words or "loop" in words, wvars,
                               _local_defs(target))
                    continue
            visit(child)

    visit(tree.root_node)
    return problems


def find_cuda_races(code: str) -> list[str]:
    """Lost-update races inside `__global__` kernels: a read-modify-write of a
    global or `__shared__` array element whose subscript is indirect or
    constant (`hist[bin[i]]++`, `out[0] += v`) without an atomic. The CPU
    emulation switches threads only at barriers, so such a race never shows
    when it runs; on a GPU it loses updates."""
    text = re.sub(r"\b(__global__|__device__|__host__|__forceinline__|__launch_bounds__\s*\([^)]*\))", " ", code)
    text = re.sub(r"<<<.*?>>>", "", text, flags=re.S)
    kernels = {m.group(1) for m in re.finditer(r"__global__[^;{(]*?\b([A-Za-z_]\w*)\s*\(", code)}
    if not kernels:
        return []
    try:
        tree = _parser("cpp").parse(text.encode())
    except Exception:  # noqa: BLE001 - no static verdict
        return []
    problems: list[str] = []
    for fn in _walk(tree.root_node):
        if fn.type != "function_definition":
            continue
        decl = fn.child_by_field_name("declarator")
        name = next((_text(n) for n in _walk(decl) if n.type == "identifier"), None) if decl is not None else None
        body = fn.child_by_field_name("body")
        if name not in kernels or body is None:
            continue
        shared_arrays = {m.group(1) for m in re.finditer(r"__shared__[^;]*?\b([A-Za-z_]\w*)\s*\[", _text(body))}
        private = _declared_in(body) - shared_arrays
        for n in _walk(body):
            lv = _target_of(n)
            if lv is None or lv.type != "subscript_expression":
                continue
            base = _base_name(lv)
            if base is None or base in private or not _indirect_or_constant(lv):
                continue
            line = n.start_point[0] + 1
            problems.append(f"data race: `{_text(lv)}` is updated by many CUDA threads at line {line} of kernel "
                            f"{name} without an atomic")
    return problems
