"""paralift.eval: suites, metrics, the generate/execute/score harness, reports and plots.

    paralift eval --suite builtin --to openmp,mpi,cuda --backend rule,gcc-autopar

Modules: suites (what is evaluated), metrics (ParEval's build@k, pass@k,
speedup_n@k, efficiency_n@k), textsim (BLEU, CodeBLEU), autopar (GCC's
auto-parallelizer baseline), executors (serial, process pool, MPI), runner
(the stages), report (Markdown), plots (PNG), command (the CLI).
"""
from .metrics import build_at_k, efficiency_at_k, pass_at_k, speedup_at_k  # noqa: F401
from .suites import Suite, SuiteTask, decontamination_index, is_contaminated, load_suite, normalized_sources  # noqa: F401
