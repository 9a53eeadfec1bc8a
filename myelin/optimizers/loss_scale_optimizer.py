"""Keras's ``LossScaleOptimizer``: dynamic loss scaling around another optimizer, for float16 training.

Small gradients underflow to zero in float16. The training step multiplies the loss by a
scale (``scale_loss``; ``fit`` seeds the backward pass with it), so every gradient inside the
float16 layers is that many times larger; before the inner optimizer uses them the gradients
of the float32 variables are divided by the scale again. Keras's dynamic rule:

- a step whose gradients hold an inf or a NaN is skipped, and the scale is halved;
- after ``dynamic_growth_steps`` finite steps in a row, the scale is doubled.

Example:
    >>> from myelin import Tensor, optimizers
    >>> w = Tensor([1.0], requires_grad=True)
    >>> opt = optimizers.LossScaleOptimizer(optimizers.SGD(0.5), initial_scale=8.0)
    >>> opt.apply([[8.0 * 2.0]], [w]); w.data, opt.dynamic_scale
    (array([0.], dtype=float32), 8.0)
    >>> opt.apply([[float("inf")]], [w]); w.data, opt.dynamic_scale
    (array([0.], dtype=float32), 4.0)
"""

from __future__ import annotations

import numbers

from ..backend import array_module
from . import REGISTRY, Optimizer, get


class _NonFiniteGradientError(Exception):
    """Raised inside the inner optimizer's step, before it changes anything, when a gradient is inf or NaN."""


# Keras accepts these base-optimizer arguments only at their defaults (they belong on the inner optimizer).
_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


