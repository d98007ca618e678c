"""paralift.agents: analysis and translator agents."""
from .base import AnalysisError, NotParallelizable, Translator
from .analysis import build_task, detect_language, list_functions

__all__ = ["AnalysisError", "NotParallelizable", "Translator", "build_task", "detect_language",
           "list_functions", "RuleBasedTranslator"]


def __getattr__(name):
    if name == "RuleBasedTranslator":
        from .rule_based import RuleBasedTranslator
        return RuleBasedTranslator
    raise AttributeError(name)
