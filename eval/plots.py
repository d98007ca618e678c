"""PNG plots of a summary: pass@k per target, and the speedup distribution."""
from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _agents(summary: dict) -> list[str]:
    return list(dict.fromkeys(_label(r) for r in summary["results"]))


def _label(r: dict) -> str:
    return r["agent"] + (f" ({r['model']})" if r.get("model") and r["agent"] != "gcc-autopar" else "")


def pass_at_k(summary: dict, path: Path) -> Path:
    """One panel per target; bars: pass@k for each k, grouped by agent."""
    plt = _plt()
    targets = summary["config"]["targets"]
    ks = [str(k) for k in summary["config"]["k"]]
    agents = _agents(summary)
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 3.8), sharey=True, squeeze=False)
    colors = plt.get_cmap("tab10")
    width = 0.8 / max(1, len(ks))
    for ax, target in zip(axes[0], targets):
        rows = {_label(r): r for r in summary["results"] if r["target"] == target}
        for j, k in enumerate(ks):
            xs, ys = [], []
            for i, a in enumerate(agents):
                r = rows.get(a)
                v = r["k"][k]["pass"] if r and r["k"].get(k) else None
                if v is None:
                    continue
                xs.append(i + (j - (len(ks) - 1) / 2) * width)
                ys.append(100 * v)
            bars = ax.bar(xs, ys, width=width * 0.95, color=colors(j), label=f"pass@{k}")
            for b, y in zip(bars, ys):
                ax.text(b.get_x() + b.get_width() / 2, y + 1, f"{y:.0f}", ha="center", va="bottom", fontsize=7)
        for i, a in enumerate(agents):
            if a not in rows:
                ax.text(i, 3, "n/a", ha="center", va="bottom", color="gray", fontsize=9)
        ax.set_title(target)
        ax.set_xticks(range(len(agents)))
        ax.set_xticklabels(agents, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 110)
        ax.grid(axis="y", alpha=0.3)
        if not rows:
            ax.text(0.5, 0.5, "no samples", transform=ax.transAxes, ha="center", color="gray")
    axes[0][0].set_ylabel("pass@k (%)")
    axes[0][-1].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"pass@k on suite '{summary['suite']['name']}'", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def speedup(summary: dict, path: Path) -> Path:
    """Per target, the speedups of verified samples by agent (log scale, 1x marked)."""
    plt = _plt()
    targets = summary["config"]["targets"]
    agents = _agents(summary)
    n = summary["config"].get("n")
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 3.8), sharey=True, squeeze=False)
    any_data = False
    for ax, target in zip(axes[0], targets):
        data, labels = [], []
        for a in agents:
            r = next((r for r in summary["results"] if r["target"] == target and _label(r) == a), None)
            vals = [s for t in (r or {}).get("tasks", {}).values() for s in t["speedups"] if s and s > 0]
            data.append(vals)
            labels.append(f"{a}\n({len(vals)})" if r else f"{a}\n(n/a)")
        if any(data):
            any_data = True
            pos = [i + 1 for i, d in enumerate(data) if d]
            ax.boxplot([d for d in data if d], positions=pos, widths=0.5, showfliers=False)
            for p, d in zip(pos, [d for d in data if d]):
                jitter = [p + 0.12 * ((i * 7919) % 11 - 5) / 5 for i in range(len(d))]
                ax.scatter(jitter, d, s=12, alpha=0.6)
            ax.set_yscale("log")
            from matplotlib.ticker import FuncFormatter
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}×"))
        else:
            note = "CUDA on CPU emulation:\nno speedup measured" if target == "cuda" else "no speedup measured"
            ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", color="gray")
        ax.axhline(1.0, color="red", lw=1, ls="--")
        ax.set_xticks(range(1, len(agents) + 1))
        ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
        ax.set_xlim(0.4, len(agents) + 0.6)
        ax.set_title(target)
        ax.grid(axis="y", alpha=0.3, which="both")
    axes[0][0].set_ylabel(f"speedup over sequential (n={n})")
    title = "speedup of verified samples" + ("" if any_data else " (timing disabled or nothing verified)")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_all(summary: dict, out: Path) -> list[Path]:
    try:
        _plt()
    except ImportError:
        import sys
        print("paralift eval: matplotlib is not installed: no plots (pip install 'paralift[eval]')", file=sys.stderr)
        return []
    return [pass_at_k(summary, Path(out) / "pass_at_k.png"), speedup(summary, Path(out) / "speedup.png")]
