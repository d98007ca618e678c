"""Text similarity to a reference translation: BLEU and CodeBLEU.

MuSL (QiMeng-MuPa) and BabelTower report them next to Pass@k; they say how
close a translation is to a reference, not whether it is right, so they are
computed only where a suite carries a reference for the task and target.

* BLEU: sacrebleu's corpus BLEU on code tokens (identifiers, numbers,
  operators and punctuation separated by spaces; ``tokenize="none"``).
* CodeBLEU (Ren et al. 2020, arXiv:2009.10297): 0.25 · BLEU + 0.25 ·
  weighted n-gram match (keywords weigh 1, other unigrams 0.2) + 0.25 ·
  syntax match (share of the reference's AST subtrees found in the candidate)
  + 0.25 · dataflow match (share of the reference's normalized
  "x comes from y, z" edges found in the candidate). Reimplemented here on
  the tree-sitter C/C++ grammars paralift already uses (the `codebleu` package
  pins an older tree-sitter). A component a reference does not exhibit (no
  dataflow edge) is left out and the others are reweighted equally.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from typing import Sequence

_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+\.?\d*(?:[eE][+-]?\d+)?[fFuUlL]*|\.\d+(?:[eE][+-]?\d+)?[fF]?|"
                    r"<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=]=?|\S")
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)

KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if inline int long
register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while
bool class constexpr delete namespace new nullptr operator private protected public template this typename
using virtual size_t std vector
__global__ __device__ __host__ __shared__ __syncthreads threadIdx blockIdx blockDim gridDim cudaMalloc
cudaMemcpy cudaFree cudaDeviceSynchronize cudaMemcpyHostToDevice cudaMemcpyDeviceToHost
pragma omp parallel reduction private shared schedule static dynamic collapse atomic critical num_threads
MPI_Comm_rank MPI_Comm_size MPI_COMM_WORLD MPI_Reduce MPI_Allreduce MPI_Bcast MPI_Gather MPI_Gatherv
MPI_Scatter MPI_Scatterv MPI_SUM MPI_MAX MPI_MIN MPI_DOUBLE MPI_FLOAT MPI_INT
""".split())


def code_tokens(code: str) -> list[str]:
    """Comments dropped, then C-family tokens."""
    return _TOKEN.findall(_COMMENT.sub(" ", code or ""))


def bleu(hypotheses: Sequence[str], references: Sequence[str]) -> float | None:
    """sacrebleu corpus BLEU (0-100) over code tokens; None with no pairs."""
    if not hypotheses:
        return None
    import sacrebleu
    hyps = [" ".join(code_tokens(h)) for h in hypotheses]
    refs = [" ".join(code_tokens(r)) for r in references]
    return float(sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score)


# ------------------------------------------------------------------ n-grams

def _ngrams(toks: Sequence[str], n: int) -> Counter:
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


def _corpus_ngram(pairs: list[tuple[list[str], list[str]]], weighted: bool) -> float:
    """Corpus BLEU-4 in [0, 1] (+0.1 smoothing of empty precisions); with
    `weighted`, unigram matches weigh 1 for keywords and 0.2 otherwise."""
    num = [0.0] * 4
    den = [0.0] * 4
    hyp_len = ref_len = 0
    for hyp, ref in pairs:
        hyp_len += len(hyp)
        ref_len += len(ref)
        for n in range(1, 5):
            h, r = _ngrams(hyp, n), _ngrams(ref, n)
            for g, cnt in h.items():
                w = (1.0 if g[0] in KEYWORDS else 0.2) if (weighted and n == 1) else 1.0
                num[n - 1] += w * min(cnt, r.get(g, 0))
                den[n - 1] += w * cnt
    if hyp_len == 0:
        return 0.0
    logs = []
    for n in range(4):
        p = num[n] / den[n] if num[n] > 0 else 0.1 / max(den[n], 1.0)
        logs.append(math.log(p))
    return _bp(hyp_len, ref_len) * math.exp(sum(logs) / 4)


def _bp(c: int, r: int) -> float:
    return 1.0 if c >= r else math.exp(1 - r / max(c, 1))


