"""Level 4: finding where numbers go wrong: ``detect_anomaly`` and the explanation of a NaN loss.

``myelin.detect_anomaly()`` checks the output of every primitive in the forward pass and
every gradient in the backward pass, and raises :class:`AnomalyError` naming the first
primitive that produced a NaN or an infinity (PyTorch's ``torch.autograd.detect_anomaly``).
It costs a check per primitive, so it is for debugging; outside it, the engine does no
extra work.

``fit`` stops when the loss becomes NaN or infinite (unless told to go on) and raises
:class:`NonFiniteLossError`, whose message comes from :func:`explain_nonfinite_loss`: the
epoch and batch, the first layer whose weights, output or gradient is non-finite, and what
usually causes it.

Example:
    >>> import myelin
    >>> from myelin import Tensor, ops
    >>> with myelin.detect_anomaly():
    ...     ops.log(Tensor([1.0, 0.0]))
    Traceback (most recent call last):
    ...
    myelin.debugging.AnomalyError: forward of Log produced 1 infinite value (of 2, shape (2,)); its inputs were...: log...
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from . import backend
from . import tensor as tensor_module
from .tensor import no_grad

# What a primitive's non-finite result usually means (by Function class name).
_HINTS = {
    "Log": "log of zero or of a negative number (add a small epsilon: ops.log(x + 1e-7))",
    "Div": "division by zero",
    "Sqrt": "sqrt of a negative number, or the gradient of sqrt at zero (1 / (2 * sqrt(0)) = inf)",
    "Exp": "exp overflows above about 88 in float32 (unscaled inputs or large weights)",
    "Pow": "a power of zero or of a negative number",
    "PowScalar": "a power of zero (negative exponent) or of a negative number (fractional exponent)",
    "MatMul": "an overflow in a matrix product (unscaled inputs or large weights)",
    "Dense": "an overflow in the layer's matrix product (unscaled inputs or large weights)",
}

CAUSES = (
    "a learning rate too high for the data (try one 10 times smaller, or clipnorm=1.0 on the optimizer)",
    "inputs that are not scaled (standardise the features: subtract the mean, divide by the standard deviation)",
    "the log of zero or a division by zero in a custom loss or layer (add a small epsilon)",
)


class AnomalyError(FloatingPointError):
    """Raised inside :func:`detect_anomaly` at the first NaN or infinity a primitive produces.

    ``.function`` is the primitive (a ``Function`` instance), ``.phase`` "forward" or "backward".

    Example:
        >>> issubclass(AnomalyError, FloatingPointError)
        True
    """

    def __init__(self, message: str, function=None, phase: str = ""):
        super().__init__(message)
        self.function, self.phase = function, phase


class NonFiniteLossError(FloatingPointError):
    """Raised by ``fit`` when the loss becomes NaN or infinite; the message says where and why.

    ``.epoch`` and ``.batch`` (0-based) say when; ``.loss`` is the value.

    Example:
        >>> issubclass(NonFiniteLossError, FloatingPointError)
        True
    """

    def __init__(self, message: str, epoch: int = 0, batch: int = 0, loss: float = math.nan):
        super().__init__(message)
        self.epoch, self.batch, self.loss = epoch, batch, loss


def _count_bad(array) -> tuple[int, int]:
    """(NaNs, infinities) in a float array; (0, 0) for other dtypes."""
    if getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
        return 0, 0
    xp = backend.array_module(array)
    return int(xp.isnan(array).sum()), int(xp.isinf(array).sum())


def _finite(array) -> bool:
    if getattr(array, "dtype", None) is None or array.dtype.kind not in "fc":
        return True
    xp = backend.array_module(array)
    return bool(xp.isfinite(array).all())


def describe_bad(array) -> str:
    """``"3 NaN and 1 infinite value(s) (of 12, shape (3, 4))"``: what is wrong in an array.

    Example:
        >>> describe_bad(np.array([1.0, np.nan, np.inf]))
        '1 NaN and 1 infinite value (of 3, shape (3,))'
    """
    nans, infs = _count_bad(array)
    parts = []
    if nans:
        parts.append(f"{nans} NaN")
    if infs:
        parts.append(f"{infs} infinite value{'s' if infs > 1 else ''}")
    what = " and ".join(parts) or "no non-finite values"
    if nans and not infs and nans > 1:
        what = f"{nans} NaN values"
    return f"{what} (of {array.size}, shape {tuple(array.shape)})"


class detect_anomaly(contextlib.ContextDecorator):
    """Context manager (and decorator): raise at the first primitive whose output or gradient is not finite.

    Every primitive's forward output and every gradient its backward produces is checked;
    the error names the primitive (``Log``, ``Div``, ``Dense``, ...), the phase, how many
    values are NaN or infinite, whether its inputs were already non-finite, and what that
    primitive's trouble usually means. ``fit`` inside it runs every step the ordinary way
    (no recorded replay), so every primitive is seen. Inside, NumPy's floating-point
    warnings are silenced: the error says more.

    Example:
        >>> from myelin import Tensor, ops
        >>> w = Tensor([0.0, 4.0], requires_grad=True)
        >>> with detect_anomaly():
        ...     ops.sqrt(w).sum().backward()
        Traceback (most recent call last):
        ...
        myelin.debugging.AnomalyError: backward of Sqrt produced 1 infinite value (of 2, shape (2,)); usually sqrt...
    """

    def __init__(self, check_forward: bool = True, check_backward: bool = True):
        self.check_forward, self.check_backward = check_forward, check_backward

    def __enter__(self):
        self._previous = tensor_module._anomaly_hook
        tensor_module._anomaly_hook = self._hook
        # NumPy's own "invalid value encountered" warnings say less than the error raised here.
        self._errstate = np.errstate(divide="ignore", over="ignore", invalid="ignore")
        self._errstate.__enter__()
        return self

    def __exit__(self, *exc):
        self._errstate.__exit__(*exc)
        tensor_module._anomaly_hook = self._previous
        return False

    def _hook(self, phase: str, fn, array, inputs=()) -> None:
        if (phase == "forward" and not self.check_forward) or (phase == "backward" and not self.check_backward):
            return
        if _finite(array):
            return
        name = type(fn).__name__
        message = f"{phase} of {name} produced {describe_bad(array)}"
        if phase == "forward":
            bad_inputs = [i for i, t in enumerate(inputs) if not _finite(t.data)]
            if bad_inputs:
                message += (
                    f"; its input{'s' if len(bad_inputs) > 1 else ''} {', '.join(map(str, bad_inputs))} "
                    "already held non-finite values (data or weights, made outside this block or by no recorded primitive)"
                )
            elif name in _HINTS:
                message += f"; its inputs were finite: {_HINTS[name]}"
        elif name in _HINTS:
            message += f"; usually {_HINTS[name]}"
        raise AnomalyError(message, fn, phase)


# ---------------------------------------------------------------------------- explaining a NaN loss in fit
def _leaf_layers(model) -> list:
    """Every layer inside ``model`` that computes something itself (nested models opened up)."""
    out, stack, seen = [], list(reversed(model._sublayers)), set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(reversed(layer._sublayers))
    return out


def _nonfinite_weights(model) -> list[tuple[str, str]]:
    found = []
    for layer in _leaf_layers(model):
        for w in layer._weights:
            if not _finite(w.data):
                found.append((layer.name, f"{w.name}: {describe_bad(w.data)}"))
    return found


@contextlib.contextmanager
def _watch_layers(model, record: dict):
    """While active, record the first layer whose output is not finite and the first primitive that made such a value."""
    layers = _leaf_layers(model)
    stack: list = []

    def wrap(layer, call):
        def watched(*args, **kwargs):
            stack.append(layer)
            try:
                out = call(*args, **kwargs)
            finally:
                stack.pop()
            outs = out if isinstance(out, (list, tuple)) else [out]
            if "layer" not in record and not all(_finite(getattr(o, "data", o)) for o in outs):
                record["layer"] = layer
            return out

        return watched

    def hook(phase, fn, array, inputs=()):
        if phase == "forward" and "forward_fn" not in record and not _finite(array):
            record["forward_fn"] = (fn, describe_bad(array), stack[-1] if stack else None)

    for layer in layers:
        object.__setattr__(layer, "call", wrap(layer, layer.call))
    previous, tensor_module._anomaly_hook = tensor_module._anomaly_hook, hook
    try:
        yield
    finally:
        tensor_module._anomaly_hook = previous
        for layer in layers:
            with contextlib.suppress(AttributeError):
                object.__delattr__(layer, "call")


def _layer_label(layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})" if layer is not None else "the model's own code"


def explain_nonfinite_loss(model, xs: list, ys: list, sw, epoch: int, batch: int, loss: float, epochs: int, steps: int) -> str:
    """The message of :class:`NonFiniteLossError`: when, where the first non-finite value appeared, and why.

    Finds non-finite weights (left by the previous update), or else runs the failing batch's
    forward pass again, the ordinary way, watching every layer's output and every primitive
    (this costs one forward pass, and only happens once training has already failed). The
    library's random generator is left as it was.

    Example:
        >>> import numpy as np, myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1, kernel_initializer="ones", name="dense")])
        >>> m.compile(optimizer="sgd", loss="mse")
        >>> x = np.full((4, 2), 3e38, np.float32)
        >>> with np.errstate(all="ignore"):
        ...     print(explain_nonfinite_loss(m, [x], [np.zeros((4, 1), np.float32)], None, 0, 0, float("inf"), 1, 1))
        The loss became inf at epoch 1/1, batch 1/1.
        First non-finite value: the output of layer 'dense' (Dense) in the forward pass ...
    """
    lines = [f"The loss became {loss} at epoch {epoch + 1}/{epochs}, batch {batch + 1}/{steps}."]
    likely = None
    bad_weights = _nonfinite_weights(model)
    if bad_weights:
        names = sorted({layer for layer, _ in bad_weights})
        lines.append(
            f"First non-finite value: the weights of {', '.join(repr(n) for n in names)} were already non-finite "
            f"({bad_weights[0][1]}): the update after the previous batch made them so, because their gradient "
            "overflowed or the step was too large."
        )
        likely = 0
    else:
        record: dict = {}
        rng_state = backend.rng_state()
        try:
            with np.errstate(all="ignore"), _watch_layers(model, record), no_grad():
                model._clear_call_losses()
                model._loss(ys, model._run(xs, training=True), sw)
        except Exception as err:  # the explanation must not hide the original problem
            lines.append(f"(Re-running the batch to find where failed: {type(err).__name__}: {err})")
        finally:
            backend.set_rng_state(rng_state)
            model._clear_call_losses()
        bad_x = [i for i, a in enumerate(xs) if not _finite(a)]
        if bad_x:
            lines.append(f"First non-finite value: the input batch itself (x{'' if len(xs) == 1 else bad_x}).")
            likely = 1
        else:
            scale = max((float(np.abs(np.asarray(a, dtype=np.float64)).max()) for a in xs if np.size(a)), default=0.0)
            overflow_cause = 1 if scale > 1e3 else 0  # huge inputs, or weights grown huge by large steps
            fn, what, owner = record.get("forward_fn", (None, "", None))
            name = type(fn).__name__ if fn is not None else ""
            detail = f" (primitive {name} produced {what})" if fn is not None else ""
            if "layer" in record:
                lines.append(
                    f"First non-finite value: the output of {_layer_label(record['layer'])} in the forward pass{detail}."
                )
                likely = 2 if name in ("Log", "Div", "Sqrt", "Pow", "PowScalar") else overflow_cause
            elif fn is not None:
                where = _layer_label(owner) if owner is not None else "the loss, computed from finite model outputs"
                lines.append(f"First non-finite value: {where}{detail}.")
                likely = 2 if name in ("Log", "Div", "Sqrt", "Pow", "PowScalar") else overflow_cause
            if name in _HINTS:
                lines.append(f"{name} trouble usually means {_HINTS[name]}.")
            elif fn is not None:
                lines.append(f"{name} produced infinities from finite values: an overflow of float32 (beyond about 3.4e38).")
            lines.append(f"The largest input value in this batch is {scale:.3g}.")
    lines.append("What usually causes this:")
    for i, cause in enumerate(CAUSES):
        lines.append(f"  - {cause}{'  <- most likely here' if i == likely else ''}")
    kept = (
        "its weights are already non-finite: reload the last checkpoint"
        if bad_weights
        else "the model keeps the weights from before this batch"
    )
    lines.append(
        f"Training stopped; {kept} (model.history has the epochs so far). "
        "To train on regardless, as Keras does, pass fit(..., on_nonfinite_loss='continue')."
    )
    return "\n".join(lines)


__all__ = ["AnomalyError", "NonFiniteLossError", "describe_bad", "detect_anomaly", "explain_nonfinite_loss"]
