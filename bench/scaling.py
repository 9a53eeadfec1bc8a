"""Cost as the work grows: seconds per epoch against batch size and against width, myelin next to a peer.

Each point trains a fixed number of steps (enough for about 40 GFLOP of matrix products or
16,384 samples, whichever comes first, and at least 3 steps) on synthetic data, without a
validation pass, and extrapolates to an epoch of 48,000 training samples: seconds per epoch =
seconds per step × ceil(48,000 / batch). The fraction of NumPy's matmul peak each point reaches
tells where a framework is bound by per-step overhead (a small, flat fraction) and where by
arithmetic (a fraction that approaches what the BLAS does at those shapes).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

from . import flops, machine, stats, suite
from .envs import BENCH_DIR, REPO_ROOT, clean_env, env_python
from .impls import VARIANTS
from .suite import OUT_DIR, Config, Runner

EPOCH_SAMPLES = 48_000
BATCHES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
WIDTHS = [64, 128, 256, 512, 1024, 2048, 4096]
WIDTH_BATCH = 128
PLOT_PATH = BENCH_DIR / "scaling.png"


def steps_for(sizes: list[int], batch: int, flop_budget: float = 4e10, sample_cap: int = 16_384) -> int:
    """Steps to time at one point: about ``flop_budget`` FLOPs or ``sample_cap`` samples, at least 3.

    Example:
        >>> steps_for([784, 64, 64, 10], 16)
        1024
        >>> steps_for([784, 4096, 4096, 10], 128)
        3
    """
    by_flops = math.ceil(flop_budget / flops.train_flops(sizes, batch))
    return max(3, min(by_flops, math.ceil(sample_cap / batch)))


def points(quick: bool) -> list[dict]:
    """Every point of both sweeps."""
    batches = [16, 128, 1024] if quick else BATCHES
    widths = [64, 512] if quick else WIDTHS
    out = [{"sweep": "batch", "x": b, "sizes": [784, 64, 64, 10], "batch": b} for b in batches]
    out += [{"sweep": "width", "x": w, "sizes": [784, w, w, 10], "batch": WIDTH_BATCH} for w in widths]
    budget, cap = (2e9, 2048) if quick else (4e10, 16_384)
    for p in out:
        p["steps"] = steps_for(p["sizes"], p["batch"], budget, cap)
        p["step_flops"] = flops.train_flops(p["sizes"], p["batch"])
    return out


def run(
    reps: int = 3,
    quick: bool = False,
    threads: int = 1,
    pin: bool = True,
    peer: str = "torch",
    progress=None,
    plot_path: Path = PLOT_PATH,
) -> dict:
    """Measure both sweeps for myelin and ``peer``, alternating them; return the JSON-able result, draw ``plot_path``."""
    if peer not in VARIANTS or peer == "myelin":
        raise ValueError(f"peer must be one of {', '.join(v for v in VARIANTS if v != 'myelin')}, got {peer!r}")
    runner = Runner(
        Config(reps=reps, quick=quick, threads=threads, pin=pin, variants=["myelin", peer], workloads=[]), progress=progress
    )
    progress = runner.progress
    result = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join(["python -m bench scaling", *sys.argv[2:]]),
        "machine": machine.describe(threads, runner.cpus),
        "reps": reps,
        "frameworks": ["myelin", peer],
        "labels": {n: VARIANTS[n].label for n in ("myelin", peer)},
        "epoch_samples": EPOCH_SAMPLES,
        "points": [],
    }
    size = 512 if quick else 2048
    result["peak"] = {"gflops": runner._pinned(lambda: flops.matmul_gflops([(size, size, size)], 0.5)), "shape": [size] * 3}
    runner.start_workers()
    result["missing"] = {f.removesuffix("_impl"): why for f, why in runner.missing.items()}
    result["versions"] = {f: c.versions for f, c in runner.workers.items()}
    n_data = max(p["steps"] * p["batch"] for p in points(quick))
    spec = {"kind": "synthetic", "n": n_data, "features": 784, "classes": 10, "seed": 0, "validation_split": 0.0}
    names = [n for n in ("myelin", peer) if runner.status_of(n) is None]
    try:
        for p in points(quick):
            p["shape_peak_gflops"] = runner._pinned(
                lambda p=p: flops.matmul_gflops(flops.step_shapes(p["sizes"], p["batch"]), 0.1)
            )
            label = f"{p['sweep']}={p['x']}"

            def request(name: str, p=p, label=label) -> dict:
                return runner.workers[VARIANTS[name].family].request(
                    {
                        "op": "steps",
                        "variant": name,
                        "sizes": p["sizes"],
                        "lr": 1e-3,
                        "seed": 0,
                        "data": spec,
                        "batch": p["batch"],
                        "steps": p["steps"],
                        "key": f"scaling:{label}:{name}",
                    }
                )

            for name in names:
                request(name)  # warm-up

            def measure(name: str, rep: int, p=p) -> dict:
                return {"value": request(name)["seconds"][0] / p["steps"]}

            rr = runner._round_robin(names, reps, measure, label)
            p["results"] = runner._collect(names, rr)
            for res in p["results"].values():
                if res["status"] == "ok":
                    per_step = res["summary"]["median"]
                    res["s_per_epoch"] = per_step * math.ceil(EPOCH_SAMPLES / p["batch"])
                    res["gflops"] = p["step_flops"] / per_step / 1e9
                    res["peak_fraction"] = res["gflops"] / result["peak"]["gflops"]
            runner.forget()
            result["points"].append(p)
            progress(
                f"[scaling] {label}: "
                + ", ".join(f"{n} {r.get('s_per_epoch', float('nan')):.3f} s/epoch" for n, r in p["results"].items())
            )
    finally:
        runner.close_workers()
    result["analysis"] = analysis(result)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    ok, message = plot(result, plot_path)
    where = plot_path.resolve()
    result["plot"] = (str(where.relative_to(REPO_ROOT)) if where.is_relative_to(REPO_ROOT) else str(where)) if ok else None
    if not ok:
        progress(f"[scaling] no plot: {message}")
    print(scaling_text(result))
    return result


def _series(result: dict, sweep: str, name: str) -> list[tuple[dict, dict]]:
    return [
        (p, p["results"][name])
        for p in result["points"]
        if p["sweep"] == sweep and p.get("results", {}).get(name, {}).get("status") == "ok"
    ]


def _ceiling_clause(series: list[tuple[dict, dict]], result: dict) -> str:
    """Said when the last point stays well below what NumPy's matmul alone reaches at its shapes."""
    p, r = series[-1]
    ceiling = p["shape_peak_gflops"] / result["peak"]["gflops"]
    if r["peak_fraction"] >= 0.75 * ceiling:
        return ""
    return (
        f"; NumPy's matrix products alone run at {100 * ceiling:.0f} % at those shapes, so the rest is work outside "
        "them that grows with the step: gathering the batch, bias, activation, softmax, the optimizer update"
    )