@REGISTRY.register("LossScaleOptimizer")
class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss dynamically so that float16 gradients do not underflow (Keras's).

    Arguments: ``inner_optimizer`` (the optimizer that updates the variables),
    ``initial_scale`` (default 2**15), ``dynamic_growth_steps`` (default 2000: the scale doubles
    after that many finite steps in a row; a non-finite gradient halves it and skips the step),
    ``name``. ``compile(auto_scale_loss=True)`` (the default) wraps the optimizer in one when the
    model's dtype policy is "mixed_float16". The learning rate, ``iterations`` and the state are
    the inner optimizer's; the scale and its step counter are saved with the model.

    Example:
        >>> from myelin import optimizers
        >>> opt = LossScaleOptimizer(optimizers.Adam(0.01), dynamic_growth_steps=100)
        >>> opt.dynamic_scale, opt.learning_rate, opt.scale_loss(0.5)
        (32768.0, 0.01, 16384.0)
    """

    def __init__(
        self,
        inner_optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str | None = None,
        **kwargs,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer: dynamic=False is not supported (as in Keras 3): set loss_scale_factor on the "
                "inner optimizer for a fixed scale"
            )
        for key, default in _BASE_DEFAULTS.items():
            if key in kwargs and kwargs.pop(key) != default:
                raise ValueError(f"LossScaleOptimizer: {key} is not supported here; set {key} on the inner optimizer")
        if kwargs:
            raise TypeError(f"LossScaleOptimizer: unexpected argument(s) {', '.join(sorted(kwargs))}")
        if isinstance(inner_optimizer, dict):
            inner_optimizer = deserialize_inner(inner_optimizer)
        if not isinstance(inner_optimizer, Optimizer) or isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError(
                "LossScaleOptimizer: inner_optimizer must be an Optimizer instance (not a LossScaleOptimizer), "
                f"got {inner_optimizer!r}"
            )
        if isinstance(initial_scale, bool) or not isinstance(initial_scale, numbers.Real) or not initial_scale > 0:
            raise ValueError(f"LossScaleOptimizer: initial_scale must be a positive number, got {initial_scale!r}")
        if (
            isinstance(dynamic_growth_steps, bool)
            or not isinstance(dynamic_growth_steps, numbers.Integral)
            or dynamic_growth_steps < 1
        ):
            raise ValueError(
                f"LossScaleOptimizer: dynamic_growth_steps must be a positive integer, got {dynamic_growth_steps!r}"
            )
        super().__init__(learning_rate=0.0, name=name or "loss_scale_optimizer")
        self.inner_optimizer = inner_optimizer  # from here on, the forwarded attributes below are the inner's
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self.dynamic_scale = self.initial_scale
        self.step_counter = 0  # finite steps since the scale last changed
        inner_optimizer.loss_scale_factor = None  # the gradients are unscaled here, never twice

    # The inner optimizer holds the variables, the learning rate and the count of updates.
    @property
    def loss_scale_factor(self) -> float:
        """The current scale: what ``fit`` multiplies the loss by (Keras's ``scale_loss``)."""
        return self.dynamic_scale

    @loss_scale_factor.setter
    def loss_scale_factor(self, value) -> None:
        if value is not None:
            raise ValueError("LossScaleOptimizer: loss_scale_factor is its dynamic scale; it cannot be set")

    @property
    def iterations(self) -> int:
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self.inner_optimizer.iterations = value

    @property
    def learning_rate(self) -> float:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    @property
    def learning_rate_schedule(self):
        return self.inner_optimizer.learning_rate_schedule

    @property
    def built(self) -> bool:
        return self.inner_optimizer.built

    def build(self, variables) -> None:
        """Build the inner optimizer for ``variables`` (the scale keeps its value)."""
        self.inner_optimizer.build(variables)

    @property
    def variables(self) -> list:
        return self.inner_optimizer.variables

    def scale_loss(self, loss):
        """``loss`` times the current scale: what a custom training step differentiates.

        Example:
            >>> from myelin import optimizers
            >>> LossScaleOptimizer(optimizers.SGD(), initial_scale=4.0).scale_loss(0.25)
            1.0
        """
        return loss * self.dynamic_scale

    def _step(self, grads: dict) -> None:
        inner = self.inner_optimizer
        reducer = self._gradient_reducer  # data-parallel training sets it on the optimizer it was given

        def check(groups) -> None:
            # Called by the inner optimizer once its flat gradient buffers hold this step's (summed)
            # gradients and before it changes anything: a non-finite one stops the step here.
            if reducer is not None:
                reducer(groups)
            for group in groups:
                if not bool(array_module(group.grads).isfinite(group.grads).all()):
                    raise _NonFiniteGradientError

        inner._gradient_reducer = check
        inner.loss_scale_factor = self.dynamic_scale  # the inner step divides its gradient buffers by it
        try:
            inner._step(grads)
        except _NonFiniteGradientError:
            self.step_counter = 0
            self.dynamic_scale *= 0.5
            return
        finally:
            inner.loss_scale_factor = None
            del inner._gradient_reducer  # back to the class's None
        if self.step_counter == self.dynamic_growth_steps - 1:
            self.step_counter = 0
            self.dynamic_scale *= 2.0
        else:
            self.step_counter += 1

    def finalize_variable_values(self) -> None:
        self.inner_optimizer.finalize_variable_values()

    def get_state(self) -> dict:
        return {**self.inner_optimizer.get_state(), "dynamic_scale": self.dynamic_scale, "step_counter": self.step_counter}

    def set_state(self, state: dict) -> None:
        state = dict(state)
        scale, counter = state.pop("dynamic_scale", None), state.pop("step_counter", None)
        self.inner_optimizer.set_state(state)
        if scale is not None:
            self.set_scale_state({"dynamic_scale": scale, "step_counter": counter or 0})

    def get_scale_state(self) -> dict:
        """The scale and its step counter (saved with the model).

        Example:
            >>> from myelin import optimizers
            >>> LossScaleOptimizer(optimizers.SGD()).get_scale_state()
            {'dynamic_scale': 32768.0, 'step_counter': 0}
        """
        return {"dynamic_scale": self.dynamic_scale, "step_counter": self.step_counter}

    def set_scale_state(self, state: dict) -> None:
        """Restore what :meth:`get_scale_state` returned.

        Example:
            >>> from myelin import optimizers
            >>> opt = LossScaleOptimizer(optimizers.SGD())
            >>> opt.set_scale_state({"dynamic_scale": 2.0, "step_counter": 5}); opt.dynamic_scale
            2.0
        """
        scale, counter = state.get("dynamic_scale"), state.get("step_counter")
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not scale > 0:
            raise ValueError(f"LossScaleOptimizer: dynamic_scale must be a positive number, got {scale!r}")
        if isinstance(counter, bool) or not isinstance(counter, numbers.Integral) or counter < 0:
            raise ValueError(f"LossScaleOptimizer: step_counter must be a non-negative integer, got {counter!r}")
        self.dynamic_scale, self.step_counter = float(scale), int(counter)

    def get_variable_state(self, variable) -> dict:
        return self.inner_optimizer.get_variable_state(variable)

    def set_variable_state(self, variable, state: dict) -> None:
        self.inner_optimizer.set_variable_state(variable, state)

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        self.inner_optimizer.exclude_from_weight_decay(var_list, var_names)

    def get_config(self) -> dict:
        from . import serialize  # noqa: PLC0415

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> LossScaleOptimizer:
        config = dict(config)
        return cls(deserialize_inner(config.pop("inner_optimizer")), **config)

    def __repr__(self) -> str:
        return f"<LossScaleOptimizer inner={self.inner_optimizer!r} dynamic_scale={self.dynamic_scale}>"


def _forwarded(attr: str) -> property:
    """An attribute read from and written to the inner optimizer (the base constructor's writes, made before
    there is one, set the base's defaults, which the inner optimizer already has)."""

    def read(self):
        return getattr(self.inner_optimizer, attr)

    def write(self, value) -> None:
        if "inner_optimizer" in self.__dict__:
            setattr(self.inner_optimizer, attr, value)

    return property(read, write)


for _attr in ("_iterations", "_where", "_variables", "_groups", "_exclude_ids", "_exclude_names", "_special"):
    setattr(LossScaleOptimizer, _attr, _forwarded(_attr))


def deserialize_inner(spec) -> Optimizer:
    """The inner optimizer of a saved LossScaleOptimizer: a name, Keras's dict or myelin's ``{"class_name", "config"}``."""
    from . import deserialize  # noqa: PLC0415

    return get(spec) if isinstance(spec, (str, Optimizer)) else deserialize(spec)
