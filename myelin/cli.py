"""Level 6: the ``myelin`` command line.

Example:
    $ myelin demo          # the seed texts' penguin classifier, end to end
    $ python -m myelin demo
    $ myelin train penguins.csv --target species --out penguins.myelin
    $ myelin predict penguins.myelin new.csv -o predictions.csv
"""

from __future__ import annotations

import argparse
import sys

from . import __version__


def _demo(args: argparse.Namespace) -> int:
    from . import demo  # noqa: PLC0415

    result = demo.run(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, verbose=args.verbose)
    return 0 if result["test_accuracy"] >= 0 else 1


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 64,64, got {text!r}") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise argparse.ArgumentTypeError(f"expected positive layer sizes like 64,64, got {text!r}")
    return sizes


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction like 0.2, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _train(args: argparse.Namespace) -> int:
    import importlib.util  # noqa: PLC0415

    from . import tabular  # noqa: PLC0415

    if args.out and importlib.util.find_spec("safetensors") is None:  # say so before training, not after
        raise ModuleNotFoundError("--out saves a model file, which needs safetensors: pip install 'myelin[saving]'")

    result = tabular.train(
        args.data,
        args.target,
        hidden=args.layers,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation_split=args.validation_split,
        test_split=args.test_split,
        patience=args.patience,
        learning_rate=args.learning_rate,
        dropout=args.dropout,
        categorical=args.categorical,
        ignore=args.ignore,
        task=args.task,
        seed=args.seed,
        verbose=args.verbose,
    )
    if args.out:
        result.model.save(args.out)
        print(f"Saved the model to {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from . import tabular  # noqa: PLC0415

    model = _load(args.model)
    frame = tabular.read_table(args.data)
    print(tabular.format_report(tabular.report(model, frame), f"{args.data}"))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from . import tabular  # noqa: PLC0415

    model = _load(args.model)
    predictions = tabular.predictions_frame(model, tabular.read_table(args.data))
    if args.output:
        predictions.to_csv(args.output, index=False)
        print(f"Wrote {len(predictions)} predictions to {args.output}")
    else:
        predictions.to_csv(sys.stdout, index=False)
    return 0


def _summary(args: argparse.Namespace) -> int:
    model = _load(args.model, tabular_only=False)
    model.summary()
    target = getattr(model, "target", None)
    if target:
        print(f"Target: {target!r} ({model.task})" + (f"; classes: {', '.join(model.classes)}" if model.classes else ""))
        print(f"Numeric columns: {', '.join(model.numeric) or '-'}")
        print(f"Categorical columns: {', '.join(model.categorical) or '-'}")
    return 0


def _load(path, tabular_only: bool = True):
    from . import tabular  # noqa: PLC0415
    from .models import load_model  # noqa: PLC0415

    model = load_model(path)
    if tabular_only and not isinstance(model, tabular.TabularModel):
        raise ValueError(
            f"{path} holds a {type(model).__name__}, not a model made by 'myelin train': evaluate and predict read "
            "tables for models that know their columns; use the Python API for other models"
        )
    return model


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

    train = sub.add_parser(
        "train",
        help="train a network on a CSV or Parquet table",
        description="Read a table, infer which columns are numeric and which categorical, build a model that takes "
        "the raw columns (Normalization for numbers, one-hot StringLookup for categories, Dense relu layers, and a "
        "softmax, sigmoid or linear head from the target's type), train it with early stopping on a validation "
        "split, and report on held-out rows: accuracy with per-class precision and recall, or MAE, RMSE and R².",
        epilog="example: myelin train penguins.csv --target species --layers 32,32 --out penguins.myelin",
    )
    train.add_argument("data", help="the table: .csv, .tsv or .parquet, with a header line naming the columns")
    train.add_argument("--target", required=True, metavar="COLUMN", help="the column to predict")
    train.add_argument(
        "--layers", type=_sizes, default=(64, 64), metavar="SIZES", help="hidden layer sizes, comma-separated (default: 64,64)"
    )
    train.add_argument(
        "--epochs", type=_positive, default=50, metavar="N", help="most passes over the training rows (default: 50)"
    )
    train.add_argument("--batch-size", type=_positive, default=32, metavar="N", help="rows per gradient step (default: 32)")
    train.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.2,
        metavar="FRACTION",
        help="fraction of the training rows that watch for early stopping (default: 0.2; 0 stops on the training loss)",
    )
    train.add_argument(
        "--test-split",
        type=_fraction,
        default=0.2,
        metavar="FRACTION",
        help="fraction of all rows held out for the final report (default: 0.2)",
    )
    train.add_argument(
        "--patience",
        type=_positive,
        default=10,
        metavar="N",
        help="epochs without a better validation loss before stopping (default: 10)",
    )
    train.add_argument(
        "--learning-rate", type=float, default=1e-3, metavar="RATE", help="Adam's learning rate (default: 0.001)"
    )
    train.add_argument(
        "--dropout", type=_fraction, default=0.0, metavar="FRACTION", help="dropout after each hidden layer (default: 0)"
    )
    train.add_argument(
        "--categorical", type=_names, default=(), metavar="COLS", help="comma-separated columns to treat as categories"
    )
    train.add_argument("--ignore", type=_names, default=(), metavar="COLS", help="comma-separated columns to leave out (ids)")
    train.add_argument(
        "--task",
        choices=("auto", "classification", "regression"),
        default="auto",
        help="what the target is: auto (text, or integers with at most 10 values, are classes), classification or regression",
    )
    train.add_argument(
        "--seed", type=int, default=0, metavar="N", help="random seed for the splits and the weights (default: 0)"
    )
    train.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1, help="progress display: 0 silent, 1 a bar per epoch, 2 one line"
    )
    train.add_argument("--out", "-o", metavar="MODEL", help="save the trained model here (e.g. model.myelin)")
    train.set_defaults(func=_train)

    evaluate = sub.add_parser(
        "evaluate",
        help="report a trained model's accuracy (or errors) on a table",
        description="Load a model saved by 'myelin train' and report on a table that has its target column: accuracy "
        "with per-class precision and recall for a classifier, MAE, RMSE and R² for a regressor.",
    )
    evaluate.add_argument("model", help="a model file saved by 'myelin train --out'")
    evaluate.add_argument("data", help="a .csv, .tsv or .parquet table with the model's columns and its target")
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser(
        "predict",
        help="predict the target for each row of a table",
        description="Load a model saved by 'myelin train' and predict each row of a table: the predicted value or "
        "class, and for a classifier the probability of every class, one column each (probability_<class>).",
    )
    predict.add_argument("model", help="a model file saved by 'myelin train --out'")
    predict.add_argument("data", help="a .csv, .tsv or .parquet table with the model's feature columns")
    predict.add_argument("-o", "--output", metavar="CSV", help="write the predictions to this CSV file (default: print them)")
    predict.set_defaults(func=_predict)

    summary = sub.add_parser(
        "summary",
        help="show a saved model's layers, and the columns and classes it was trained on",
        description="Print a saved model's summary table (layers, output shapes, parameters) and, for a model made by "
        "'myelin train', its target, classes and input columns.",
    )
    summary.add_argument("model", help="a model file (.myelin)")
    summary.set_defaults(func=_summary)
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
