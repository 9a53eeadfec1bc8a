"""The peers' virtual environments under ``bench/envs/`` and how to start their interpreters.

Each peer framework lives in its own environment so that the benchmark never adds to myelin's
dependencies and every peer gets the versions it wants. myelin itself and the hand-written
NumPy reference run in the interpreter that runs the suite (the repository's ``.venv``), so
both use the same NumPy and BLAS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
ENVS_DIR = Path(os.environ.get("BENCH_ENVS_DIR") or BENCH_DIR / "envs")  # the variable is for tests


@dataclass(frozen=True)
class EnvSpec:
    """A virtual environment: its folder name, what pip installs there, and the import that proves it works."""

    name: str
    packages: tuple[str, ...]
    probe: str  # Python statement that must run without error in the environment


# torch==2.13.0 is the CPU build on this machine's disk; any other version downloads gigabytes.
ENV_SPECS: dict[str, EnvSpec] = {
    "torch": EnvSpec("torch", ("torch==2.13.0", "numpy"), "import torch, numpy"),
    "jax": EnvSpec("jax", ("jax[cpu]", "optax", "numpy"), "import jax, optax, numpy"),
    "keras": EnvSpec("keras", ("tensorflow-cpu", "keras", "numpy"), "import tensorflow, keras, numpy"),
    "sklearn": EnvSpec("sklearn", ("scikit-learn", "numpy"), "import sklearn.neural_network, numpy"),
    "plot": EnvSpec("plot", ("matplotlib", "numpy"), "import matplotlib, numpy"),
}


def env_python(name: str) -> Path:
    """The interpreter of environment ``name`` (it may not exist yet)."""
    return ENVS_DIR / name / "bin" / "python"


def env_status(name: str) -> tuple[bool, str]:
    """Whether environment ``name`` is set up and its probe import works, and why not."""
    python = env_python(name)
    if not python.exists():
        return False, f"not set up (run: python -m bench setup {name})"
    spec = ENV_SPECS[name]
    proc = subprocess.run(
        [str(python), "-c", spec.probe], capture_output=True, text=True, timeout=300, env=clean_env(), check=False
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"import failed in bench/envs/{name}: {last}"
    return True, "ok"


def clean_env(threads: int | None = None, extra: dict | None = None, repo_on_path: bool = True) -> dict:
    """The environment for a child process: no inherited virtualenv, the repo root on the path, ``threads`` BLAS threads."""
    # PYTHONDONTWRITEBYTECODE (set on some machines) would make every measured process compile the checkout's
    # modules from source again: a user's Python caches their bytecode, so the children do too.
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if repo_on_path:  # myelin and bench are imported from the checkout being measured
        env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONHASHSEED"] = "0"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"  # TensorFlow's start-up chatter goes to stderr otherwise
    env["KERAS_BACKEND"] = "tensorflow"
    env["JAX_PLATFORMS"] = "cpu"
    if threads == 0:  # each framework's own default: no thread setting inherited either
        for key in THREAD_VARIABLES:
            env.pop(key, None)
    elif threads is not None:
        env.update(thread_env(threads))
    env.update(extra or {})
    return env


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "XLA_FLAGS",
)


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that give every BLAS and framework runtime ``threads`` threads (0: none set)."""
    if threads == 0:
        return {}
    n = str(threads)
    env = {
        "OMP_NUM_THREADS": n,
        "OPENBLAS_NUM_THREADS": n,
        "MKL_NUM_THREADS": n,
        "VECLIB_MAXIMUM_THREADS": n,
        "NUMEXPR_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n,
        "TF_NUM_INTEROP_THREADS": "1",
    }
    if threads == 1:
        # XLA's CPU backend (JAX) runs Eigen contractions on a thread pool unless told otherwise.
        env["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    return env


def setup(names: list[str], out=print) -> dict[str, str]:
    """Create (or update) the environments ``names`` and install their packages; returns name -> status."""
    ENVS_DIR.mkdir(parents=True, exist_ok=True)
    result = {}
    for name in names:
        if name not in ENV_SPECS:
            raise ValueError(f"unknown environment {name!r}; choose from {', '.join(ENV_SPECS)}")
        spec = ENV_SPECS[name]
        folder = ENVS_DIR / name
        if not env_python(name).exists():
            out(f"[setup] creating bench/envs/{name}")
            venv.EnvBuilder(with_pip=True, clear=False).create(folder)
        out(f"[setup] pip install {' '.join(spec.packages)} into bench/envs/{name} (this can take minutes)")
        proc = subprocess.run(
            [str(env_python(name)), "-m", "pip", "install", "-q", *spec.packages],
            env=clean_env(repo_on_path=False),  # pip must not see the checkout's myelin.egg-info
            check=False,
        )
        if proc.returncode != 0:
            result[name] = f"pip failed with exit status {proc.returncode}"
            out(f"[setup] {name}: {result[name]}")
            continue
        ok, why = env_status(name)
        result[name] = "ok" if ok else why
        out(f"[setup] {name}: {result[name]}")
    return result


if __name__ == "__main__":
    setup(sys.argv[1:] or list(ENV_SPECS))
