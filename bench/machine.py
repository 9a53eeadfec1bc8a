"""What the numbers were measured on: CPU, cores, memory, Python, NumPy and its BLAS; CPU pinning."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time

from .envs import REPO_ROOT


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def blas_info() -> str:
    """NumPy's BLAS as NumPy reports it (name, version and build configuration)."""
    import numpy as np

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        config = blas.get("openblas configuration", "")
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip() + (f" ({config})" if config else "")
    except (TypeError, KeyError, AttributeError):  # older NumPy without mode="dicts"
        return "unknown"


def _git(*args: str) -> str:
    proc = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=10, check=False)
    return proc.stdout.strip()


def git_commit() -> str:
    """The checkout's commit (short hash and date), flagged when tracked files have uncommitted changes."""
    try:
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return _git("log", "-1", "--format=%h %cs") + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def pin_cpus(threads: int, pin: bool) -> list[int] | None:
    """The CPUs measured processes may be confined to (``threads`` of them at a time), or None.

    JAX (XLA) and TensorFlow size some thread pools from the CPU affinity and ignore thread-count
    settings for them, so confinement is the one setting that holds for every framework alike.
    Before each measurement the runner moves the measured process to the ``threads`` idlest of
    these CPUs (``idlest_cpus``). None when pinning is off or would not restrict anything.
    """
    if not pin or not threads or not hasattr(os, "sched_getaffinity"):  # threads 0: every framework's default
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return None
    return allowed


def _cpu_busy_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, total) jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                v = [int(x) for x in values]
                idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
                out[int(name[3:])] = (sum(v) - idle, sum(v))
    return out


def idlest_cpus(n: int, allowed: list[int], interval: float = 0.05) -> list[int]:
    """The ``n`` CPUs among ``allowed`` that were least busy over the last ``interval`` seconds.

    Other people's jobs come and go on a shared machine; moving the measured process to the
    idlest CPU just before each measurement keeps it from sharing a core it cannot leave.
    """
    try:
        before = _cpu_busy_times()
        time.sleep(interval)
        after = _cpu_busy_times()
    except OSError:
        return allowed[-n:]

    def busy(cpu: int) -> float:
        if cpu not in before or cpu not in after:
            return 1.0
        d_busy = after[cpu][0] - before[cpu][0]
        d_total = after[cpu][1] - before[cpu][1]
        return d_busy / d_total if d_total else 0.0

    return sorted(sorted(allowed, key=busy)[:n])


def repin(pid: int, cpus: list[int]) -> None:
    """Confine every thread of process ``pid`` to ``cpus`` (threads keep their own affinity on Linux)."""
    try:
        tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tids = [pid]
    for tid in tids:
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(tid, cpus)


def describe(threads: int, cpus: list[int] | None) -> dict:
    """Machine facts for the JSON and the report."""
    import numpy as np

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas_info(),
        "threads": threads,
        "pin": bool(cpus),
        "commit": git_commit(),
    }
