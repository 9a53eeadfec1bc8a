"""Level 6: tuning helpers: the learning-rate range test.

:func:`find_learning_rate` runs Leslie Smith's learning-rate range test (as fastai's
``lr_find`` does): train for up to ``num_steps`` batches while the learning rate grows
exponentially from ``start_lr`` to ``end_lr``, record each batch's loss and an
exponentially smoothed, bias-corrected copy of it, and stop as soon as the smoothed loss
exceeds ``diverge_factor`` times its lowest value (or the loss stops being finite). Then
it puts everything back as it was: the model's weights, the optimizer's state, step count
and learning rate, and the random generators, so that training afterwards goes exactly as
it would have without the test.

The suggested rate. Two rules are computed from the smoothed curve, ignoring the first
``skip_start`` and the last ``skip_end`` points:

- ``"steepest"`` (the default, as in PyTorch Lightning): the rate where the smoothed loss
  falls fastest against log(learning rate), on the descent from where the loss starts to
  fall to its minimum (the slope is taken across 5% of the sweep on each side, so that
  batch noise does not decide it). On the problems measured in ``docs/explain.md``
  (linear regression, the penguins, 8x8 and 28x28 digits; SGD and Adam) it trained well
  every time.
- ``"minimum/10"`` (fastai's ``lr_min``): a tenth of the rate at the smoothed loss's
  minimum. The smoothed curve trails the raw losses by about ``1 / (1 - smoothing)``
  batches, so its minimum lies where the loss is turning to blow up; on a plain quadratic
  a tenth of it sits just under the edge of stability. It fails where a too-high rate
  does not blow the loss up but collapses the network (dead relu units predicting the
  majority class: the penguins with unscaled inputs), because that collapse looks like a
  low loss.

Example:
    >>> import numpy as np
    >>> import myelin
    >>> from myelin import layers, tune
    >>> model = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(256, 2))
    >>> before = model.get_weights()
    >>> result = tune.find_learning_rate(model, x, x @ [1.0, -2.0], num_steps=100)
    >>> 1e-3 < result.suggestion < 1.0, all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    (True, True)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import backend, data

RULES = ("steepest", "minimum/10")


@dataclass
class LearningRateFinderResult:
    """The sweep of a learning-rate range test and the suggested rate.

    ``learning_rates``, ``losses`` and ``smoothed`` have one entry per batch trained;
    ``suggestions`` maps each rule to its rate and ``suggestion`` is the chosen rule's.
    ``plot(ax=None)`` draws the curve (needs matplotlib).

    Example:
        >>> r = LearningRateFinderResult(np.array([1e-3, 1e-2]), np.array([1.0, 0.5]), np.array([1.0, 0.5]))
        >>> r.num_steps
        2
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float | None = None
    rule: str = "steepest"
    suggestions: dict = field(default_factory=dict)
    diverged: bool = False
    best_learning_rate: float | None = None  # where the smoothed loss was lowest
    figure: object = field(default=None, repr=False)  # the Figure, when find_learning_rate(plot=True) drew one

    @property
    def num_steps(self) -> int:
        """How many batches the sweep trained before it finished or stopped."""
        return len(self.learning_rates)

    def plot(self, ax=None, **kwargs):
        """Draw the smoothed loss against the learning rate (log scale) and mark the suggestion.

        The same as ``myelin.plot.lr_finder(result, ax=ax, path=..., dpi=...)``; needs matplotlib.

        Example:
            >>> result.plot()  # doctest: +SKIP
        """
        from .plot import lr_finder  # noqa: PLC0415  (matplotlib is an optional extra)

        return lr_finder(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        lr = f"{self.suggestion:.3g}" if self.suggestion is not None else "none"
        end = "diverged" if self.diverged else "finished"
        return f"<LearningRateFinderResult suggestion={lr} ({self.rule}), {self.num_steps} steps, {end}>"


def find_learning_rate(
    model,
    x,
    y,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 200,
    batch_size: int = 32,
    smoothing: float = 0.98,
    diverge_factor: float = 4.0,
    sample_weight=None,
    rule: str = "steepest",
    skip_start: int = 10,
    skip_end: int = 5,
    plot: bool = False,
) -> LearningRateFinderResult:
    """Run the learning-rate range test on a compiled model; restore it; suggest a learning rate.

    Arguments:
        model: a compiled model; its optimizer (with its momentum, betas, ...) is the one tested.
        x, y, sample_weight: training data, as ``fit`` takes them. Batches are drawn at
            random, over as many passes through the data as ``num_steps`` needs.
        start_lr, end_lr: the sweep's first and last learning rate; batch ``i`` of
            ``num_steps`` trains at ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``.
        num_steps: the number of batches (a few hundred is typical).
        batch_size: samples per batch (use the one you will train with).
        smoothing: the factor ``beta`` of the smoothed loss
            ``avg = beta * avg + (1 - beta) * loss``, divided by ``1 - beta ** (i + 1)``.
        diverge_factor: stop when the smoothed loss exceeds this multiple of its minimum.
        rule: ``"steepest"`` or ``"minimum/10"`` (see the module's documentation).
        skip_start, skip_end: points left out at each end when choosing the suggestion.
        plot: draw the curve with matplotlib when done (``myelin.plot.lr_finder``; the Figure
            is ``result.figure``, shown by notebooks and by ``plt.show()``).

    Returns a :class:`LearningRateFinderResult`. The model's weights, its optimizer's
    state (an optimizer that had not been built yet is left built, in its initial state)
    and the library's random generators are exactly as they were before.

    Example:
        >>> result = find_learning_rate(model, x, y)  # doctest: +SKIP
        >>> model.optimizer.learning_rate = result.suggestion  # doctest: +SKIP
    """
    model._assert_compiled("find_learning_rate")
    if rule not in RULES:
        raise ValueError(f"find_learning_rate: rule must be one of {RULES}, got {rule!r}")
    if not (0 < start_lr < end_lr) or not math.isfinite(end_lr):
        raise ValueError(
            f"find_learning_rate: need 0 < start_lr < end_lr (finite), got start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    if not isinstance(num_steps, int) or num_steps < skip_start + skip_end + 3:
        raise ValueError(
            f"find_learning_rate: num_steps must be an integer of at least skip_start + skip_end + 3 = "
            f"{skip_start + skip_end + 3}, got {num_steps!r}"
        )
    if not 0 <= smoothing < 1:
        raise ValueError(f"find_learning_rate: smoothing must be in [0, 1), got {smoothing!r}")
    if not diverge_factor > 1:
        raise ValueError(f"find_learning_rate: diverge_factor must be > 1, got {diverge_factor!r}")
    batch_size = model._check_batch_size(batch_size)
    xs, ys, sw = model._prepare_xy(x, y, sample_weight)
    model._ensure_built(xs)
    ys = model._shape_targets(ys)

    saved = _Snapshot(model)
    lrs, losses, smoothed = [], [], []
    diverged = False
    try:
        model._begin_steps()
        n = len(xs[0])
        factor = (end_lr / start_lr) ** (1.0 / (num_steps - 1))
        avg, best = 0.0, math.inf
        batches = _endless_batches(n, batch_size)
        for i in range(num_steps):
            lr = start_lr * factor**i
            model.optimizer._learning_rate = lr
            idx = next(batches)
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # expected once the loss diverges
                loss = model._step([a[idx] for a in xs], [a[idx] for a in ys], None if sw is None else sw[idx], training=True)
            avg = smoothing * avg + (1 - smoothing) * loss
            value = avg / (1 - smoothing ** (i + 1))
            lrs.append(lr)
            losses.append(loss)
            smoothed.append(value)
            if not math.isfinite(value) or (i > skip_start and value > diverge_factor * best):
                diverged = True
                break
            best = min(best, value)
    finally:
        saved.restore(model)
    result = _suggest(np.array(lrs), np.array(losses), np.array(smoothed), rule, skip_start, skip_end)
    result.diverged = diverged
    if plot:
        result.figure = result.plot()
    return result


def _endless_batches(n: int, batch_size: int):
    gen = backend.rng()
    while True:
        yield from data.batch_indices(n, batch_size, shuffle=True, rng=gen)


def _suggest(lrs, losses, smoothed, rule, skip_start, skip_end) -> LearningRateFinderResult:
    result = LearningRateFinderResult(lrs, losses, smoothed, rule=rule)
    finite = np.isfinite(smoothed)
    stop = len(smoothed) - skip_end if len(smoothed) - skip_end > skip_start + 2 else len(smoothed)
    window = np.arange(skip_start, stop)
    window = window[finite[window]] if window.size else window
    if window.size < 3:
        warnings.warn(
            f"find_learning_rate: the loss diverged after {len(lrs)} steps, too early to suggest a rate; "
            f"lower start_lr (now {lrs[0]:.3g}) or raise num_steps",
            UserWarning,
            stacklevel=3,
        )
        return result
    lowest = int(window[np.argmin(smoothed[window])])
    result.best_learning_rate = float(lrs[lowest])
    result.suggestions["minimum/10"] = float(lrs[lowest]) / 10
    # the descent: from the last point still near the starting loss, down to the minimum
    top, bottom = smoothed[window[0]], smoothed[lowest]
    high = window[(window < lowest) & (smoothed[window] >= bottom + 0.9 * (top - bottom))]
    descent = window[(window <= lowest) & (window >= (high[-1] if high.size else window[0]))]
    w = max(1, round(0.05 * len(lrs)))  # the slope's half-width, in steps
    inner = descent[(descent - w >= 0) & (descent + w < len(lrs))]
    if inner.size:
        log_lr = np.log10(lrs)
        slope = (smoothed[inner + w] - smoothed[inner - w]) / (log_lr[inner + w] - log_lr[inner - w])
        result.suggestions["steepest"] = float(lrs[inner[int(np.argmin(slope))]])
    if smoothed[lowest] >= smoothed[window[0]]:
        warnings.warn(
            "find_learning_rate: the loss never fell below its starting value during the sweep; the suggestion "
            "is not meaningful. Check the data and the model, or widen the range (start_lr, end_lr).",
            UserWarning,
            stacklevel=3,
        )
    if rule not in result.suggestions:  # too few points on the descent for a slope
        rule = result.rule = "minimum/10"
    result.suggestion = result.suggestions[rule]
    return result


class _Snapshot:
    """Everything training changes: weights, optimizer state and learning rate, the random generators."""

    def __init__(self, model):
        opt = model.optimizer
        self.weights = [w.data.copy() for w in model.weights]
        if not opt.built:
            opt.build(model.trainable_weights)
        self.opt_state = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in opt.get_state().items()}
        self.learning_rate = opt._learning_rate
        self.train_params = model._train_params
        self.rng = backend.rng_state()
        self.generators = [(g, g.bit_generator.state) for g in _layer_generators(model)]

    def restore(self, model) -> None:
        opt = model.optimizer
        for w, value in zip(model.weights, self.weights):
            w.data[...] = value  # in place: the optimizer's flat buffer keeps pointing at the weights
            w.grad = None
        opt.set_state(self.opt_state)
        opt._learning_rate = self.learning_rate
        model._train_params = self.train_params
        model.reset_metrics()
        backend.set_rng_state(self.rng)
        for g, state in self.generators:
            g.bit_generator.state = state


def _layer_generators(layer) -> list:
    found = []
    generator = getattr(layer, "_generator", None)
    if isinstance(generator, np.random.Generator):
        found.append(generator)
    for sub in layer._sublayers:
        found += _layer_generators(sub)
    return found


__all__ = ["LearningRateFinderResult", "find_learning_rate"]
