"""``python -m bench.plot SCALING.json OUT.png``: the scaling figure (run by ``python -m bench scaling``).

It needs only matplotlib and the JSON, so it can run in bench/envs/plot when the runner's
interpreter has no matplotlib.
"""

from __future__ import annotations

import json
import sys


def draw(result: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex="col")
    styles = {0: {"color": "#c0392b", "marker": "o"}, 1: {"color": "#2c3e50", "marker": "s"}}
    for col, (sweep, xlabel) in enumerate(
        (("batch", "batch size (784-64-64-10)"), ("width", "width W (784-W-W-10, batch 128)"))
    ):
        for i, name in enumerate(result["frameworks"]):
            pts = [
                p for p in result["points"] if p["sweep"] == sweep and p.get("results", {}).get(name, {}).get("status") == "ok"
            ]
            xs = [p["x"] for p in pts]
            label = result["labels"][name]
            axes[0][col].plot(xs, [p["results"][name]["s_per_epoch"] for p in pts], label=label, **styles[i % 2])
            axes[1][col].plot(xs, [100 * p["results"][name]["peak_fraction"] for p in pts], label=label, **styles[i % 2])
        pts = [p for p in result["points"] if p["sweep"] == sweep]
        peak = result["peak"]["gflops"]
        axes[1][col].plot(
            [p["x"] for p in pts],
            [100 * p["shape_peak_gflops"] / peak for p in pts],
            color="#7f8c8d",
            linestyle="--",
            label="NumPy matmul alone at these shapes",
        )
        axes[0][col].set_yscale("log")
        axes[0][col].set_ylabel("seconds per epoch (48,000 samples)")
        axes[1][col].set_ylabel(f"% of matmul peak ({peak:.0f} GFLOP/s)")
        axes[1][col].set_xlabel(xlabel)
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        for row in (0, 1):
            ax = axes[row][col]
            ax.set_xscale("log", base=2)
            ax.set_xticks([p["x"] for p in pts])
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.grid(True, which="both", alpha=0.3)
        axes[0][col].yaxis.set_major_formatter(plain)
        low, high = axes[0][col].get_ylim()
        axes[0][col].yaxis.set_minor_formatter(
            plain if high / low < 20 else NullFormatter()
        )  # label minor ticks within a decade
        axes[1][col].set_ylim(bottom=0)
    axes[0][0].legend(fontsize=8)
    axes[1][0].legend(fontsize=8)
    m = result["machine"]
    fig.suptitle(f"Cost as the work grows — {m['cpu']}, {m['threads']} thread(s), {result['started'][:10]}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        draw(json.load(f), sys.argv[2])
