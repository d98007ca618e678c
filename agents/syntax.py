"""Parsing C/C++ with tree-sitter, the scalar types the analysis knows, and small
tree helpers (text, walk, strip, int_literal) every later pass uses."""
from __future__ import annotations

import re
from functools import lru_cache

import tree_sitter_c
import tree_sitter_cpp
from tree_sitter import Language, Node, Parser

from .base import AnalysisError


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
