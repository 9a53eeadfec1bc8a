"""The command line: ``python -m bench [run|setup|status|scaling|report] ...`` (or ``python bench/run.py``).

Examples:
    python -m bench setup                 # create bench/envs/* with the peers (minutes)
    python -m bench --quick               # smoke test: small data, 2 repetitions
    python -m bench                       # the full run (10–15 minutes on 2 cores)
    python -m bench --peers torch,jax-jit --workloads seed-b128,import
    python -m bench scaling               # seconds per epoch against batch size and width; bench/scaling.png
    python -m bench report                # bench/RESULTS.md from bench/out/latest.json and scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

COMMANDS = ("run", "setup", "status", "scaling", "report")


def _threads_from(argv: list[str]) -> int:
    """The ``--threads`` value, read before NumPy is imported (its BLAS reads the thread count once, at import)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return 1


def build_parser() -> argparse.ArgumentParser:
    from bench.impls import VARIANTS
    from bench.suite import WORKLOADS

    parser = argparse.ArgumentParser(
        prog="python -m bench", description="myelin next to PyTorch, JAX, Keras, scikit-learn and NumPy."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def common(p, reps: int):
        p.add_argument(
            "--reps", type=int, default=None, help=f"repetitions of each measurement (default {reps}; 2 with --quick)"
        )
        p.add_argument(
            "--quick", action="store_true", help="smoke test: small data, 2 repetitions (2–3 minutes with every peer)"
        )
        p.add_argument("--threads", type=int, default=1, help="threads for every framework (default 1; 0: each one's default)")
        p.add_argument(
            "--no-pin", dest="pin", action="store_false", help="do not confine measured processes to --threads CPUs"
        )
        p.add_argument(
            "--json", type=Path, default=None, help="where to write the JSON (default bench/out/<command>-<time>.json)"
        )
        p.add_argument("--report", action="store_true", help="also write the tables into bench/RESULTS.md")

    run = sub.add_parser("run", help="the benchmark (the default command)")
    common(run, 5)
    run.add_argument(
        "--peers", default="all", help=f"comma-separated frameworks besides myelin, or 'all' (from: {', '.join(VARIANTS)})"
    )
    run.add_argument("--workloads", default="all", help=f"comma-separated workloads, or 'all' (from: {', '.join(WORKLOADS)})")
    run.add_argument(
        "--accuracy-seeds", type=int, default=3, help="training runs per framework for the MNIST accuracy (default 3)"
    )

    setup = sub.add_parser("setup", help="create the peers' environments under bench/envs/ (minutes; needs PyPI)")
    setup.add_argument("envs", nargs="*", help="environments to set up (default: all)")

    sub.add_parser("status", help="which peers are set up and import")

    scaling = sub.add_parser("scaling", help="seconds per epoch against batch size and width, myelin next to PyTorch")
    common(scaling, 3)
    scaling.add_argument("--peer", default="torch", help="the framework to draw next to myelin (default torch)")

    report = sub.add_parser("report", help="write bench/RESULTS.md from saved JSON")
    report.add_argument("--run", type=Path, default=None, help="a run's JSON (default bench/out/latest.json)")
    report.add_argument("--scaling", type=Path, default=None, help="the scaling JSON (default bench/out/scaling.json)")
    return parser


def _names(spec: str, allowed: list[str], what: str) -> list[str]:
    if spec == "all":
        return list(allowed)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SystemExit(f"python -m bench: unknown {what} {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return names


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv.insert(0, "run")
    from bench.envs import thread_env

    os.environ.update(thread_env(_threads_from(argv)))  # before NumPy loads its BLAS

    args = build_parser().parse_args(argv)
    if args.command == "setup":
        from bench.envs import ENV_SPECS, setup

        result = setup(args.envs or list(ENV_SPECS))
        return 0 if all(v == "ok" for v in result.values()) else 1
    if args.command == "status":
        return _status()
    if args.command == "report":
        return _report(args)
    if args.command == "scaling":
        return _scaling(args)
    return _run(args)


def _status() -> int:
    from bench.envs import ENV_SPECS, env_status

    for name in ENV_SPECS:
        ok, why = env_status(name)
        print(f"{name:8s} {'ok' if ok else 'missing: ' + why}")
    return 0


def _run(args) -> int:
    from bench import report, suite
    from bench.impls import VARIANTS

    peers = _names(args.peers, [v for v in VARIANTS if v != "myelin"], "framework")
    config = suite.Config(
        reps=args.reps or (2 if args.quick else 5),
        quick=args.quick,
        threads=args.threads,
        pin=args.pin,
        variants=["myelin", *peers],
        workloads=_names(args.workloads, suite.WORKLOADS, "workload"),
        accuracy_seeds=args.accuracy_seeds,
    )
    print(f"myelin benchmark: {config.reps} repetitions, {config.threads} thread(s), frameworks: {', '.join(config.variants)}")
    result = suite.Runner(config).run()
    path = suite.save(result, args.json)
    print("== headline: myelin's speed-up over each peer (peer time / myelin time, median of paired repetitions) ==")
    print(report.render_text(*report.headline_rows(result)))
    print(f"\nJSON: {path}")
    if args.report:
        print(f"written: {report.write_results(run=result)}")
    return 0


def _scaling(args) -> int:
    from bench import report, scaling

    result = scaling.run(
        reps=args.reps or (2 if args.quick else 3),
        quick=args.quick,
        threads=args.threads,
        pin=args.pin,
        peer=args.peer,
        plot_path=args.json.with_suffix(".png") if args.json else scaling.PLOT_PATH,  # bench/scaling.png for the default run
    )
    path = scaling.save(result, args.json)
    print(f"JSON: {path}")
    if result.get("plot"):
        print(f"plot: {result['plot']}")
    if args.report:
        print(f"written: {report.write_results(scaling=result)}")
    return 0


def _report(args) -> int:
    from bench import report
    from bench.suite import OUT_DIR

    run_path = args.run or OUT_DIR / "latest.json"
    scaling_path = args.scaling or OUT_DIR / "scaling.json"
    run = json.loads(run_path.read_text()) if run_path.exists() else None
    scaling = json.loads(scaling_path.read_text()) if scaling_path.exists() else None
    if run is None and scaling is None:
        print(
            f"python -m bench report: no results at {run_path} or {scaling_path}; run python -m bench first", file=sys.stderr
        )
        return 1
    print(f"written: {report.write_results(run=run, scaling=scaling)}")
    return 0


if __name__ == "__main__" and not __package__:  # python bench/run.py: put the repository root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
