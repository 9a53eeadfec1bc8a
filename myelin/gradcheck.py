"""Level 4: the public finite-difference gradient checker.

``gradcheck(fn, inputs)`` compares the gradients that ``backward()`` computes with central
differences, in float64, on copies of the inputs. A non-scalar output is reduced to a
scalar with fixed random weights, so every output element takes part.

``gradcheck(model, x, y)`` checks a whole compiled model: the gradient of its training loss
(the compiled loss plus the weight and activity penalties) with respect to every trainable
weight, against central differences of that loss, computed on a float64 copy of the model
(the model itself is not touched). The result reports the worst error per layer and
weight, and a failure names the layer: for users who write their own layers, activations
and losses.

Example:
    >>> import numpy as np
    >>> from myelin import gradcheck, ops
    >>> result = gradcheck(lambda a, b: ops.tanh(a @ b), [np.random.rand(3, 4), np.random.rand(4, 2)])
    >>> bool(result), result.max_rel_error < 1e-6
    (True, True)
"""

from __future__ import annotations

import copy
import sys
import types
from dataclasses import dataclass, field

import numpy as np

from .backend import array_module
from .explain import layer_weights
from .layers.base import Layer
from .tensor import Tensor, enable_grad, no_grad


class GradcheckError(AssertionError):
    """Raised when analytic and numerical gradients disagree beyond the tolerance."""


@dataclass
class GradcheckResult:
    """The outcome: truthy when every gradient matched; the worst errors per input.

    Example:
        >>> GradcheckResult(passed=True, max_abs_error=0.0, max_rel_error=0.0)
        GradcheckResult(passed=True, max_abs_error=0.0, max_rel_error=0.0, per_input=[])
    """

    passed: bool
    max_abs_error: float
    max_rel_error: float
    per_input: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed


def _to_float64(value) -> np.ndarray:
    arr = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"gradcheck: inputs must be numeric arrays, got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64, copy=True, order="C")  # C order: reshape(-1) must be a view


def _numeric(objective, value, indices, eps: float) -> np.ndarray:
    """Central differences of ``objective()`` at each flat index of ``value``, which is perturbed in place."""
    flat = value.reshape(-1)  # a view: value is C-contiguous
    out = np.zeros(len(indices))
    for k, i in enumerate(indices):
        original = flat[i]
        flat[i] = original + eps
        plus = objective()
        flat[i] = original - eps
        minus = objective()
        flat[i] = original
        out[k] = (plus - minus) / (2 * eps)
    return out


def gradcheck(
    fn,
    inputs,
    y=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    sample_weight=None,
    max_elements: int | None = None,
) -> GradcheckResult:
    """Check ``fn``'s gradients with respect to each of ``inputs`` against central differences.

    ``fn(*tensors)`` must return a Tensor. Each element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns a :class:`GradcheckResult`;
    raises :class:`GradcheckError` on failure unless ``raise_exception=False``.

    When ``fn`` is a compiled model, checks the model instead: ``gradcheck(model, x, y)``
    (see :func:`gradcheck_model`; ``sample_weight`` and ``max_elements`` apply there).

    Example:
        >>> gradcheck(lambda x: (x * x).sum(), [np.array([1.0, 2.0])]).passed
        True
    """
    if isinstance(fn, Layer) and hasattr(fn, "compile"):
        return gradcheck_model(
            fn, inputs, y, sample_weight, eps, atol, rtol, raise_exception, max_elements=max_elements, seed=seed
        )
    if y is not None or sample_weight is not None or max_elements is not None:
        raise TypeError("gradcheck: y, sample_weight and max_elements are for checking a model: gradcheck(model, x, y)")
    if isinstance(inputs, (np.ndarray, Tensor)) or np.isscalar(inputs):
        inputs = [inputs]
    values = [_to_float64(v) for v in inputs]
    tensors = [Tensor(v, requires_grad=True) for v in values]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"gradcheck: fn returned dtype {out.dtype}; keep the computation in float64 (the inputs' dtype)")
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    (out * Tensor(weights)).sum().backward()

    def objective() -> float:
        with no_grad():
            result = fn(*[Tensor(v) for v in values])
        return float((result.numpy() * weights).sum())

    worst_abs = worst_rel = 0.0
    per_input, failures = [], []
    for k, (value, tensor) in enumerate(zip(values, tensors)):
        analytic = np.zeros_like(value) if tensor.grad is None else np.asarray(tensor.grad, dtype=np.float64)
        numeric = _numeric(objective, value, range(value.size), eps).reshape(value.shape)
        abs_err = np.abs(analytic - numeric)
        rel_err = abs_err / np.maximum(np.abs(numeric), 1e-12)
        bad = abs_err > atol + rtol * np.abs(numeric)
        max_abs = float(abs_err.max(initial=0.0))
        max_rel = float(np.where(abs_err > atol, rel_err, 0.0).max(initial=0.0))
        worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, max_rel)
        per_input.append({"input": k, "max_abs_error": max_abs, "max_rel_error": max_rel, "mismatches": int(bad.sum())})
        if bad.any():
            i = int(np.argmax(np.where(bad, abs_err, -1)))
            idx = np.unravel_index(i, value.shape) if value.ndim else ()
            failures.append(
                f"input {k} {tuple(value.shape)}: {int(bad.sum())} element(s) differ; "
                f"worst at index {tuple(int(j) for j in idx)}: "
                f"analytic {analytic.reshape(-1)[i]:.8g}, numerical {numeric.reshape(-1)[i]:.8g}"
            )
    result = GradcheckResult(not failures, worst_abs, worst_rel, per_input)
    if failures and raise_exception:
        raise GradcheckError("gradcheck failed:\n  " + "\n  ".join(failures))
    return result