# ------------------------------------------------------------------ syntax / dataflow

@functools.lru_cache(maxsize=2)
def _parser(language: str):
    from tree_sitter import Language, Parser
    if language == "c":
        import tree_sitter_c as ts
    else:
        import tree_sitter_cpp as ts
    return Parser(Language(ts.language()))


def _tree(code: str, language: str):
    return _parser("c" if language == "c" else "cpp").parse(code.encode()).root_node


def _subtrees(root) -> list[str]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            continue
        if node.child_count:
            out.append(str(node))   # structure only: leaves' text is not in the s-expression
        stack.extend(node.children)
    return out


def _syntax_match(pairs: list[tuple[object, object]]) -> float | None:
    match = total = 0
    for hyp, ref in pairs:
        cand = Counter(_subtrees(hyp))
        for s in _subtrees(ref):
            total += 1
            if cand[s] > 0:
                match += 1
    return match / total if total else None


def _identifiers(node) -> list[str]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == "call_expression":
            stack.extend(c for c in n.children if c != n.child_by_field_name("function"))
            continue
        if n.type == "identifier":
            out.append(n.text.decode())
        stack.extend(reversed(n.children))
    return out


def _base(node):
    while node is not None and node.type in ("subscript_expression", "field_expression", "pointer_expression",
                                              "parenthesized_expression"):
        inner = node.child_by_field_name("argument")
        if inner is None and node.named_children:
            inner = node.named_children[0]
        node = inner
    return node


def _dataflow(root) -> list[tuple]:
    """Normalized 'x comes from {y, z}' edges of assignments and declarations."""
    edges: list[tuple[str, tuple[str, ...]]] = []
    stack = [root]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type == "init_declarator":
            target, value = n.child_by_field_name("declarator"), n.child_by_field_name("value")
            if target is not None and value is not None:
                names = _identifiers(target)
                if names:
                    edges.append((names[0], tuple(sorted(set(_identifiers(value))))))
        elif n.type in ("assignment_expression", "augmented_assignment_expression"):
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            if left is None or right is None:
                continue
            base = _base(left)
            names = _identifiers(base) if base is not None else []
            if not names:
                continue
            op = n.child_by_field_name("operator")
            srcs = set(_identifiers(right)) | (set(_identifiers(left)) - {names[0]})
            if op is not None and op.text.decode() != "=":
                srcs.add(names[0])
            edges.append((names[0], tuple(sorted(srcs))))
        elif n.type == "update_expression":
            arg = n.child_by_field_name("argument")
            names = _identifiers(arg) if arg is not None else []
            if names:
                edges.append((names[0], (names[0],)))
    order: dict[str, str] = {}
    for name in _identifiers(root):
        order.setdefault(name, f"var_{len(order)}")
    return [(order.get(t, t), tuple(sorted(order.get(s, s) for s in srcs))) for t, srcs in edges]


def _dataflow_match(pairs: list[tuple[object, object]]) -> float | None:
    match = total = 0
    for hyp, ref in pairs:
        r, h = Counter(_dataflow(ref)), Counter(_dataflow(hyp))
        total += sum(r.values())
        match += sum(min(c, h[e]) for e, c in r.items())
    return match / total if total else None


def codebleu(hypotheses: Sequence[str], references: Sequence[str], language: str = "c") -> dict | None:
    """Corpus CodeBLEU in [0, 1] with its four components; None with no pairs."""
    if not hypotheses:
        return None
    tok = [(code_tokens(h), code_tokens(r)) for h, r in zip(hypotheses, references)]
    trees = [(_tree(h, language), _tree(r, language)) for h, r in zip(hypotheses, references)]
    parts = {
        "ngram_match": _corpus_ngram(tok, weighted=False),
        "weighted_ngram_match": _corpus_ngram(tok, weighted=True),
        "syntax_match": _syntax_match(trees),
        "dataflow_match": _dataflow_match(trees),
    }
    present = [v for v in parts.values() if v is not None]
    return {"codebleu": sum(present) / len(present), **parts}
