"""paralift.agents: analysis and translator agents.

API (used by the CLI, the sandbox, the tester and the LLM agents):

    detect_language(path, source) -> "c" | "cpp"
    list_functions(source, language) -> list[Signature]      # every free function definition
    build_task(source, language, function, target=None, path=None) -> Task
        Task.signature.params are complete: kind, base_type, const, role, extent (an
        expression over scalar parameter names, "N" for a free std::vector size) and
        values (SIZE / INDEX / OFFSETS / NONZERO / FACTOR, the last with the (a, b) of its
        factor a*x + b in a floating-point product); Task.analysis is a JSON-able dict
        {"function", "parallel", "reason", "loops": [{line, var, bounds, parallel, reason,
        reductions, private, lastprivate, schedule, collapse, simd, writes}], "extents",
        "size_tokens", "notes", "assumptions"}.
    RuleBasedTranslator().propose(task, target) -> [Candidate]   # agent name "rule"

Errors: AnalysisError (bad input: parse error, unknown function, unsupported construct or
parameter type; one line) and NotParallelizable (a one-line human reason for keeping the
function sequential).
"""
from .base import AnalysisError, NotParallelizable, Translator
from .analysis import build_task, detect_language, list_functions

__all__ = ["AnalysisError", "NotParallelizable", "Translator", "build_task", "detect_language",
           "list_functions", "RuleBasedTranslator"]


def __getattr__(name):
    if name == "RuleBasedTranslator":
        from .rule_based import RuleBasedTranslator
        return RuleBasedTranslator
    raise AttributeError(name)
