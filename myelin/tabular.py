"""Level 6: networks for tables (what ``myelin train / evaluate / predict`` run).

A CSV (or Parquet) file becomes a :class:`TabularModel`: a functional model whose inputs
are the table's raw columns, one input per column, named after it. Numeric columns are
concatenated and standardised by a ``Normalization`` layer; each categorical column goes
through a ``StringLookup`` that one-hot encodes it; the joined features feed Dense ``relu``
layers and a head chosen from the target: softmax over the classes, one sigmoid unit for
two classes, or a linear unit (in the target's units) for a number. The model is ordinary:
it can be saved whole, exported to ONNX, or used from Python with a DataFrame.

Column types are inferred: a column whose values are all numbers (or missing) is numeric,
any other is categorical; ``categorical=[...]`` overrides. A missing numeric value takes
the column's training mean (the mean the model's Normalization learned, so predictions on
new files fill gaps the same way); a missing category is its own category ("").

Example:
    >>> from myelin import tabular
    >>> result = tabular.train("penguins.csv", target="species", epochs=50)  # doctest: +SKIP
    >>> result.model.classes  # doctest: +SKIP
    ['Adelie', 'Chinstrap', 'Gentoo']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import callbacks, layers
from .layers.base import REGISTRY
from .models import Model

NUMERIC, CATEGORICAL = "numeric", "categorical"
MAX_CLASSES_FOR_INTEGERS = 10  # an integer target with at most this many values is taken as classes


class DataError(ValueError):
    """A problem with the data file: the message names the file, the column and the row (line).

    Example:
        >>> raise DataError("data.csv, line 5 (row 4), column 'mass': 'heavy' is not a number")
        Traceback (most recent call last):
        myelin.tabular.DataError: data.csv, line 5 (row 4), column 'mass': 'heavy' is not a number
    """


def _pandas():
    try:
        import pandas as pd  # noqa: PLC0415  (optional extra, for tables only)
    except ModuleNotFoundError:
        raise ModuleNotFoundError("reading tables needs pandas: pip install 'myelin[data]'") from None
    return pd


# ---------------------------------------------------------------------------- reading
def read_table(path) -> object:
    """A DataFrame from a .csv, .tsv or .parquet file, with clear errors for empty or unreadable files.

    Values are read as text where pandas is unsure, so that a typing mistake is reported
    with its row instead of silently turning a column into text.

    Example:
        >>> frame = read_table("penguins.csv")  # doctest: +SKIP
    """
    pd = _pandas()
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty: expected a header line naming the columns, then one line per sample")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", skipinitialspace=True)
    except ImportError as err:
        raise ModuleNotFoundError(f"reading {path.name} needs a Parquet engine: pip install pyarrow ({err})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty: expected a header line naming the columns, then one line per sample") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path} could not be read as a table: {err}") from None
    if frame.empty:
        raise DataError(f"{path} has a header ({', '.join(map(str, frame.columns))}) but no rows of data")
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise DataError(f"{path}: column name(s) {duplicated} appear more than once in the header")
    frame.attrs["source"] = path.name
    frame.attrs["header_lines"] = 0 if suffix in (".parquet", ".pq") else 1
    return frame


def _where(frame, position: int) -> str:
    """'data.csv, line 18 (row 17)' for the row at ``position`` (rows counted from 1, after the header)."""
    source = frame.attrs.get("source", "data")
    header = frame.attrs.get("header_lines", 1)
    if "rows" in frame.attrs:  # a subset of the file's rows: report the row's place in the file
        position = int(frame.attrs["rows"][position])
    if header:
        return f"{source}, line {position + 1 + header} (row {position + 1})"
    return f"{source}, row {position + 1}"


def _missing(values) -> np.ndarray:
    pd = _pandas()
    return np.asarray(pd.isna(values))


def numeric_column(frame, name: str) -> np.ndarray:
    """Column ``name`` as float64 (NaN where missing); a DataError naming the row of the first non-number.

    Example:
        >>> numeric_column(frame, "body_mass_g")  # doctest: +SKIP
    """
    pd = _pandas()
    column = frame[name]
    if column.dtype.kind in "biuf":
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    parsed = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy() & ~_missing(column))
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{_where(frame, i)}, column {name!r}: {column.iloc[i]!r} is not a number, and the column is numeric "
            f"({len(bad)} such value{'s' if len(bad) > 1 else ''} in the file)"
        )
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def categorical_column(frame, name: str) -> np.ndarray:
    """Column ``name`` as strings (one per row, shape (n, 1)); missing values become ""."""
    column = frame[name]
    values = column.astype(object).where(~column.isna(), "").to_numpy()
    return np.array([_token(v) for v in values], dtype=object).reshape(-1, 1)


def _token(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 3.0 from a column of codes with gaps reads as "3"
    return str(value).strip()


# ---------------------------------------------------------------------------- inference
@dataclass
class Plan:
    """What was inferred from a table: the feature columns by kind and the task."""

    target: str
    numeric: list[str]
    categorical: list[str]
    task: str  # "multiclass", "binary" or "regression"
    classes: list[str] = field(default_factory=list)


def infer(frame, target: str, categorical=(), ignore=(), task: str = "auto") -> Plan:
    """Decide each column's kind and the task from the data.

    A column is numeric when every non-missing value is a number. One that is mostly
    numbers (at least 90%) with a few that are not is taken as a typing mistake and
    reported with its row; pass it in ``categorical`` if it really is a category. The
    target is a class label when it holds text, booleans, or integers with at most 10
    distinct values; otherwise a number to regress (``task`` overrides).

    Example:
        >>> plan = infer(read_table("penguins.csv"), target="species")  # doctest: +SKIP
        >>> plan.task, plan.categorical  # doctest: +SKIP
        ('multiclass', ['island', 'sex'])
    """
    pd = _pandas()
    columns = list(frame.columns)
    source = frame.attrs.get("source", "data")
    for name, what in [(target, "--target")] + [(c, "--categorical") for c in categorical] + [(c, "--ignore") for c in ignore]:
        if name not in columns:
            raise DataError(f"{source} has no column {name!r} (given by {what}); its columns are: {', '.join(columns)}")
    if task not in ("auto", "classification", "regression"):
        raise ValueError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    numeric, cats = [], []
    for name in columns:
        if name == target or name in ignore:
            continue
        column = frame[name]
        if name in categorical:
            cats.append(name)
        elif column.dtype.kind in "biuf":
            numeric.append(name)
        else:
            present = ~_missing(column)
            parsed = pd.to_numeric(column, errors="coerce").notna().to_numpy()
            share = parsed[present].mean() if present.any() else 0.0
            if present.any() and share == 1.0:
                numeric.append(name)
            elif share >= 0.9:
                numeric_column(frame, name)  # raises with the row of the first value that is not a number
            else:
                cats.append(name)
    if not numeric and not cats:
        raise DataError(f"{source}: no feature columns are left besides the target {target!r}")
    y = frame[target]
    y = y[~_missing(y)]
    if y.empty:
        raise DataError(f"{source}: the target column {target!r} has no values")
    kind = task
    if task == "auto":
        if y.dtype.kind in "biuf" and y.dtype.kind != "b":
            integral = y.dtype.kind in "iu" or bool(np.all(np.mod(y.to_numpy(dtype=float), 1) == 0))
            kind = "classification" if integral and y.nunique() <= MAX_CLASSES_FOR_INTEGERS else "regression"
        else:
            kind = "classification"
    if kind == "regression":
        numeric_column(with_target(frame, target), target)
        return Plan(target, numeric, cats, "regression")
    classes = sorted({_token(v) for v in y.tolist()}, key=_natural)
    if len(classes) < 2:
        raise DataError(f"{source}: the target {target!r} has a single class ({classes[0]!r}); there is nothing to learn")
    return Plan(target, numeric, cats, "binary" if len(classes) == 2 else "multiclass", classes)


def _natural(token: str):
    """Numbers in numeric order, then text in alphabetical order."""
    try:
        return (0, float(token), "")
    except ValueError:
        return (1, 0.0, token)


# ---------------------------------------------------------------------------- the model
@REGISTRY.register("TabularModel")
class TabularModel(Model):
    """A functional ``Model`` over a table's raw columns that also knows its target.

    ``target`` (the column it predicts), ``task`` ("multiclass", "binary" or
    "regression"), ``classes`` (class labels in output order) and the feature columns
    ``numeric`` and ``categorical`` are kept in ``get_config()``, so they are saved with
    the model. :meth:`inputs_from` turns a DataFrame into the model's inputs.

    Example:
        >>> model = build_model(plan, frame)  # doctest: +SKIP
        >>> model.predict(model.inputs_from(frame))  # doctest: +SKIP
    """

    def __init__(
        self,
        inputs=None,
        outputs=None,
        target: str = "",
        task: str = "regression",
        classes=(),
        numeric=(),
        categorical=(),
        **kwargs,
    ):
        super().__init__(inputs, outputs, **kwargs)
        self.target, self.task = target, task
        self.classes, self.numeric, self.categorical = list(classes), list(numeric), list(categorical)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "target": self.target,
            "task": self.task,
            "classes": list(self.classes),
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        extra = {k: config.pop(k) for k in ("target", "task", "classes", "numeric", "categorical") if k in config}
        model = super().from_config(config)
        model.target, model.task = extra.get("target", ""), extra.get("task", "regression")
        model.classes = list(extra.get("classes", ()))
        model.numeric, model.categorical = list(extra.get("numeric", ())), list(extra.get("categorical", ()))
        return model

    def _fill_values(self) -> np.ndarray:
        """The training means of the numeric columns (the Normalization's mean), used for missing values."""
        if not self.numeric:
            return np.zeros(0)
        return np.asarray(self.get_layer("numeric_normalization").mean.numpy(), dtype=np.float64).reshape(-1)

    def inputs_from(self, frame) -> dict:
        """The model's inputs from a DataFrame: each column by name, checked and converted.

        A missing column, or a value that is not a number in a numeric column, raises a
        DataError naming the column (and the row).
        """
        source = frame.attrs.get("source", "the data")
        needed = self.numeric + self.categorical
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise DataError(
                f"{source} has no column{'s' if len(absent) > 1 else ''} {', '.join(repr(c) for c in absent)}, which the "
                f"model needs; it needs: {', '.join(needed)}"
            )
        means = self._fill_values()
        out = {}
        for i, name in enumerate(self.numeric):
            values = numeric_column(frame, name)
            values = np.where(np.isnan(values), means[i], values)
            out[name] = values.astype(np.float32).reshape(-1, 1)
        for name in self.categorical:
            out[name] = categorical_column(frame, name)
        return out

    def targets_from(self, frame) -> np.ndarray:
        """The target column as the model's training targets (class indices, 0/1, or numbers)."""
        source = frame.attrs.get("source", "the data")
        if self.target not in frame.columns:
            raise DataError(f"{source} has no column {self.target!r} (the target the model predicts)")
        y = frame[self.target]
        missing = np.flatnonzero(_missing(y))
        if len(missing):
            raise DataError(f"{_where(frame, int(missing[0]))}, column {self.target!r}: the target is missing")
        if self.task == "regression":
            return numeric_column(frame, self.target).astype(np.float32).reshape(-1, 1)
        index = {c: i for i, c in enumerate(self.classes)}
        codes = np.empty(len(y), dtype=np.int64)
        for row, value in enumerate(y.tolist()):
            token = _token(value)
            if token not in index:
                raise DataError(
                    f"{_where(frame, row)}, column {self.target!r}: class {token!r} was not in the training data "
                    f"(classes: {', '.join(self.classes)})"
                )
            codes[row] = index[token]
        return codes.astype(np.float32).reshape(-1, 1) if self.task == "binary" else codes

    def probabilities(self, frame) -> np.ndarray:
        """(rows, classes) probabilities for a classifier; (rows, 1) predictions for a regressor."""
        out = self.predict(self.inputs_from(frame), verbose=0)
        if self.task == "binary":
            return np.column_stack([1 - out[:, 0], out[:, 0]])
        return out


def build_model(plan: Plan, frame, hidden=(64, 64), dropout: float = 0.0, learning_rate: float = 1e-3) -> TabularModel:
    """A compiled :class:`TabularModel` for ``plan``, with preprocessing adapted on ``frame`` (training rows).

    Example:
        >>> model = build_model(infer(frame, "species"), frame, hidden=(32,))  # doctest: +SKIP
    """
    from . import Input, optimizers  # noqa: PLC0415

    inputs, features = [], []
    if plan.numeric:
        numeric_inputs = [Input(shape=(1,), name=name) for name in plan.numeric]
        inputs += numeric_inputs
        values = np.column_stack([numeric_column(frame, c) for c in plan.numeric])
        means = np.nanmean(values, axis=0)
        means[np.isnan(means)] = 0.0  # a column with no values at all
        values = np.where(np.isnan(values), means, values)
        norm = layers.Normalization(name="numeric_normalization")
        norm.adapt(values)
        joined = numeric_inputs[0] if len(numeric_inputs) == 1 else layers.Concatenate(name="numeric_features")(numeric_inputs)
        features.append(norm(joined))
    for name in plan.categorical:
        inp = Input(shape=(1,), name=name, dtype="string")
        inputs.append(inp)
        lookup = layers.StringLookup(output_mode="one_hot", name=f"{name}_lookup")
        lookup.adapt(categorical_column(frame, name))
        features.append(lookup(inp))
    x = features[0] if len(features) == 1 else layers.Concatenate(name="features")(features)
    for i, units in enumerate(hidden, start=1):
        x = layers.Dense(int(units), activation="relu", name=f"hidden_{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout_{i}")(x)
    if plan.task == "multiclass":
        out = layers.Dense(len(plan.classes), activation="softmax", name=_fresh(plan.target, inputs))(x)
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    elif plan.task == "binary":
        out = layers.Dense(1, activation="sigmoid", name=_fresh(plan.target, inputs))(x)
        loss, metrics = "binary_crossentropy", ["accuracy"]
    else:
        y = numeric_column(frame, plan.target)
        scaled = layers.Dense(1, name="standardized_prediction")(x)
        # the head works in standard units; this layer returns the prediction in the target's own units
        out = layers.Normalization(
            axis=None, mean=float(y.mean()), variance=float(y.var()), invert=True, name=_fresh(plan.target, inputs)
        )(scaled)
        loss, metrics = "mse", ["mae"]
    model = TabularModel(
        inputs, out, target=plan.target, task=plan.task, classes=plan.classes, numeric=plan.numeric,
        categorical=plan.categorical, name="tabular",
    )  # fmt: skip
    model.compile(optimizer=optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    return model


def _fresh(name: str, inputs) -> str:
    taken = {t.layer.name for t in inputs}
    return name if name not in taken else f"{name}_output"


# ---------------------------------------------------------------------------- reports
def classification_report(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Accuracy and, per class, precision, recall and support (the number of true samples).

    Example:
        >>> r = classification_report(np.array([0, 0, 1]), np.array([0, 1, 1]), ["a", "b"])
        >>> r["accuracy"], r["per_class"]["b"]
        (0.6666666666666666, {'precision': 0.5, 'recall': 1.0, 'support': 1})
    """
    per_class = {}
    for i, name in enumerate(classes):
        tp = int(np.sum((y_pred == i) & (y_true == i)))
        predicted, actual = int(np.sum(y_pred == i)), int(np.sum(y_true == i))
        per_class[name] = {
            "precision": tp / predicted if predicted else 0.0,
            "recall": tp / actual if actual else 0.0,
            "support": actual,
        }
    return {"accuracy": float(np.mean(y_true == y_pred)), "per_class": per_class, "samples": len(y_true)}


def regression_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """MAE, RMSE and R² (1 - residual sum of squares / total sum of squares).

    Example:
        >>> regression_report(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))["mae"]
        0.3333333333333333
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.float64).ravel(), np.asarray(y_pred, dtype=np.float64).ravel()
    err = y_pred - y_true
    total = np.sum((y_true - y_true.mean()) ** 2)
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": float(1 - np.sum(err**2) / total) if total > 0 else float("nan"),
        "samples": len(y_true),
    }