# ---------------------------------------------------------------------------- whole models
@dataclass
class ModelGradcheckResult(GradcheckResult):
    """The outcome of checking a model: one row per weight in ``per_input``, a table as ``str()``.

    Each row: ``layer``, ``layer_type``, ``weight``, ``shape``, ``checked`` (elements
    compared), ``max_abs_error``, ``max_rel_error`` (``|analytic - numeric| / max(|analytic|,
    |numeric|)`` over elements whose gradient is at least 1e-6 in size), ``mismatches`` and,
    for a failing weight, ``worst`` (index, analytic, numeric).

    Example:
        >>> r = ModelGradcheckResult(True, 0.0, 0.0, [], model_name="m")
        >>> r.per_layer
        {}
    """

    model_name: str = ""
    loss: float = 0.0

    @property
    def per_layer(self) -> dict:
        """The worst relative error of each layer's weights, by layer name."""
        out: dict = {}
        for row in self.per_input:
            out[row["layer"]] = max(out.get(row["layer"], 0.0), row["max_rel_error"])
        return out

    def __str__(self) -> str:
        lines = [
            f'gradcheck of model "{self.model_name}" (float64 copy), loss {self.loss:.6g}: '
            f"{'passed' if self.passed else 'FAILED'}"
        ]
        headers = ("layer", "weight", "checked", "worst abs error", "worst rel error", "")
        rows = [
            (
                r["layer"],
                r["weight"],
                str(r["checked"]),
                f"{r['max_abs_error']:.2e}",
                f"{r['max_rel_error']:.2e}",
                "ok" if not r["mismatches"] else f"WRONG ({r['mismatches']} differ)",
            )
            for r in self.per_input
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        for row in [headers, *rows]:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        return "\n".join(lines)


def gradcheck_model(
    model,
    x,
    y,
    sample_weight=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    max_elements: int | None = None,
    seed: int = 0,
) -> ModelGradcheckResult:
    """Check the gradient of a compiled model's training loss for every trainable weight.

    The check runs on a float64 deep copy of the model, on the CPU (the model, its weights
    and its optimizer are untouched), in inference mode (``Dropout`` is off, so the loss is a
    deterministic function of the weights), on the batch ``x``, ``y`` as ``fit`` would take
    it: the compiled loss with its sample weights, plus every weight and activity penalty.
    The analytic gradient comes from ``backward()``; the numerical one from central
    differences with step ``eps``. An element passes when ``|analytic - numeric| <= atol +
    rtol * |numeric|``. ``max_elements`` checks at most that many elements of each weight
    (chosen at random with ``seed``); by default every element is checked, which costs two
    forward passes per parameter: keep ``x`` to a few samples.

    A wrong backward in a custom layer (or activation, or loss) makes that layer's weights
    fail, and every layer below it too, since they receive its wrong gradient: the failing
    layer nearest the output is where to look. Near a relu kink (a weighted sum within
    ``eps`` of 0) central differences are not meaningful; the report gives the element.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="tanh", name="h"),
        ...                        layers.Dense(2, name="out")])
        >>> m.compile(optimizer="adam", loss="mse")
        >>> result = gradcheck(m, np.random.default_rng(0).normal(size=(5, 3)), np.zeros((5, 2)))
        >>> result.passed, sorted(result.per_layer)
        (True, ['h', 'out'])
    """
    model._assert_compiled("gradcheck")
    xs, ys, sw = model._prepare_xy(x, y, sample_weight)
    model._ensure_built(xs)
    ys = model._shape_targets(ys)
    twin = _float64_copy(model)
    xs = [_as_float64(a) for a in xs]
    ys = [_as_float64(a) if a.dtype.kind == "f" else _host(a) for a in ys]
    sw = None if sw is None else _as_float64(sw)

    def loss_tensor() -> Tensor:
        twin._clear_call_losses()
        outs = twin._run(xs, training=False)
        return twin._loss(ys, outs, sw)

    def objective() -> float:
        with no_grad():
            return float(loss_tensor().data)

    with enable_grad():
        total = loss_tensor()
    total.backward()
    loss = float(total.data)
    rng = np.random.default_rng(seed)
    rows, failures, worst_abs, worst_rel = [], [], 0.0, 0.0
    for name, layer, weights in layer_weights(twin):
        for w in weights:
            value = w.data
            count = value.size if max_elements is None else min(value.size, int(max_elements))
            indices = np.arange(value.size) if count == value.size else np.sort(rng.choice(value.size, count, replace=False))
            grad = np.zeros(value.size) if w.grad is None else np.asarray(w.grad, dtype=np.float64).reshape(-1)
            analytic = grad[indices]
            numeric = _numeric(objective, value, indices, eps)
            abs_err = np.abs(analytic - numeric)
            scale = np.maximum(np.abs(analytic), np.abs(numeric))
            rel_err = np.where(scale >= 1e-6, abs_err / np.maximum(scale, 1e-300), 0.0)
            bad = abs_err > atol + rtol * np.abs(numeric)
            row = {
                "layer": name,
                "layer_type": type(layer).__name__,
                "weight": w.name or f"{name}/weight",
                "shape": tuple(value.shape),
                "checked": int(count),
                "max_abs_error": float(abs_err.max(initial=0.0)),
                "max_rel_error": float(rel_err.max(initial=0.0)),
                "mismatches": int(bad.sum()),
            }
            worst_abs, worst_rel = max(worst_abs, row["max_abs_error"]), max(worst_rel, row["max_rel_error"])
            if bad.any():
                k = int(np.argmax(np.where(bad, abs_err, -1)))
                index = tuple(int(j) for j in np.unravel_index(int(indices[k]), value.shape))
                row["worst"] = {"index": index, "analytic": float(analytic[k]), "numeric": float(numeric[k])}
                failures.append(
                    f"layer {name!r} ({type(layer).__name__}), weight {row['weight']!r} {row['shape']}: "
                    f"{row['mismatches']} of {count} element(s) differ; worst at index {index}: analytic "
                    f"{analytic[k]:.8g}, numerical {numeric[k]:.8g}"
                )
            rows.append(row)
    result = ModelGradcheckResult(not failures, worst_abs, worst_rel, rows, model_name=model.name, loss=loss)
    if failures and raise_exception:
        raise GradcheckError(
            f"gradcheck of model {model.name!r} failed (the failing layer nearest the output comes first; layers "
            "below a wrong backward receive its wrong gradient):\n  " + "\n  ".join(reversed(failures))
        )
    return result


def _as_float64(a) -> np.ndarray:
    """A float64 NumPy copy (from the GPU too: the check runs on the CPU)."""
    return np.array(a if array_module(a).__name__ == "numpy" else a.get(), dtype=np.float64)


def _host(a) -> np.ndarray:
    return a if array_module(a).__name__ == "numpy" else a.get()


def _float64_copy(model):
    """A deep copy of ``model`` with float64 weights, without its optimizer, history or training caches."""
    skip = [model.optimizer, getattr(model, "history", None), getattr(model, "_compiled_metrics", None)]
    skip += [getattr(model, "_loss_tracker", None)]
    skip += [value for name, value in vars(model).items() if name.endswith("_plans")]  # recorded steps (myelin.tape)
    memo = {id(obj): None for obj in skip if obj is not None}
    # the last step's activity penalties and per-output losses hold its whole graph: not worth copying
    stack = [model]
    while stack:
        layer = stack.pop()
        memo[id(layer._call_losses)] = []
        stack.extend(layer._sublayers)
        # a functional graph finds its nodes by the ids of its symbolic tensors: keep those shared
        symbols = list(getattr(layer, "outputs", None) or []) if getattr(layer, "_functional", False) else []
        while symbols:
            t = symbols.pop()
            if id(t) not in memo:
                memo[id(t)] = t
                symbols.extend(t.inputs)
    last = getattr(model._compiled_loss, "last_values", None)
    if last is not None:
        memo[id(last)] = []
    twin = copy.deepcopy(model, memo)  # (Layer.__deepcopy__ points each copy's non-trainable weights at its own)
    stack = [twin]
    while stack:
        layer = stack.pop()
        layer.dtype = "float64"
        for w in layer._weights:
            w.data = _as_float64(w.data)
            w.grad = None
        stack.extend(layer._sublayers)
    return twin


class _CallableModule(types.ModuleType):
    """``myelin.gradcheck`` names both this module and its function: calling the module calls :func:`gradcheck`.

    ``import myelin`` loads its submodules lazily (``myelin/__init__.py``). Once this module is
    imported, Python binds ``myelin.gradcheck`` to the module object itself (for instance after
    ``from myelin.gradcheck import GradcheckError``), so ``myelin.gradcheck(fn, inputs)`` must
    work on the module too.
    """

    def __call__(self, *args, **kwargs):
        return gradcheck(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
