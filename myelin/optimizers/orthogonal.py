"""Keras 3's newer optimizers: Muon (orthogonalised momentum) and ScheduleFreeAdamW.

Both follow Keras 3.15's update rules, arguments, defaults and ``get_config`` keys and work
on the base class's flat buffers in place (see :mod:`myelin.optimizers`). Muon needs each
variable on its own (its shape and its name choose the rule): its rule runs once per
variable. Neither has a compiled kernel: NumPy (or CuPy) operations on the buffers.

Example:
    >>> from myelin import Tensor, optimizers
    >>> w = Tensor([1.0, -2.0], requires_grad=True)
    >>> opt = optimizers.ScheduleFreeAdamW(learning_rate=0.1)
    >>> opt.apply_gradients([([0.5, -0.5], w)])
    >>> w.data.round(6)
    array([ 0.9, -1.9], dtype=float32)
"""

from __future__ import annotations

import math
import numbers
import re

from ..backend import array_module
from . import REGISTRY, Optimizer, _flush_subnormals
from .algorithms import _check_beta


def _newton_schulz5(x, steps: int, a: float, b: float, c: float):
    """An approximate U V^T of the matrix ``x`` = U S V^T by the quintic Newton-Schulz iteration."""
    xp = array_module(x)
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = x.T
    x = x / (xp.sqrt((x * x).sum()) + x.dtype.type(1e-7))
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


@REGISTRY.register("Muon", aliases=("muon",))
class Muon(Optimizer):
    """Muon (Jordan et al.; Liu et al., 2025): momentum orthogonalised by Newton-Schulz, AdamW for the rest.

    A 2-D variable (unless its name contains "embedding" with ``exclude_embeddings``, or
    matches a regular expression of ``exclude_layers``) takes the Muon step:
    m <- momentum m + g;  u = g + momentum m (``nesterov``) or m;
    O = NS5(u) (``ns_steps`` iterations with ``muon_a``, ``muon_b``, ``muon_c``);
    p <- p - lr O sqrt(max(rows, cols)) rms_rate (no scaling when ``rms_rate`` is None),
    after weight decay p <- p (1 - lr weight_decay). Every other variable takes Adam with
    ``adam_beta_1``, ``adam_beta_2``, ``epsilon`` at lr * ``adam_lr_ratio``, after weight decay
    by ``adam_weight_decay``. Variable names are myelin's ("dense/kernel"), Keras's paths.

    Example:
        >>> opt = Muon(); opt.learning_rate, opt.momentum, opt.ns_steps, opt.rms_rate
        (0.001, 0.95, 5, 0.2)
    """

    slots = ("m", "v")
    _per_variable = True

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        exclude_layers: list[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
        **kwargs,
    ):
        self.adam_beta_1 = _check_beta("Muon", "adam_beta_1", adam_beta_1)
        self.adam_beta_2 = _check_beta("Muon", "adam_beta_2", adam_beta_2)
        if not 0 <= momentum <= 1:
            raise ValueError(f"Muon: momentum must be in [0, 1], got {momentum}")
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, numbers.Integral) or ns_steps < 0:
            raise ValueError(f"Muon: ns_steps must be a non-negative integer, got {ns_steps!r}")
        if exclude_layers is not None and (
            isinstance(exclude_layers, str) or not all(isinstance(k, str) for k in exclude_layers)
        ):
            raise TypeError(f"Muon: exclude_layers must be a list of strings (regular expressions), got {exclude_layers!r}")
        self.adam_weight_decay = None if adam_weight_decay is None else float(adam_weight_decay)
        self.epsilon = float(epsilon)
        self.exclude_layers = list(exclude_layers or [])
        self.exclude_embeddings = bool(exclude_embeddings)
        self.muon_a, self.muon_b, self.muon_c = float(muon_a), float(muon_b), float(muon_c)
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = float(momentum)
        self.ns_steps = int(ns_steps)
        self.nesterov = bool(nesterov)
        self.rms_rate = None if rms_rate is None else float(rms_rate)
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)

    def _uses_adam(self, variable) -> bool:
        """Keras's rule: AdamW for every variable that is not 2-D, embeddings and excluded layers."""
        if variable.ndim != 2:
            return True
        path = variable.name or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _decay_and_apply(self, group, part, lr: float) -> None:
        index = next(
            i for i in range(len(group.variables)) if group.offsets[i] == part.start and group.offsets[i + 1] == part.stop
        )
        variable = group.variables[index]
        adam = self._uses_adam(variable)
        p = group.params[part]
        decay = self.adam_weight_decay if adam else self.weight_decay
        if decay and not self._excluded(variable):
            p -= (decay * lr) * p
        state = {k: s[part] for k, s in group.state.items()}
        g, tmp = group.grads[part], group.scratch[part]
        if adam:
            self._adam(p, g, state["m"], state["v"], tmp, lr * self.adam_lr_ratio)
        else:
            self._muon(p.reshape(variable.shape), g.reshape(variable.shape), state["m"].reshape(variable.shape), lr)
        if self.use_ema:
            self._moving_average(state["ema"], p)
        _flush_subnormals(state, tmp)

    def _adam(self, p, g, m, v, tmp, lr: float) -> None:
        xp = array_module(p)
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.adam_beta_2**t) / (1 - self.adam_beta_1**t)
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - self.adam_beta_1
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.adam_beta_2
        v += tmp
        xp.sqrt(v, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= alpha
        p -= tmp

    def _muon(self, p, g, m, lr: float) -> None:
        m *= self.momentum
        m += g
        u = g + self.momentum * m if self.nesterov else m
        step = _newton_schulz5(u, self.ns_steps, self.muon_a, self.muon_b, self.muon_c)
        scale = lr
        if self.rms_rate is not None:
            scale *= math.sqrt(max(p.shape[0], p.shape[1])) * self.rms_rate
        p -= (step * scale).astype(p.dtype, copy=False)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": list(self.exclude_layers),
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }


