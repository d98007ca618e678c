"""C/C++ front end on tree-sitter: parsing, signatures and a model of one function.

The front end is split by concern; this module re-exports it so that callers keep
one import path:

* agents.syntax          parsing, scalar types, tree helpers (text, walk, strip, int_literal)
* agents.unit            the translation unit (macros, typedefs, globals, functions) and signatures
* agents.function_model  Decl / Loop / Event / Blocker / Call / FunctionModel
* agents.shapes          reduction, if-min/max and argmin/argmax shapes; subscript atoms

Later passes (paralift.agents.analysis / dependence) decide what may run in parallel.
"""
from __future__ import annotations

from .base import AnalysisError
from .function_model import (PURE_FUNCTIONS, Blocker, Call, Decl, Event, FunctionModel, Loop)
from .shapes import (atom_info, atom_nonneg, atom_symbols, if_argminmax_shape, if_minmax_shape,
                     reduction_shape)
from .syntax import (FLOAT_TYPES, INTEGER_TYPES, _always_jumps, _int_literal, _scope_node, _strip, _walk,
                     detect_language, int_literal, is_unsigned, line_of, normalize_type, parse, strip, text, walk)
from .unit import ParamInfo, Unit, load_unit, parse_params, project_macros, signature_of

__all__ = [
    "AnalysisError", "PURE_FUNCTIONS", "Blocker", "Call", "Decl", "Event", "FunctionModel", "Loop",
    "atom_info", "atom_nonneg", "atom_symbols", "if_argminmax_shape", "if_minmax_shape", "reduction_shape",
    "FLOAT_TYPES", "INTEGER_TYPES", "_always_jumps", "_int_literal", "_scope_node", "_strip", "_walk",
    "detect_language", "int_literal", "is_unsigned", "line_of", "normalize_type", "parse", "strip", "text",
    "walk", "ParamInfo", "Unit", "load_unit", "parse_params", "project_macros", "signature_of",
]