def report(model: TabularModel, frame) -> dict:
    """The report of ``model`` on the rows of ``frame`` that have a target value."""
    if model.target not in frame.columns:
        source = frame.attrs.get("source", "the data")
        raise DataError(f"{source} has no column {model.target!r} (the target the model predicts)")
    frame = with_target(frame, model.target)
    y = model.targets_from(frame)
    out = model.probabilities(frame)
    if model.task == "regression":
        return regression_report(y, out)
    return classification_report(np.asarray(y).ravel().astype(np.int64), out.argmax(axis=1), model.classes)


def format_report(result: dict, title: str) -> str:
    """The report as aligned text lines.

    Example:
        >>> print(format_report({"mae": 1.0, "rmse": 2.0, "r2": 0.5, "samples": 3}, "test"))
        test (3 rows)
          MAE   1.0000
          RMSE  2.0000
          R²    0.5000
    """
    lines = [f"{title} ({result['samples']} rows)"]
    if "accuracy" in result:
        lines.append(f"  accuracy  {result['accuracy']:.4f}")
        width = max(8, *(len(c) for c in result["per_class"]))
        lines.append(f"  {'class':<{width}}  precision  recall  support")
        for name, r in result["per_class"].items():
            lines.append(f"  {name:<{width}}  {r['precision']:>9.4f}  {r['recall']:>6.4f}  {r['support']:>7d}")
    else:
        lines += [f"  MAE   {result['mae']:.4f}", f"  RMSE  {result['rmse']:.4f}", f"  R²    {result['r2']:.4f}"]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """What :func:`train` returns: the model, its history, the plan and the held-out report."""

    model: TabularModel
    history: object
    plan: Plan
    report: dict
    rows: dict


