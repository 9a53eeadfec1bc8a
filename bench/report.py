"""Tables from a run's JSON: plain text for the terminal, Markdown for ``bench/RESULTS.md``.

``write_results`` replaces only the parts of RESULTS.md between its ``<!-- bench:NAME:begin -->``
and ``<!-- bench:NAME:end -->`` markers, so notes and other people's sections outside them stay.
"""

from __future__ import annotations

import re
from pathlib import Path

from .envs import BENCH_DIR

RESULTS_PATH = BENCH_DIR / "RESULTS.md"
FAMILY_LABELS = {
    "myelin": "myelin",
    "numpy": "NumPy",
    "torch": "PyTorch",
    "jax": "JAX",
    "keras": "Keras 3 (TensorFlow)",
    "sklearn": "scikit-learn",
}
# import-time and environment families -> the variants they stand for in the headline
FAMILY_VARIANTS = {
    "myelin": ["myelin"],
    "numpy": ["numpy"],
    "torch": ["torch", "torch-dataloader"],
    "jax": ["jax-jit", "jax-scan"],
    "keras": ["keras"],
    "sklearn": ["sklearn"],
}


def fmt_seconds(s: float | None) -> str:
    """A duration with a unit that keeps three significant figures.

    Example:
        >>> fmt_seconds(1.2345), fmt_seconds(0.01234), fmt_seconds(0.0000456)
        ('1.23 s', '12.3 ms', '45.6 µs')
    """
    if s is None:
        return "–"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale or unit == "µs":
            value = s / scale
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:,.0f} {unit}"
    return f"{s:.3g} s"


def fmt_ratio(summary: dict | None) -> str:
    """A paired ratio as 'median× (min–max)'.

    Example:
        >>> fmt_ratio({"median": 2.345, "min": 2.1, "max": 2.5})
        '2.35× (2.10–2.50)'
    """
    if not summary:
        return "–"
    return f"{summary['median']:.2f}× ({summary['min']:.2f}–{summary['max']:.2f})"


def _spread(summary: dict, fmt) -> str:
    return f"{fmt(summary['min'])} – {fmt(summary['max'])}"


def _label(result: dict, name: str, kind: str = "") -> str:
    if kind == "import":  # one row per package, not per way of training
        return FAMILY_LABELS.get(name, name)
    return result.get("labels", {}).get(name) or FAMILY_LABELS.get(name, name)


def _flop_line(w: dict, result: dict) -> str:
    peak = result.get("peak", {})
    parts = []
    if w.get("flops"):
        per = {"epoch": "epoch", "predict": "call"}.get(w["kind"], "run")
        parts.append(f"{w['flops'] / 1e9:,.3g} GFLOP of matmul per {per}")
    if peak:
        m = peak["shape"][0]
        parts.append(f"NumPy float32 matmul peak {peak['gflops']:.0f} GFLOP/s ({m}×{m}·{m}×{m})")
    if w.get("shape_peak_gflops"):
        parts.append(f"{w['shape_peak_gflops']:.0f} GFLOP/s at this workload's shapes")
    return "; ".join(parts)


def _accuracy(logs: dict) -> str:
    """The last measured epoch's training and validation accuracy, so that a collapsed run is visible."""
    train, val = logs.get("accuracy"), logs.get("val_accuracy")
    if train is None and val is None:
        return "–"
    return " / ".join("–" if v is None else f"{float(v):.3f}" for v in (train, val))