@REGISTRY.register("ScheduleFreeAdamW", aliases=("schedulefreeadamw", "schedule_free_adamw"))
class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Defazio et al., 2024): no learning-rate schedule, an average of iterates instead.

    State: z (starts as the weights) and Adam's v. With t the step and lr warmed up linearly
    over ``warmup_steps``: v <- v + (1 - b2)(g^2 - v);  z' = z - lr g / (sqrt(v / (1 - b2^t)) + eps);
    x = (y - (1 - b1) z') / b1;  x' = (1 - 1/t) x + z' / t;  y <- (1 - b1) z' + b1 x'
    (y the weights, which the gradients are taken at). x is recovered from z' (after the step)
    as Keras 3.15 computes it, where the paper's form uses z: the two agree on the first step
    and drift apart after. Weight decay, when set, is Keras's decoupled decay before the step.

    Example:
        >>> opt = ScheduleFreeAdamW(); opt.learning_rate, opt.beta_1, opt.epsilon, opt.warmup_steps
        (0.0025, 0.9, 1e-08, 0)
    """

    slots = ("z", "v")

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
        **kwargs,
    ):
        self.beta_1 = _check_beta("ScheduleFreeAdamW", "beta_1", beta_1)
        self.beta_2 = _check_beta("ScheduleFreeAdamW", "beta_2", beta_2)
        if not self.beta_1 > 0:
            raise ValueError(f"ScheduleFreeAdamW: beta_1 must be in (0, 1), got {beta_1}")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, numbers.Integral) or warmup_steps < 0:
            raise ValueError(f"ScheduleFreeAdamW: warmup_steps must be a non-negative integer, got {warmup_steps!r}")
        self.epsilon, self.warmup_steps = float(epsilon), int(warmup_steps)
        super().__init__(learning_rate, **kwargs)

    def build(self, variables) -> None:
        """As the base class, with z starting at the weights (Keras's)."""
        super().build(variables)
        for group in self._groups:
            group.state["z"][...] = group.params

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        t = self.iterations + 1
        if self.warmup_steps > 0:
            lr = lr * min(t / self.warmup_steps, 1.0)
        z, v = state["z"], state["v"]
        b1 = self.beta_1
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        xp.divide(v, 1 - self.beta_2**t, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        xp.divide(g, tmp, out=tmp)
        tmp *= lr
        z -= tmp
        # x, the averaged iterate, recovered from the weights y as Keras 3.15 does: with z after its update
        # (its momentum_old aliases the variable that assign_sub changes in place; the paper's uses z before).
        x = (p - (1 - b1) * z) / b1
        weight = 1.0 / t
        x *= 1 - weight
        x += weight * z
        xp.multiply(z, 1 - b1, out=p)
        p += b1 * x

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }


__all__ = ["Muon", "ScheduleFreeAdamW"]
