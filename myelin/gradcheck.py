"""Level 4: the public finite-difference gradient checker.

``gradcheck(fn, inputs)`` compares the gradients that ``backward()`` computes with central
differences, in float64, on copies of the inputs. A non-scalar output is reduced to a
scalar with fixed random weights, so every output element takes part.

Example:
    >>> import numpy as np
    >>> from myelin import gradcheck, ops
    >>> result = gradcheck(lambda a, b: ops.tanh(a @ b), [np.random.rand(3, 4), np.random.rand(4, 2)])
    >>> bool(result), result.max_rel_error < 1e-6
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tensor import Tensor, no_grad


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


def gradcheck(
    fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0
) -> GradcheckResult:
    """Check ``fn``'s gradients with respect to each of ``inputs`` against central differences.

    ``fn(*tensors)`` must return a Tensor. Each element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``. Returns a :class:`GradcheckResult`;
    raises :class:`GradcheckError` on failure unless ``raise_exception=False``.

    Example:
        >>> gradcheck(lambda x: (x * x).sum(), [np.array([1.0, 2.0])]).passed
        True
    """
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
        numeric = np.zeros_like(value)
        flat = value.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = objective()
            flat[i] = original - eps
            minus = objective()
            flat[i] = original
            numeric.reshape(-1)[i] = (plus - minus) / (2 * eps)
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