def crossover(series: list[tuple[dict, dict]]) -> dict | None:
    """Where arithmetic overtakes the fixed per-step cost along one sweep.

    The fixed cost is estimated at the smallest point: its time per step less its arithmetic
    at NumPy's speed for those shapes. The crossover is the first point whose arithmetic
    (FLOPs / matmul speed at its shapes) exceeds that fixed cost.

    Example:
        >>> pts = [({"x": x, "step_flops": f, "shape_peak_gflops": 100.0}, {"summary": {"median": t}, "peak_fraction": 0.0})
        ...        for x, f, t in [(16, 1e6, 1e-4), (128, 8e6, 1.8e-4), (1024, 6.4e7, 7e-4)]]
        >>> crossover(pts)["x"]
        1024
    """
    if not series:
        return None
    p0, r0 = series[0]
    overhead = r0["summary"]["median"] - p0["step_flops"] / (p0["shape_peak_gflops"] * 1e9)
    at = next((p["x"] for p, _ in series if p["step_flops"] / (p["shape_peak_gflops"] * 1e9) >= overhead), None)
    return {
        "overhead_s": max(overhead, 0.0),
        "x": at,
        "first_fraction": r0["peak_fraction"],
        "last_fraction": series[-1][1]["peak_fraction"],
    }


def analysis(result: dict) -> list[str]:
    """One sentence per framework and sweep on where it is bound by overhead and where by arithmetic."""
    sentences = []
    for name in result["frameworks"]:
        label = result["labels"][name].split(",")[0]
        for sweep, what in (("batch", "batch"), ("width", "width")):
            series = _series(result, sweep, name)
            c = crossover(series)
            if c is None:
                continue
            first, last = series[0][0]["x"], series[-1][0]["x"]
            fixed = f"about {c['overhead_s'] * 1e6:,.0f} µs of fixed cost per step"
            lo, hi = f"{100 * c['first_fraction']:.0f} %", f"{100 * c['last_fraction']:.0f} %"
            tail = _ceiling_clause(series, result)
            if c["x"] is None:
                bound = f"bound by overhead over the whole range ({fixed}), {hi} of the matmul peak at {what} {last:,}{tail}"
            elif c["x"] == first:
                bound = f"bound by arithmetic over the whole range, {lo} to {hi} of the matmul peak{tail}"
            else:
                bound = (
                    f"bound by overhead below {what} {c['x']:,} ({fixed}; {lo} of the matmul peak at {what} {first:,}), "
                    f"by arithmetic from there: {hi} of the peak at {what} {last:,}{tail}"
                )
            sentences.append(f"{label}, against {what}: {bound}.")
    return sentences


