"""A persistent worker: one framework family in its own environment, driven over stdin/stdout JSON.

``python -m bench.worker FAMILY THREADS`` imports ``bench.impls.FAMILY``, answers a hello line
(versions, or the import error), then answers one JSON line per request line:

- ``{"op": "epochs", "variant", "sizes", "lr", "seed", "data", "batch", "epochs", "key"}``: train
  (the model under ``key`` carries on from where it was) and return per-epoch seconds;
- ``{"op": "steps", ...}``: the same on the first ``steps * batch`` training samples, no validation
  (the scaling sweep);
- ``{"op": "predict", "variant", "sizes", "batch", "n", "min_seconds", "seed"}``: seconds per call
  of ``predict`` on ``n`` samples in batches of ``batch`` (as many calls as fill ``min_seconds``);
- ``{"op": "accuracy", "variant", "sizes", "lr", "seed", "path", "batch", "epochs"}``: train on a
  prepared real data set and return the test accuracy;
- ``{"op": "forget"}`` drops cached models and data; ``{"op": "quit"}`` ends the worker.

Anything the framework prints goes to stderr, so stdout carries only the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

import numpy as np

from . import data as bench_data


class Worker:
    def __init__(self, family: str, threads: int):
        self.module = importlib.import_module(f"bench.impls.{family}")
        self.module.configure(threads)
        self.trainers: dict = {}
        self.datasets: dict = {}

    def dataset(self, spec: dict) -> bench_data.Dataset:
        key = json.dumps(spec, sort_keys=True)
        if key not in self.datasets:
            if spec["kind"] == "synthetic":
                self.datasets[key] = bench_data.synthetic(
                    spec["n"],
                    spec["features"],
                    spec.get("classes", 10),
                    spec.get("seed", 0),
                    spec.get("validation_split", 0.2),
                )
            elif spec["kind"] == "learnable":
                classes, seed, split = spec.get("classes", 10), spec.get("seed", 0), spec.get("validation_split", 0.2)
                self.datasets[key] = bench_data.learnable(spec["n"], spec["features"], classes, seed, split)
            else:
                self.datasets[key] = bench_data.load_npz(spec["path"], spec.get("validation_split"))[0]
        return self.datasets[key]

    def trainer(self, req: dict):
        key = req.get("key") or json.dumps([req["variant"], req["sizes"], req.get("lr", 1e-3), req.get("seed", 0)])
        if key not in self.trainers:
            self.trainers[key] = self.module.make(req["variant"], req["sizes"], req.get("lr", 1e-3), req.get("seed", 0))
        return self.trainers[key]

    def handle(self, req: dict) -> dict:
        op = req["op"]
        if op == "epochs":
            return self._timed(lambda: self.trainer(req).fit(self.dataset(req["data"]), req["batch"], req.get("epochs", 1)))
        if op == "steps":
            full = self.dataset(req["data"])
            n = min(req["steps"] * req["batch"], full.n_train)
            key = (json.dumps(req["data"], sort_keys=True), n)
            if key not in self.datasets:  # kept, so that frameworks that cache converted data can
                self.datasets[key] = bench_data.Dataset(full.x[:n], full.y[:n], n, full.x[:0], full.y[:0], None, full.classes)
            part = self.datasets[key]
            return self._timed(lambda: self.trainer(req).fit(part, req["batch"], 1))
        if op == "predict":
            return self._predict(req)
        if op == "accuracy":
            data, x_test, y_test = bench_data.load_npz(req["path"], req.get("validation_split"))
            trainer = self.module.make(req["variant"], req["sizes"], req.get("lr", 1e-3), req.get("seed", 0))
            seconds, logs = trainer.fit(data, req["batch"], req["epochs"])
            predicted = np.asarray(trainer.predict(x_test, 1000)).argmax(axis=1)
            return {"accuracy": float((predicted == y_test).mean()), "seconds": seconds, "logs": logs}
        if op == "forget":
            self.trainers.clear()
            self.datasets.clear()
            return {}
        raise ValueError(f"unknown op {op!r}")

    @staticmethod
    def _timed(run) -> dict:
        cpu, wall = time.process_time(), time.perf_counter()
        seconds, logs = run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return {"seconds": seconds, "logs": logs, "cpu": cpu, "wall": wall}

    def _predict(self, req: dict) -> dict:
        sizes = req["sizes"]
        trainer = self.trainer(req)
        if not getattr(trainer, "_bench_fitted", False):  # a trained model predicts: one short epoch first
            warm = bench_data.synthetic(1000, sizes[0], sizes[-1], seed=1)
            trainer.fit(warm, 100, 1)
            trainer._bench_fitted = True
        x = bench_data.synthetic(req["n"], sizes[0], sizes[-1], seed=2, validation_split=0.0).x
        batch = req["batch"]
        trainer.predict(x, batch)  # warm-up (compiles where a framework compiles)
        once = time.perf_counter()
        trainer.predict(x, batch)
        once = time.perf_counter() - once
        calls = max(1, min(req.get("max_calls", 10_000), int(req.get("min_seconds", 0.2) / max(once, 1e-7))))
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(calls):
            out = trainer.predict(x, batch)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return {"seconds": [wall / calls], "calls": calls, "cpu": cpu, "wall": wall, "shape": list(np.shape(out))}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    family, threads = argv[0], int(argv[1])
    proto = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol's own copy of stdout
    os.dup2(2, 1)  # everything else printed (Python or C) lands on stderr
    sys.stdout = sys.stderr

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    try:
        worker = Worker(family, threads)
        send({"ok": True, "versions": worker.module.versions(), "pid": os.getpid()})
    except Exception as err:
        send({"ok": False, "error": f"{type(err).__name__}: {err}"})
        return 1
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("op") == "quit":
            send({"ok": True})
            break
        try:
            resp = worker.handle(req)
            resp["ok"] = True
        except Exception as err:
            traceback.print_exc()
            resp = {"ok": False, "error": f"{type(err).__name__}: {err}"}
        send(resp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
