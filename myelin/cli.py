"""Level 6: the ``myelin`` command line.

Example:
    $ myelin demo          # the seed texts' penguin classifier, end to end
    $ python -m myelin demo
"""

from __future__ import annotations

import argparse
import sys

from . import __version__


def _demo(args: argparse.Namespace) -> int:
    from . import demo  # noqa: PLC0415

    result = demo.run(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, verbose=args.verbose)
    return 0 if result["test_accuracy"] >= 0 else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand.

    Example:
        >>> build_parser().parse_args(["demo", "--epochs", "5"]).epochs
        5
    """
    parser = argparse.ArgumentParser(prog="myelin", description="myelin: deep learning with Keras's API, readable and fast.")
    parser.add_argument("--version", action="version", version=f"myelin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo",
        help="train the seed texts' penguin classifier and explain one prediction",
        description="Train a 4-16-16-3 network on the Palmer penguins, report test accuracy, and walk "
        "the seed texts' example x = [37.3, 16.8, 19.2, 30.0] through it layer by layer.",
    )
    demo.add_argument("--epochs", type=int, default=60, help="training epochs (default: 60)")
    demo.add_argument("--batch-size", type=int, default=16, help="samples per gradient step (default: 16)")
    demo.add_argument("--seed", type=int, default=0, help="random seed for the split and the weights (default: 0)")
    demo.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="progress display: 0 silent, 1 bar per epoch (one line when not a terminal), 2 one line",
    )
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Example:
        >>> main(["--version"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, ModuleNotFoundError) as err:
        print(f"myelin {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