def train(
    path,
    target: str,
    hidden=(64, 64),
    epochs: int = 50,
    batch_size: int = 32,
    validation_split: float = 0.2,
    test_split: float = 0.2,
    patience: int = 10,
    learning_rate: float = 1e-3,
    dropout: float = 0.0,
    categorical=(),
    ignore=(),
    task: str = "auto",
    seed: int = 0,
    verbose: int = 1,
    out=print,
) -> TrainResult:
    """Read a table, build a model for it and train it; returns a :class:`TrainResult`.

    Rows are shuffled with ``seed``; ``test_split`` of them are held out for the final
    report, and ``validation_split`` of the rest watch the training: early stopping after
    ``patience`` epochs without a better validation loss, keeping the best weights.

    Example:
        >>> result = train("penguins.csv", "species", epochs=30, verbose=0, out=lambda s: None)  # doctest: +SKIP
    """
    from . import utils  # noqa: PLC0415

    for name, value in (("validation_split", validation_split), ("test_split", test_split)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    if not hidden or any(int(u) <= 0 for u in hidden):
        raise ValueError(f"layers must be positive sizes like 64,64; got {hidden!r}")
    frame = read_table(path)
    plan = infer(frame, target, categorical, ignore, task)
    out(_describe(plan, frame))
    labelled = with_target(frame, target)
    if len(labelled) < len(frame):
        out(f"  left out {len(frame) - len(labelled)} rows whose {target!r} is missing")
    frame = labelled
    n = len(frame)
    order = np.random.default_rng(seed).permutation(n)
    n_test = round(n * test_split)
    n_val = round((n - n_test) * validation_split)
    if n - n_test - n_val < 1:
        raise DataError(f"{frame.attrs.get('source')}: {n} rows are too few to hold out test and validation rows")
    test_rows, val_rows, train_rows = order[:n_test], order[n_test : n_test + n_val], order[n_test + n_val :]
    train_frame = _rows(frame, np.sort(train_rows))
    utils.set_random_seed(seed)
    model = build_model(plan, train_frame, hidden, dropout, learning_rate)
    x_train, y_train = model.inputs_from(train_frame), model.targets_from(train_frame)
    fit_args = {}
    if n_val:
        val_frame = _rows(frame, np.sort(val_rows))
        fit_args["validation_data"] = (model.inputs_from(val_frame), model.targets_from(val_frame))
    stop = callbacks.EarlyStopping(monitor="val_loss" if n_val else "loss", patience=patience, restore_best_weights=True)
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, callbacks=[stop], verbose=verbose, **fit_args)
    if stop.stopped_epoch:
        out(f"Early stopping after epoch {stop.stopped_epoch + 1}: best {stop.monitor} at epoch {stop.best_epoch + 1}")
    held_out = _rows(frame, np.sort(test_rows)) if n_test else _rows(frame, np.sort(val_rows))
    result = report(model, held_out) if len(held_out) else {}
    if result:
        out(format_report(result, "Held-out test set" if n_test else "Validation set"))
    return TrainResult(model, history, plan, result, {"train": len(train_rows), "validation": n_val, "test": n_test})


