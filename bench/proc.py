"""Programs the runner times as whole, fresh processes: ``python -m bench.proc PROGRAM VARIANT ...``.

- ``penguins VARIANT THREADS DATA.npz EPOCHS``: the penguin network 4-16-16-3, Adam (learning
  rate 0.01, as ``myelin demo``), batch 16, ``EPOCHS`` epochs with validation after each, then
  the test accuracy. The runner times the process from start to exit, import included.
- ``memory VARIANT THREADS N``: the seed program (784-64-64-10, Adam, batch 128, validation_split
  0.2) for one epoch on ``N`` synthetic samples, then ``predict`` on 10,000 test samples;
  reports the peak resident set size (``getrusage(RUSAGE_SELF).ru_maxrss``) and the resident
  size after the framework's import (``VmRSS`` from /proc/self/status).

Each prints one JSON line on stdout as its last line.
"""

from __future__ import annotations

import json
import sys
import time

START = time.perf_counter()


def rss_mib() -> float:
    """The current resident set size (VmRSS) in MiB, or -1 where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


def peak_rss_mib() -> float:
    """The peak resident set size of this process so far, in MiB (Linux reports ru_maxrss in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_family(variant: str, threads: int):
    import importlib

    from .impls import VARIANTS

    module = importlib.import_module(f"bench.impls.{VARIANTS[variant].family}")
    module.configure(threads)
    return module


def penguins(variant: str, threads: int, path: str, epochs: int) -> dict:
    import numpy as np

    module = load_family(variant, threads)
    imported = time.perf_counter() - START
    from .data import load_npz

    data, x_test, y_test = load_npz(path)
    trainer = module.make(variant, [4, 16, 16, 3], 0.01, 0)
    seconds, _logs = trainer.fit(data, 16, epochs)
    accuracy = float((np.asarray(trainer.predict(x_test, 16)).argmax(axis=1) == y_test).mean())
    return {"import_s": imported, "train_s": sum(seconds), "test_accuracy": accuracy, "inside_s": time.perf_counter() - START}


def memory(variant: str, threads: int, n: int) -> dict:
    module = load_family(variant, threads)
    after_import = rss_mib()
    from .data import synthetic

    data = synthetic(n, 784, 10, seed=0, validation_split=0.2)
    x_test = synthetic(10_000, 784, 10, seed=3, validation_split=0.0).x
    after_data = rss_mib()
    trainer = module.make(variant, [784, 64, 64, 10], 1e-3, 0)
    trainer.fit(data, 128, 1)
    trainer.predict(x_test, 128)
    return {"after_import_mib": after_import, "after_data_mib": after_data, "peak_mib": peak_rss_mib()}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    program, variant, threads = argv[0], argv[1], int(argv[2])
    if program == "penguins":
        result = penguins(variant, threads, argv[3], int(argv[4]))
    elif program == "memory":
        result = memory(variant, threads, int(argv[3]))
    else:
        raise SystemExit(f"unknown program {program!r}")
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