def workload_rows(w: dict, result: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a workload's table (shared by the text and Markdown renderings)."""
    kind = w["kind"]
    ratios = w.get("ratios", {})
    results = w.get("results", {})
    if kind in ("epoch", "predict"):
        unit = "s/epoch" if kind == "epoch" else "time per call"
        header = ["framework", unit, "spread (min – max)", "GFLOP/s", "% of peak", "CPU/wall", "myelin speed-up"]
        if kind == "epoch":
            header.insert(-1, "accuracy (train / val)")
        if kind == "predict":
            header[3:3] = ["samples/s"]
    elif kind == "accuracy":
        header = ["framework", "test accuracy (median)", "spread (min – max)", "training time"]
    elif kind == "import":
        header = ["framework", "import statement", "import (median)", "spread (min – max)", "whole process", "myelin speed-up"]
    elif kind == "memory":
        header = ["framework", "peak RSS (median)", "spread (min – max)", "RSS after import", "peer / myelin"]
    elif w["id"] == "penguins":
        header = [
            "framework",
            "whole process (median)",
            "spread (min – max)",
            "import",
            "training",
            "test accuracy",
            "myelin speed-up",
        ]
    else:
        header = ["framework", "median", "spread (min – max)"]
    rows = []
    for name, res in results.items():
        label = _label(result, name, kind)
        if res["status"] != "ok":
            rows.append([label, f"{res['status']}: {res.get('reason', '')}"] + [""] * (len(header) - 2))
            continue
        s = res["summary"]
        ratio = fmt_ratio(ratios.get(name)) if name != "myelin" else "—"
        if kind in ("epoch", "predict"):
            row = [
                label,
                fmt_seconds(s["median"]),
                _spread(s, fmt_seconds),
                f"{res['gflops']:.1f}",
                f"{100 * res['peak_fraction']:.1f} %",
            ]
            row.append(f"{res['cpu_per_wall']:.2f}" if res.get("cpu_per_wall") else "–")
            if kind == "epoch":
                row.append(_accuracy(res.get("final_logs") or {}))
            row.append(ratio)
            if kind == "predict":
                row[3:3] = [f"{res['samples_per_s']:,.0f}"]
        elif kind == "accuracy":
            train = sum(r.get("train_s", 0) for r in res["runs"]) / max(len(res["runs"]), 1)
            row = [label, f"{s['median']:.4f}", f"{s['min']:.4f} – {s['max']:.4f}", fmt_seconds(train)]
        elif kind == "import":
            row = [label, f"`{res.get('statement', '')}`", fmt_seconds(s["median"]), _spread(s, fmt_seconds)]
            row += [fmt_seconds(res.get("process_s")), ratio]
        elif kind == "memory":
            row = [
                label,
                f"{s['median']:,.0f} MiB",
                f"{s['min']:,.0f} – {s['max']:,.0f} MiB",
                f"{res['after_import_mib']:,.0f} MiB",
                ratio,
            ]
        elif w["id"] == "penguins":
            row = [
                label,
                fmt_seconds(s["median"]),
                _spread(s, fmt_seconds),
                fmt_seconds(res["import_s"]),
                fmt_seconds(res["train_s"]),
            ]
            row += [f"{res['test_accuracy']:.3f}", ratio]
        else:
            row = [label, fmt_seconds(s["median"]), _spread(s, fmt_seconds)]
        rows.append(row)
    return header, rows


def render_text(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell.

    Example:
        >>> print(render_text(["a", "bb"], [["1", "2"]]))
        a  bb
        1  2
    """
    widths = [max(len(str(r[i])) for r in [header, *rows] if i < len(r)) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(c).ljust(widths[i]) for i, c in enumerate(r)]
        if len(r) > 1 and r[1].startswith(("missing:", "error:")):  # one wide cell, no padding after it
            cells = [str(r[0]).ljust(widths[0]), r[1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_markdown(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub Markdown table.

    Example:
        >>> print(render_markdown(["a", "b"], [["1", "x|y"]]))
        | a | b |
        |---|---|
        | 1 | x\\|y |
    """

    def cell(c) -> str:
        return str(c).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(c) for c in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _notes(w: dict, result: dict) -> list[str]:
    notes = [w["about"]] if w.get("about") else []
    line = _flop_line(w, result)
    if line and w["kind"] in ("epoch", "predict", "process") and w.get("flops"):
        notes.append(line)
    if w["kind"] == "accuracy" and "peer_range" in w:
        lo, hi = w["peer_range"]
        mine = w["results"]["myelin"]["summary"]["median"]
        verdict = "within or above" if w.get("myelin_within_peers") else "BELOW"
        notes.append(f"myelin {mine:.4f}: {verdict} the peers' spread {lo:.4f} – {hi:.4f}")
    if w.get("data"):
        notes.append(f"data: {w['data']}")
    return notes


def workload_text(w: dict, result: dict) -> str:
    """A workload as plain text for the terminal."""
    lines = [f"== {w['title']} =="]
    if w.get("skipped"):
        return "\n".join(lines + [f"skipped: {w['skipped']}"])
    lines += _notes(w, result)
    lines.append(render_text(*workload_rows(w, result)))
    if w["kind"] in ("epoch", "predict", "import", "process") and w.get("ratios"):
        lines.append("(myelin speed-up: the peer's time over myelin's, per repetition; above 1 means myelin is faster)")
    return "\n".join(lines)


def workload_markdown(w: dict, result: dict) -> str:
    lines = [f"### {w['title']}", ""]
    if w.get("skipped"):
        return "\n".join(lines + [f"Skipped: {w['skipped']}.", ""])
    for note in _notes(w, result):
        first = note if note.startswith("myelin") else note[0].upper() + note[1:]  # myelin keeps its lower case
        lines += [first + ("" if note.endswith(".") else "."), ""]
    lines.append(render_markdown(*workload_rows(w, result)))
    lines.append("")
    return "\n".join(lines)


def headline_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """myelin's speed-up over every peer, one row per workload (median of paired ratios)."""
    peers = [v for v in result.get("labels", {}) if v != "myelin" and v in result["config"]["variants"]]
    header = ["workload", *peers]
    rows = []
    for w in result["workloads"]:
        if w["kind"] == "accuracy" or not w.get("results") or w["id"] == "demo":
            continue
        by_variant = {}
        for name, res in w["results"].items():
            targets = FAMILY_VARIANTS.get(name, [name]) if w["kind"] == "import" else [name]
            for t in targets:
                if res["status"] != "ok":
                    by_variant[t] = res["status"]
                elif name in w.get("ratios", {}):
                    by_variant[t] = f"{w['ratios'][name]['median']:.2f}×"
        rows.append([w["title"].split(" (")[0], *[by_variant.get(p, "–") for p in peers]])
    return header, rows


def short_commit(commit: str) -> str:
    """The hash and date of a commit description, and whether the tree had uncommitted changes.

    Example:
        >>> short_commit("e33d0b6 2026-11-22 bench/: a suite (uncommitted changes)")
        'e33d0b6 2026-11-22 (uncommitted changes)'
    """
    words = commit.split()
    return " ".join(words[:2]) + (" (uncommitted changes)" if commit.endswith("(uncommitted changes)") else "")


def meta_markdown(result: dict) -> str:
    m = result["machine"]
    pinned = (
        f"; every measured process confined to {m['threads']} CPU(s), moved to the idlest before each measurement"
        if m.get("pin")
        else ""
    )
    lines = [
        f"- **Measured** {result['started']} to {result.get('finished', '?')}, commit {short_commit(m.get('commit', '?'))}",
        f"- **Command** `{result['command']}` ({result['config']['reps']} repetitions, round-robin)",
        f"- **Machine** {m['cpu']}, {m['cores']} cores, {m.get('memory_gib')} GiB, {m['os']}",
        (
            f"- **Threads** {m['threads']} (OMP/OPENBLAS/MKL_NUM_THREADS, torch.set_num_threads, TensorFlow intra-op{pinned})"
            if m["threads"]
            else "- **Threads** each framework's own default (no thread variable set, no confinement; myelin's thread policy)"
        ),
        f"- **Python** {m['python']}; **NumPy** {m['numpy']} with {m['blas']}",
    ]
    versions = result.get("versions", {})
    peers = []
    for family, vs in versions.items():
        shown = ", ".join(f"{k} {v}" for k, v in vs.items() if k not in ("numpy", "myelin_path", "torch_threads", "backend"))
        if shown and family not in ("numpy_impl",):
            peers.append(shown)
    if peers:
        lines.append(f"- **Versions** {'; '.join(peers)}")
    for family, why in result.get("missing", {}).items():
        lines.append(f"- **Missing** {family.removesuffix('_impl')}: {why}")
    return "\n".join(lines)


def issue2_markdown(result: dict) -> str:
    """The figures issue 2 asks for: import time, `myelin demo` wall time, seed MNIST s/epoch next to PyTorch."""
    by_id = {w["id"]: w for w in result["workloads"]}
    lines = ["| figure | myelin | PyTorch 2.13.0 | PyTorch / myelin |", "|---|---|---|---|"]
    imp = by_id.get("import", {}).get("results", {})
    if imp.get("myelin", {}).get("status") == "ok":
        torch = imp.get("torch", {})
        t = fmt_seconds(torch["summary"]["median"]) if torch.get("status") == "ok" else torch.get("status", "–")
        ratio = by_id["import"].get("ratios", {}).get("torch")
        mine = fmt_seconds(imp["myelin"]["summary"]["median"])
        lines.append(f"| `import` time (fresh interpreter) | {mine} | {t} | {fmt_ratio(ratio)} |")
    demo = by_id.get("demo", {})
    if demo.get("results", {}).get("myelin", {}).get("status") == "ok":
        s = demo["results"]["myelin"]["summary"]
        lines.append(
            f"| `myelin demo`, whole process (60 epochs) | {fmt_seconds(s['median'])} ({_spread(s, fmt_seconds)}) | – | – |"
        )
    seed = by_id.get("seed-b128", {}).get("results", {})
    if seed.get("myelin", {}).get("status") == "ok":
        torch = seed.get("torch", {})
        t = fmt_seconds(torch["summary"]["median"]) if torch.get("status") == "ok" else torch.get("status", "–")
        ratio = by_id["seed-b128"].get("ratios", {}).get("torch")
        mine = fmt_seconds(seed["myelin"]["summary"]["median"])
        lines.append(
            f"| seed MNIST program, s/epoch (batch 128, 48,000 + 12,000 validation) | {mine} | {t} | {fmt_ratio(ratio)} |"
        )
    return "\n".join(lines)


def run_markdown(result: dict) -> str:
    """The run's whole section of RESULTS.md."""
    parts = ["## Run", "", meta_markdown(result), ""]
    parts += ["## Issue 2's figures", "", issue2_markdown(result), ""]
    parts += [
        "## Headline: myelin's speed-up over each peer",
        "",
        "Median over repetitions of (peer's time / myelin's time), each repetition measured side by side; "
        "above 1 means myelin is faster. Memory: peer's peak / myelin's peak.",
        "",
        render_markdown(*headline_rows(result)),
        "",
        "## Workloads",
        "",
    ]
    parts += [workload_markdown(w, result) for w in result["workloads"]]
    return "\n".join(parts).rstrip() + "\n"


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the part between ``<!-- bench:NAME:begin -->`` and ``<!-- bench:NAME:end -->`` set to ``body``;
    the marked section is appended where it is not there yet.

    Example:
        >>> replace_section("a\\n<!-- bench:x:begin -->\\nold\\n<!-- bench:x:end -->\\nb", "x", "new\\n")
        'a\\n<!-- bench:x:begin -->\\nnew\\n<!-- bench:x:end -->\\nb'
    """
    begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
    block = f"{begin}\n{body}{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return text.rstrip("\n") + "\n\n" + block + "\n"


HEADER = """# Benchmark results

Measured by `python -m bench` (see [README.md](README.md)). Generated parts sit between
`<!-- bench:…:begin/end -->` markers and are rewritten by `python -m bench report`;
everything outside them is kept.
"""


def write_results(run: dict | None = None, scaling: dict | None = None, path: Path = RESULTS_PATH) -> Path:
    """Write (or update) RESULTS.md with the run's and/or the scaling sweep's sections."""
    text = path.read_text() if path.exists() else HEADER
    if run is not None:
        text = replace_section(text, "run", run_markdown(run))
    if scaling is not None:
        from .scaling import scaling_markdown

        text = replace_section(text, "scaling", scaling_markdown(scaling))
    path.write_text(text)
    return path
