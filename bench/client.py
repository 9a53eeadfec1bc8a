"""The runner's side of the workers: start one process per framework family, send requests, read answers."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from .envs import BENCH_DIR, REPO_ROOT, clean_env, env_python
from .machine import idlest_cpus, repin

LOG_DIR = BENCH_DIR / "out" / "logs"


def python_for(env: str | None) -> Path:
    """The interpreter of a peer environment, or the runner's own for myelin and the NumPy reference."""
    return Path(sys.executable) if env is None else env_python(env)


def pinner(cpus: list[int] | None):
    """A ``preexec_fn`` confining the child to ``cpus`` (None: no confinement)."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def run_process(args: list[str], threads: int, cpus: list[int] | None, timeout: float = 600.0) -> dict:
    """Run a fresh process (from the repository root, in the benchmark's environment); time it start to finish.

    With ``cpus``, the process is confined to the ``threads`` idlest of them from its first instruction.
    """
    chosen = idlest_cpus(threads, cpus) if cpus else None
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            args,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=clean_env(threads),
            timeout=timeout,
            preexec_fn=pinner(chosen),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"did not finish within {timeout:.0f} s"}
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = [ln for ln in proc.stderr.splitlines() if ln.strip()][-1:] or ["no output"]
        return {"ok": False, "error": f"exit status {proc.returncode}: {tail[0]}", "wall": wall}
    return {"ok": True, "wall": wall, "stdout": proc.stdout}


class WorkerError(RuntimeError):
    """A worker could not start, died, timed out, or answered with an error."""


class WorkerClient:
    """One persistent worker process (``python -m bench.worker FAMILY THREADS``) in environment ``env``."""

    def __init__(self, family: str, env: str | None, threads: int, cpus: list[int] | None = None):
        """``cpus``: the CPUs the worker may be confined to, ``threads`` of them at a time (None: no confinement)."""
        self.family, self.env, self.threads, self.cpus = family, env, threads, cpus
        self.proc: subprocess.Popen | None = None
        self.versions: dict = {}
        self.log_path = LOG_DIR / f"{family}.log"

    def start(self, timeout: float = 300.0) -> None:
        """Start the process and read its hello; raises WorkerError with the reason when it cannot run."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process (its framework imports while the runner starts the others)."""
        python = python_for(self.env)
        if not python.exists():
            raise WorkerError(f"not set up (run: python -m bench setup {self.env})")
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [str(python), "-u", "-m", "bench.worker", self.family, str(self.threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=REPO_ROOT,
            env=clean_env(self.threads),
            text=True,
            bufsize=1,
            preexec_fn=pinner(self._choose()),
        )

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Read the hello line; raises WorkerError with the reason when the framework did not import."""
        hello = self._read(timeout)
        if not hello.get("ok"):
            self.close()
            raise WorkerError(hello.get("error", "the worker failed to start"))
        self.versions = hello.get("versions", {})

    def _read(self, timeout: float) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise WorkerError(f"no answer within {timeout:.0f} s (see {self.log_path})")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    status = self.proc.wait()
                    raise WorkerError(f"the worker exited with status {status}: {self.last_log_line()}")
                return json.loads(line)

    def last_log_line(self) -> str:
        try:
            lines = [ln for ln in self.log_path.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "no log"
        return lines[-1] if lines else "no output"

    def _choose(self) -> list[int] | None:
        return idlest_cpus(self.threads, self.cpus) if self.cpus else None

    def request(self, req: dict, timeout: float = 1800.0) -> dict:
        """Send one request and return the answer; raises WorkerError if the worker fails or answers an error.

        With confinement on, the worker is first moved to the idlest CPUs.
        """
        if self.proc is None or self.proc.poll() is not None:
            raise WorkerError("the worker is not running")
        if self.cpus:
            repin(self.proc.pid, self._choose())
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError as err:
            raise WorkerError(f"the worker exited: {self.last_log_line()}") from err
        resp = self._read(timeout)
        if not resp.get("ok"):
            raise WorkerError(resp.get("error", "unknown error"))
        return resp

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
