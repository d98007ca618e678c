"""The summary as Markdown: one side-by-side table per aspect, agents as rows."""
from __future__ import annotations


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _x(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def _label(r: dict) -> str:
    return r["agent"] + (f" ({r['model']})" if r.get("model") and r["agent"] != "gcc-autopar" else "")


def markdown(summary: dict) -> str:
    cfg = summary["config"]
    ks = [str(k) for k in cfg["k"]]
    res = summary["results"]
    suite = summary["suite"]
    L = [f"## paralift eval: suite `{suite['name']}` ({len(suite['tasks'])} tasks), "
         f"targets {', '.join(cfg['targets'])}", ""]
    if not res:
        return "\n".join(L + ["no samples were scored", ""])
    clamped = False

    def cell(r, k, key, fmt):
        nonlocal clamped
        m = r["k"].get(k, {})
        mark = ""
        if m.get("clamped") and k != "1":
            mark, clamped = "†", True
        return fmt(m.get(key)) + mark

    # correctness
    head = ["agent", "target", "problems", "samples"] + [f"build@{k}" for k in ks] + [f"pass@{k}" for k in ks] + \
           ["declined", "not evaluated"]
    L += ["### Correctness (%)", "", _row(head), _row(["---"] * len(head))]
    for r in res:
        L.append(_row([_label(r), r["target"], str(r["problems"]), str(r["samples"])]
                      + [cell(r, k, "build", _pct) for k in ks] + [cell(r, k, "pass", _pct) for k in ks]
                      + [str(r["declined"]["count"]), str(len(r["not_evaluated"]))]))
    # performance
    n = cfg.get("n")
    head = ["agent", "target"] + [f"speedup_{n}@{k}" for k in ks] + [f"efficiency_{n}@{k}" for k in ks] + \
           ["verified geomean", "timed problems"]
    L += ["", f"### Performance (n = {n} threads/ranks; CUDA: one GPU vs. the sequential CPU code)", "",
          _row(head), _row(["---"] * len(head))]
    for r in res:
        sv = r.get("speedup_verified", {})
        L.append(_row([_label(r), r["target"]] + [cell(r, k, "speedup", _x) for k in ks]
                      + [cell(r, k, "efficiency", _x) for k in ks]
                      + [_x(sv.get("geomean")), f"{r.get('speedup_problems', 0)}/{r['problems']}"]))
    # similarity
    if any(r.get("references") for r in res):
        L += ["", "### Similarity to the references", "", _row(["agent", "target", "pairs", "BLEU", "CodeBLEU"]),
              _row(["---"] * 5)]
        for r in res:
            cb = (r.get("codebleu") or {}).get("codebleu")
            L.append(_row([_label(r), r["target"], str(r.get("references", 0)), _x(r.get("bleu")),
                           "–" if cb is None else f"{100 * cb:.2f}"]))
    notes = []
    if clamped:
        notes.append("† fewer samples than k for some problems: the value at k = N (exact for deterministic agents, "
                     "a lower bound otherwise)")
    reasons = sorted({s for r in res for s in r.get("speedup_notes", [])})
    if reasons:
        notes.append("speedup not measured for some verified samples: " + "; ".join(reasons))
    if cfg.get("speedup_failed") == "exclude":
        notes.append("speedup_n@k over correct samples only (ParEval's analysis script)")
    else:
        notes.append("speedup_n@k counts failed samples as speedup 0 (expected best of k attempts)")
    L += [""] + [f"- {x}" for x in notes] + [""]
    return "\n".join(L)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
