"""Ecosystem figures (issue 5): ONNX agreement and speed, scikit-learn checks and cross-validated accuracy.

Run from the repository root with the test dependencies installed::

    python bench/ecosystem_bench.py            # print the tables
    python bench/ecosystem_bench.py --write    # also replace the "## Ecosystem (issue 5)" section of bench/RESULTS.md

What it measures:
- ONNX: for each exported model, the largest absolute and relative difference between
  onnxruntime's outputs and ``model.predict`` on 1,024 random rows; then the time of one
  call at batch 1 and at batch 1,024, onnxruntime next to ``model.predict`` (median of
  repeated calls after a warm-up, both in this process with the same threads).
- scikit-learn: how many of ``check_estimator``'s checks pass for SKLearnClassifier and
  SKLearnRegressor; 5-fold stratified cross-validated accuracy and fit time on the
  penguins (4 measurements) and on sklearn's digits, next to ``MLPClassifier`` with the
  same layers, optimizer, batch size and number of epochs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import myelin  # noqa: E402
from myelin import layers  # noqa: E402
from myelin.demo import build_model as penguin_mlp  # noqa: E402  (the demo's 4-16-16-3 network)

SECTION = "## Ecosystem (issue 5)"


def median_time(fn, repeats: int, min_seconds: float = 0.3) -> float:
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 50 * repeats:
            break
    return statistics.median(times)


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


# ---------------------------------------------------------------------------- models
def mnist_mlp():
    return myelin.Sequential(
        [
            myelin.Input(shape=(784,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_784_64_64_10",
    )


def every_activation():
    names = ["elu", "selu", "gelu", "sigmoid", "hard_sigmoid", "tanh", "softplus", "swish", "leaky_relu", "relu", "linear"]
    stack = [myelin.Input(shape=(32,))] + [layers.Dense(32, activation=n) for n in names]
    stack += [layers.Dense(10), layers.Activation("log_softmax")]
    return myelin.Sequential(stack, name="every_activation")


def raw_penguins():
    """The model `myelin train` builds on the raw penguins table (numbers and strings in)."""
    from myelin import tabular
    from myelin.demo import penguins_csv

    frame = tabular.read_table(penguins_csv())
    plan = tabular.infer(frame, "species")
    model = tabular.build_model(plan, tabular.with_target(frame, "species"), hidden=(64, 64))
    return model, frame


def random_feeds(model, n: int, rng, frame=None) -> tuple[dict, object]:
    """Inputs for onnxruntime (a dict by name) and the same for predict."""
    if frame is not None:
        rows = frame.iloc[rng.integers(0, len(frame), n)].reset_index(drop=True)
        x = model.inputs_from(rows)
        return {k: (v.astype(object) if v.dtype == object else v) for k, v in x.items()}, x
    shape = model.input_shape
    x = rng.standard_normal((n,) + tuple(shape[1:])).astype("float32")
    return {"input_layer": x}, x


def onnx_rows(rng) -> list[dict]:
    import onnxruntime as ort

    rows = []
    cases = [(penguin_mlp(), None), (mnist_mlp(), None), (every_activation(), None), raw_penguins()]
    with tempfile.TemporaryDirectory() as folder:
        for model, frame in cases:
            path = os.path.join(folder, f"{model.name}.onnx")
            model.export(path)
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            names = [i.name for i in session.get_inputs()]
            feeds, x = random_feeds(model, 1024, rng, frame)
            if frame is None:
                feeds = {names[0]: feeds["input_layer"]}
            got = session.run(None, feeds)[0]
            want = model.predict(x, verbose=0, batch_size=1024)
            diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
            rel = diff / np.maximum(np.abs(want.astype(np.float64)), 1e-6)
            row = {
                "model": "raw penguins table (tabular)" if frame is not None else model.name,
                "params": model.count_params(),
                "max_abs": float(diff.max()),
                "max_rel": float(rel.max()),
            }
            for batch in (1, 1024):
                f_small = {k: v[:batch] for k, v in feeds.items()}
                x_small = {k: v[:batch] for k, v in x.items()} if isinstance(x, dict) else x[:batch]
                repeats = 200 if batch == 1 else 20
                row[f"ort_{batch}"] = median_time(lambda f=f_small, s=session: s.run(None, f), repeats)
                row[f"predict_{batch}"] = median_time(
                    lambda xs=x_small, b=batch, m=model: m.predict(xs, verbose=0, batch_size=b), repeats
                )
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------- scikit-learn
def build_classifier(X, y, hidden=(64, 64)):
    stack = [myelin.Input(shape=(X.shape[1],))] + [layers.Dense(h, activation="relu") for h in hidden]
    model = myelin.Sequential(stack + [layers.Dense(y.shape[1], activation="softmax")])
    model.compile(optimizer=myelin.optimizers.Adam(1e-3), loss="categorical_crossentropy")
    return model


def build_regressor(X, y, hidden=(16,)):
    stack = [myelin.Input(shape=(X.shape[1],))] + [layers.Dense(h, activation="relu") for h in hidden]
    model = myelin.Sequential(stack + [layers.Dense(y.shape[1])])
    model.compile(optimizer=myelin.optimizers.Adam(1e-2), loss="mse")
    return model


def estimator_check_rows() -> list[dict]:
    from sklearn.utils.estimator_checks import check_estimator

    from myelin.wrappers import SKLearnClassifier, SKLearnRegressor

    expected = {
        "check_sample_weight_equivalence_on_dense_data": "zero weights still take part in shuffling and batching",
    }
    rows = []
    for est in (
        SKLearnClassifier(
            build_classifier, model_kwargs={"hidden": (16,)}, fit_kwargs={"epochs": 40, "batch_size": 16}, random_state=0
        ),
        SKLearnRegressor(build_regressor, fit_kwargs={"epochs": 80, "batch_size": 16}, random_state=0),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(est, on_fail=None, expected_failed_checks=expected)
        counts: dict = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        rows.append({"estimator": type(est).__name__, "total": len(results), **counts})
    return rows


def load_penguin_features():
    from myelin.demo import load_penguins

    return load_penguins()


def cv_rows(epochs: dict) -> list[dict]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from myelin.wrappers import SKLearnClassifier

    digits = load_digits()
    datasets = {
        "penguins (342 × 4)": load_penguin_features(),
        "digits (1,797 × 64)": (digits.data.astype("float32"), digits.target),
    }
    rows = []
    for name, (X, y) in datasets.items():
        e = epochs[name.split()[0]]
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        candidates = {
            "myelin SKLearnClassifier": SKLearnClassifier(
                build_classifier, fit_kwargs={"epochs": e, "batch_size": 32}, random_state=0
            ),
            "sklearn MLPClassifier": MLPClassifier(
                hidden_layer_sizes=(64, 64), solver="adam", learning_rate_init=1e-3, batch_size=32, alpha=0.0,
                max_iter=e, tol=0.0, n_iter_no_change=e + 1, random_state=0,
            ),
        }  # fmt: skip
        for label, est in candidates.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MLPClassifier's "maximum iterations reached"
                res = cross_validate(make_pipeline(StandardScaler(), est), X, y, cv=cv, scoring="accuracy")
            rows.append(
                {
                    "data": name,
                    "estimator": label,
                    "epochs": e,
                    "accuracy": float(np.mean(res["test_score"])),
                    "std": float(np.std(res["test_score"])),
                    "fit_time": float(np.mean(res["fit_time"])),
                }
            )
    return rows


# ---------------------------------------------------------------------------- report
def machine() -> str:
    import onnx
    import onnxruntime
    import sklearn

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, myelin {myelin.__version__}, onnx {onnx.__version__}, "
        f"onnxruntime {onnxruntime.__version__}, scikit-learn {sklearn.__version__}"
    )


def render(onnx_table, checks, cv) -> str:
    out = [
        SECTION,
        "",
        f"Measured {machine()}. Script: `python bench/ecosystem_bench.py`. The 2-core machine is shared with other "
        "jobs: compare the numbers within a row, not across runs.",
        "",
    ]
    out += [
        "### ONNX export: onnxruntime against `model.predict`",
        "",
        "Largest difference on 1,024 random rows (float32; relative to max(|predict|, 1e-6)), and the median time "
        "of one call. The raw-penguins model takes the table's columns (numbers and strings) and is the model "
        "`myelin train` builds.",
        "",
        "| model | parameters | max abs diff | max rel diff | onnxruntime, batch 1 | predict, batch 1 | "
        "onnxruntime, batch 1,024 | predict, batch 1,024 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in onnx_table:
        out.append(
            f"| {r['model']} | {r['params']:,} | {r['max_abs']:.1e} | {r['max_rel']:.1e} | {fmt_time(r['ort_1'])} | "
            f"{fmt_time(r['predict_1'])} | {fmt_time(r['ort_1024'])} | {fmt_time(r['predict_1024'])} |"
        )
    out += ["", "### scikit-learn", "", "`sklearn.utils.estimator_checks.check_estimator` results:", ""]
    out += ["| estimator | checks | passed | expected failures (xfail) | skipped | failed |", "|---|---:|---:|---:|---:|---:|"]
    for r in checks:
        out.append(
            f"| {r['estimator']} | {r['total']} | {r.get('passed', 0)} | {r.get('xfail', 0)} | {r.get('skipped', 0)} | "
            f"{r.get('failed', 0)} |"
        )
    out += [
        "",
        "The expected failure is `check_sample_weight_equivalence_on_dense_data` (a zero sample weight is not the "
        "same fit as removing the sample: it still takes part in shuffling and batching); the skipped check is "
        "`check_array_api_input` (needs `SCIPY_ARRAY_API=1`). See docs/sklearn.md.",
        "",
        "5-fold stratified cross-validation (shuffled, seed 0), `StandardScaler` then the classifier; both networks "
        "have two hidden relu layers of 64, Adam at 1e-3, batches of 32, no weight penalty, and the same number of "
        "epochs (MLPClassifier with `tol=0` so that it runs them all).",
        "",
        "| data | estimator | epochs | accuracy (mean ± std) | fit time per fold |",
        "|---|---|---:|---:|---:|",
    ]
    for r in cv:
        out.append(
            f"| {r['data']} | {r['estimator']} | {r['epochs']} | {r['accuracy']:.4f} ± {r['std']:.4f} | "
            f"{fmt_time(r['fit_time'])} |"
        )
    return "\n".join(out) + "\n"


def write_section(text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    current = path.read_text() if path.exists() else "# Benchmark results\n\n"
    if SECTION in current:
        before = current.split(SECTION)[0]
        rest = current.split(SECTION, 1)[1]
        after = rest[rest.index("\n## ") :] if "\n## " in rest else ""
        current = before + text + after
    else:
        current = current.rstrip() + "\n\n" + text
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the section in bench/RESULTS.md")
    parser.add_argument("--penguin-epochs", type=int, default=100)
    parser.add_argument("--digits-epochs", type=int, default=50)
    args = parser.parse_args()
    myelin.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    text = render(
        onnx_rows(rng), estimator_check_rows(), cv_rows({"penguins": args.penguin_epochs, "digits": args.digits_epochs})
    )
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