def table_rows(result: dict, sweep: str) -> tuple[list[str], list[list[str]]]:
    names = result["frameworks"]
    what = "batch" if sweep == "batch" else "width (784-W-W-10, batch 128)"
    header = [what, "steps timed"]
    for n in names:
        header += [f"{n} s/epoch", f"{n} % peak"]
    if len(names) == 2:
        header.append(f"{names[1]} / myelin")
    rows = []
    for p in result["points"]:
        if p["sweep"] != sweep:
            continue
        row = [f"{p['x']:,}", str(p["steps"])]
        for n in names:
            r = p.get("results", {}).get(n, {})
            row += (
                [f"{r['s_per_epoch']:.3f}", f"{100 * r['peak_fraction']:.1f} %"]
                if r.get("status") == "ok"
                else [r.get("status", "–"), ""]
            )
        if len(names) == 2:
            a, b = (p.get("results", {}).get(n, {}) for n in names)
            ok = a.get("status") == "ok" and b.get("status") == "ok"
            row.append(f"{stats.summarize(stats.paired_ratios(a['values'], b['values']))['median']:.2f}×" if ok else "–")
        rows.append(row)
    return header, rows


def scaling_text(result: dict) -> str:
    from .report import render_text

    lines = ["== scaling: seconds per epoch (48,000 training samples, extrapolated from timed steps) =="]
    for sweep in ("batch", "width"):
        lines += [render_text(*table_rows(result, sweep)), ""]
    lines += result.get("analysis", [])
    return "\n".join(lines)


def scaling_markdown(result: dict) -> str:
    from .report import render_markdown, short_commit

    m = result["machine"]
    parts = [
        "## Scaling: cost as the work grows",
        "",
        f"Measured {result['started']} (commit {short_commit(m.get('commit', '?'))}) with `{result['command']}`: {m['cpu']}, "
        f"{m['threads']} thread(s), {result['reps']} repetitions per point, round-robin, medians. "
        f"NumPy's float32 matmul peak: {result['peak']['gflops']:.0f} GFLOP/s.",
        "",
        "Each point times a fixed number of training steps (about 40 GFLOP of matrix products or 16,384 samples, "
        "at least 3 steps) on synthetic data, without validation, and extrapolates to an epoch of 48,000 training samples "
        "(seconds per step × ceil(48,000 / batch)). '% peak' is the matmul FLOP rate reached over NumPy's peak; "
        "the last column is the peer's time over myelin's (above 1: myelin faster).",
        "",
    ]
    if result.get("plot") and (REPO_ROOT / result["plot"]).resolve() == PLOT_PATH.resolve():  # the committed figure
        parts += ["![seconds per epoch and fraction of matmul peak against batch size and width](scaling.png)", ""]
    for sweep, title in (
        ("batch", "### Against batch size (784-64-64-10)"),
        ("width", "### Against width (784-W-W-10, batch 128)"),
    ):
        parts += [title, "", render_markdown(*table_rows(result, sweep)), ""]
    sentences = analysis(result)  # recomputed, so that a report always says what this code concludes
    if sentences:
        parts += ["### Where the time goes", ""] + [f"- {s}" for s in sentences] + [""]
    for name, why in result.get("missing", {}).items():
        parts.append(f"Missing: {name}: {why}.")
    return "\n".join(parts).rstrip() + "\n"


def plot(result: dict, path: Path) -> tuple[bool, str]:
    """Draw ``path`` with matplotlib: the runner's own, or bench/envs/plot's (``python -m bench setup plot``)."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    data_path = OUT_DIR / "scaling-plot-input.json"
    data_path.write_text(json.dumps(result))
    for python in (Path(sys.executable), env_python("plot")):
        if not python.exists():
            continue
        probe = subprocess.run([str(python), "-c", "import matplotlib"], capture_output=True, env=clean_env(), check=False)
        if probe.returncode != 0:
            continue
        proc = subprocess.run(
            [str(python), "-m", "bench.plot", str(data_path), str(path)],
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd=REPO_ROOT,
            check=False,
        )
        if proc.returncode == 0:
            return True, "ok"
        return False, (proc.stderr.strip().splitlines() or ["plotting failed"])[-1]
    return False, "matplotlib is in neither this interpreter nor bench/envs/plot (run: python -m bench setup plot)"


def save(result: dict, path: Path | None = None) -> Path:
    """Write the result as JSON to ``path``; by default to ``bench/out/scaling-<time>.json`` and ``bench/out/scaling.json``."""
    return suite.save(result, path, prefix="scaling", latest="scaling.json")