def with_target(frame, target: str):
    """The rows of ``frame`` whose ``target`` value is present (rows without one cannot train or be scored).

    Example:
        >>> with_target(frame, "body_mass_g")  # doctest: +SKIP
    """
    keep = np.flatnonzero(~_missing(frame[target]))
    return frame if len(keep) == len(frame) else _rows(frame, keep)


def _rows(frame, index: np.ndarray):
    part = frame.iloc[index].reset_index(drop=True)
    part.attrs = dict(frame.attrs)
    part.attrs["rows"] = frame.attrs["rows"][index] if "rows" in frame.attrs else index  # file positions, for errors
    return part


def _describe(plan: Plan, frame) -> str:
    lines = [f"{frame.attrs.get('source', 'data')}: {len(frame)} rows, target {plan.target!r} ({plan.task})"]
    if plan.classes:
        shown = ", ".join(plan.classes[:12]) + (", ..." if len(plan.classes) > 12 else "")
        lines.append(f"  classes: {shown}")
    lines.append(f"  numeric columns ({len(plan.numeric)}): {', '.join(plan.numeric) or '-'}")
    lines.append(f"  categorical columns ({len(plan.categorical)}): {', '.join(plan.categorical) or '-'}")
    return "\n".join(lines)


def predictions_frame(model: TabularModel, frame):
    """A DataFrame of predictions: the predicted label and, for a classifier, one probability column per class.

    Example:
        >>> predictions_frame(model, read_table("new.csv")).columns.tolist()  # doctest: +SKIP
        ['predicted_species', 'probability_Adelie', 'probability_Chinstrap', 'probability_Gentoo']
    """
    pd = _pandas()
    out = model.probabilities(frame)
    if model.task == "regression":
        return pd.DataFrame({f"predicted_{model.target}": out[:, 0]})
    columns = {f"predicted_{model.target}": np.asarray(model.classes, dtype=object)[out.argmax(axis=1)]}
    for i, name in enumerate(model.classes):
        columns[f"probability_{name}"] = out[:, i]
    return pd.DataFrame(columns)


__all__ = [
    "DataError",
    "Plan",
    "TabularModel",
    "TrainResult",
    "build_model",
    "classification_report",
    "format_report",
    "infer",
    "predictions_frame",
    "read_table",
    "regression_report",
    "report",
    "train",
]
