"""Level 4: optimizers with Keras's names, defaults and update rules.

The first update *builds* an optimizer for its list of variables: it packs the variables of
each dtype into one contiguous buffer, so that every ``Tensor.data`` becomes a view into it,
and keeps the gradients and the per-variable state (moments, velocities) in buffers laid
out the same way. One step is then a handful of vectorised operations over all parameters at
once, in place, with no allocation; a step where some variable has no gradient applies the
same rule to each variable's slice instead and leaves that variable alone.

Order of a step (as Keras 3): clip the gradients (``clipnorm`` per variable,
``global_clipnorm`` over all, or ``clipvalue`` elementwise), decay the weights
(``weight_decay``), apply the rule, update the moving average (``use_ema``).

Example:
    >>> from myelin import Tensor, optimizers
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> opt = optimizers.SGD(learning_rate=0.1)
    >>> opt.apply_gradients([(w.grad, w)])
    >>> w.data
    array([0.8, 1.6], dtype=float32)
"""

# Over 800 lines because the shared bookkeeping (flat buffers, clipping, decay, moving average, gradient
# accumulation, loss scaling, state) and the rules that use it are read together; schedules live beside it.
from __future__ import annotations

import math
import numbers

from .. import native
from ..backend import array_module
from ..registry import Registry
from ..tensor import Tensor
from . import schedules
from .schedules import LearningRateSchedule

REGISTRY = Registry("optimizer")


def _flush_subnormals(state: dict, tmp, only: tuple | None = None) -> None:
    """Set every subnormal value of the state slots (or of the slots named in ``only``) to +0, in place.

    Optimizer state of weights that stop learning (dead relu units) decays geometrically and
    would otherwise sit among the subnormal numbers for ever, where arithmetic is many times
    slower on x86 CPUs. XLA flushes them too; the native kernels flush the same values.

    Example:
        >>> import numpy as np
        >>> state = {"m": np.array([1e-40, -1e-39, 1e-30, 0.5], dtype=np.float32)}
        >>> _flush_subnormals(state, np.empty(4, np.float32)); state["m"].tolist()
        [0.0, 0.0, 1.0000000031710769e-30, 0.5]
    """
    for name, values in state.items():
        if only is not None and name not in only:
            continue
        xp = array_module(values)
        xp.abs(values, out=tmp)
        values[tmp < xp.finfo(values.dtype).tiny] = 0


# Slots after each gradient buffer's end that data-parallel training fills with this process's loss
# sum, sample count and an end-of-data flag, so that one allreduce per step carries them all.
SPARE_SLOTS = 3


class _Group:
    """The variables of one dtype: a flat buffer of their values, their gradients and each state slot.

    ``wire`` is the gradient buffer followed by ``SPARE_SLOTS`` spare values (``grads`` is a
    view of its head): what a data-parallel step sends to the other processes in one call.
    """

    def __init__(self, variables: list[Tensor], slots: tuple[str, ...], initial: dict):
        self.variables = variables
        xp = array_module(variables[0].data)
        dtype = variables[0].data.dtype
        sizes = [v.data.size for v in variables]
        self.offsets = [0]
        for s in sizes:
            self.offsets.append(self.offsets[-1] + s)
        total = self.offsets[-1]
        self.params = xp.empty(total, dtype=dtype)
        for v, start, stop in zip(variables, self.offsets, self.offsets[1:]):
            self.params[start:stop] = v.data.reshape(-1)
            v.data = self.params[start:stop].reshape(v.data.shape)  # the variable is now a view
        self.wire = xp.zeros(total + SPARE_SLOTS, dtype=dtype)
        self.grads = self.wire[:total]
        # Each variable's slice of the gradient buffer, in the variable's shape: filled once per step.
        self.grad_views = [self.grads[a:b].reshape(v.data.shape) for v, a, b in zip(variables, self.offsets, self.offsets[1:])]
        self.scratch = xp.empty(total, dtype=dtype)
        self.state = {name: xp.full(total, initial.get(name, 0.0), dtype=dtype) for name in slots}
        self.decay_mask = None  # 1 where weight decay applies, when some variables are excluded

    def view(self, flat, i: int):
        """Variable ``i``'s slice of a flat buffer."""
        return flat[self.offsets[i] : self.offsets[i + 1]]


def _special_variables(variables: list) -> tuple[list, list]:
    """The variables the optimizer treats apart: overwritten with their gradient, and constrained after the step."""
    overwrite = [v for v in variables if getattr(v, "overwrite_with_gradient", False)]
    constrained = [v for v in variables if getattr(v, "constraint", None) is not None]
    return overwrite, constrained


class Optimizer:
    """Base class: bookkeeping shared by every algorithm; subclasses define ``_rule``.

    Arguments (Keras's): ``learning_rate`` (float or schedule), ``weight_decay``,
    ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``, ``ema_momentum``,
    ``ema_overwrite_frequency``, ``loss_scale_factor`` (``fit`` differentiates the loss times
    it, the update divides the gradients by it), ``gradient_accumulation_steps`` (N calls add
    up their gradients; every Nth applies their mean), ``name``.

    Example:
        >>> opt = SGD(0.01)
        >>> opt.learning_rate
        0.01
    """

    slots: tuple[str, ...] = ()
    _per_variable, _variable_shape = False, ()  # True: the rule runs per variable, its shape set (Lamb)
    # Set by data-parallel training (myelin.trainers.distributed) for the length of a fit: called
    # with the groups once their flat gradient buffers are filled, before clipping and the update;
    # when it returns False (every process found the global loss not finite) the update is skipped.
    _gradient_reducer = None

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name: str | None = None,
        **kwargs,
    ):
        if kwargs:
            unknown = ", ".join(sorted(kwargs))
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {unknown}")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm and global_clipnorm can be set")
        for arg, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm)):
            if value is not None and not value > 0:
                raise ValueError(f"{type(self).__name__}: {arg} must be > 0, got {value}")
        if not 0 <= ema_momentum <= 1:
            raise ValueError(f"{type(self).__name__}: ema_momentum must be in [0, 1], got {ema_momentum}")
        for arg, value in (
            ("ema_overwrite_frequency", ema_overwrite_frequency),
            ("gradient_accumulation_steps", gradient_accumulation_steps),
        ):
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
                raise ValueError(f"{type(self).__name__}: {arg} must be a positive integer or None, got {value!r}")
        if loss_scale_factor is not None and (
            isinstance(loss_scale_factor, bool) or not isinstance(loss_scale_factor, numbers.Real) or not loss_scale_factor > 0
        ):
            raise ValueError(
                f"{type(self).__name__}: loss_scale_factor must be a positive number or None, got {loss_scale_factor!r}"
            )
        self._learning_rate = self._check_learning_rate(learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum, self.ema_overwrite_frequency = use_ema, ema_momentum, ema_overwrite_frequency
        self.loss_scale_factor = None if loss_scale_factor is None else float(loss_scale_factor)
        self.gradient_accumulation_steps = None if gradient_accumulation_steps is None else int(gradient_accumulation_steps)
        self.name = name or type(self).__name__.lower()
        self._iterations = 0  # calls that applied gradients (or, accumulating, added them up)
        self._groups: list[_Group] | None = None
        self._special: tuple | None = None
        self._where: dict[int, tuple[_Group, int]] = {}
        self._variables: list[Tensor] = []
        self._exclude_names: tuple[str, ...] = ()
        self._exclude_ids: set[int] = set()

    @property
    def iterations(self) -> int:
        """Updates made: the calls, or with ``gradient_accumulation_steps=N`` the calls // N (Keras's).

        Adam's bias correction and the moving average count these; a learning-rate schedule
        counts the calls, as in Keras.

        Example:
            >>> w = Tensor([1.0], requires_grad=True)
            >>> opt = SGD(0.1, gradient_accumulation_steps=2)
            >>> for _ in range(5): opt.apply([[1.0]], [w])
            >>> opt.iterations
            2
        """
        steps = self.gradient_accumulation_steps
        return self._iterations // steps if steps else self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = int(value) * (self.gradient_accumulation_steps or 1)

    # ------------------------------------------------------------------ learning rate
    def _check_learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or callable(value):
            return value
        value = float(value)
        if not value >= 0 or math.isinf(value):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative number or a schedule, got {value}")
        return value

    @property
    def learning_rate(self) -> float:
        """The current learning rate (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return float(lr(self._iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if callable(self._learning_rate) and not callable(value):
            raise TypeError(
                f"{type(self).__name__}: learning_rate follows a {type(self._learning_rate).__name__} schedule "
                "and cannot be set to a number; build a new optimizer instead"
            )
        self._learning_rate = self._check_learning_rate(value)

    @property
    def learning_rate_schedule(self):
        """The schedule object, or None when the learning rate is a number."""
        return self._learning_rate if callable(self._learning_rate) else None

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        return self._groups is not None

    @property
    def variables(self) -> list[Tensor]:
        """The variables this optimizer updates, in the order it was built with."""
        return list(self._variables)

    def build(self, variables: list[Tensor]) -> None:
        """Pack ``variables`` into flat buffers and create the state (zeros, or Keras's initial values)."""
        variables = list(variables)
        if len({id(v) for v in variables}) != len(variables):
            raise ValueError(f"{type(self).__name__}: the same variable appears twice in the list to optimize")
        by_dtype: dict = {}
        for v in variables:
            if not isinstance(v, Tensor):
                raise TypeError(f"{type(self).__name__}: variables must be Tensors, got {type(v).__name__}")
            by_dtype.setdefault((array_module(v.data).__name__, v.data.dtype.str), []).append(v)
        self._groups = [_Group(vs, self._all_slots(), self._initial_state()) for vs in by_dtype.values()]
        self._where = {id(v): (g, i) for g in self._groups for i, v in enumerate(g.variables)}
        self._variables = [v for g in self._groups for v in g.variables]
        self._special = None  # (overwrite_with_gradient variables, constrained variables), found on the first step
        self._refresh_decay_masks()

    def _all_slots(self) -> tuple[str, ...]:
        extra = (("ema",) if self.use_ema else ()) + (("accumulated_grad",) if self.gradient_accumulation_steps else ())
        return self.slots + extra

    def scale_loss(self, loss):
        """``loss`` times ``loss_scale_factor`` (unchanged when None): what a custom step differentiates.

        The optimizer divides the gradients by the same factor before using them, as Keras's does.

        Example:
            >>> SGD(loss_scale_factor=4.0).scale_loss(0.5)
            2.0
        """
        if self.loss_scale_factor is None:
            return loss
        return loss * self.loss_scale_factor

    def _initial_state(self) -> dict:
        return {}

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Keep weight decay off these variables, or off variables whose name contains any of ``var_names``.

        Example:
            >>> opt = AdamW(); opt.exclude_from_weight_decay(var_names=["bias"])
        """
        self._exclude_ids |= {id(v) for v in var_list or ()}
        self._exclude_names += tuple(var_names or ())
        self._refresh_decay_masks()

    def _excluded(self, v: Tensor) -> bool:
        return id(v) in self._exclude_ids or any(n in (v.name or "") for n in self._exclude_names)

    def _refresh_decay_masks(self) -> None:
        for g in self._groups or ():
            excluded = [self._excluded(v) for v in g.variables]
            if any(excluded):
                g.decay_mask = array_module(g.params).ones_like(g.params)
                for i, ex in enumerate(excluded):
                    if ex:
                        g.view(g.decay_mask, i)[...] = 0
            else:
                g.decay_mask = None

    # ------------------------------------------------------------------ applying
    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's call: a list of ``(gradient, variable)`` pairs.

        Example:
            >>> w = Tensor([1.0], requires_grad=True)
            >>> SGD(0.5).apply_gradients([([2.0], w)]); w.data
            array([0.], dtype=float32)
        """
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, variables=None) -> None:
        """Apply ``grads`` to ``variables`` (default: the variables built with), one step.

        Example:
            >>> w = Tensor([1.0], requires_grad=True)
            >>> opt = SGD(0.5); opt.apply([[2.0]], [w]); w.data
            array([0.], dtype=float32)
        """
        if variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply: pass the variables on the first call")
            variables = self.variables
        variables = list(variables)
        grads = list(grads)
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}.apply: {len(grads)} gradients for {len(variables)} variables")
        if not self.built:
            self.build(variables)
        pending = {}
        for g, v in zip(grads, variables):
            if id(v) not in self._where:
                raise ValueError(
                    f"{type(self).__name__}: unknown variable {v.name or tuple(v.shape)}: this optimizer was built for "
                    f"{len(self._where)} other variables and can only update those"
                )
            if g is not None:
                g = g.data if isinstance(g, Tensor) else array_module(v.data).asarray(g, dtype=v.data.dtype)
                if g.shape != v.data.shape:
                    raise ValueError(
                        f"{type(self).__name__}: gradient of shape {g.shape} for variable "
                        f"{v.name or ''} of shape {v.data.shape}"
                    )
                pending[id(v)] = g
        self._step(pending)

    def step(self, variables=None) -> None:
        """One update from each variable's ``.grad`` (PyTorch's call); variables without one are left alone.

        Example:
            >>> w = Tensor([3.0], requires_grad=True)
            >>> (w * w).sum().backward()
            >>> opt = SGD(0.5); opt.step([w]); w.data
            array([0.], dtype=float32)
        """
        if variables is not None and not self.built:
            self.build(variables)
        if not self.built:
            raise ValueError(f"{type(self).__name__}.step: pass the variables on the first call")
        if variables is not None:
            for v in variables:
                if id(v) not in self._where:
                    raise ValueError(f"{type(self).__name__}: unknown variable {v.name or tuple(v.shape)}")
        self._step({id(v): v.grad for v in self._variables if v.grad is not None})

    def grad_buffers(self, variables) -> list:
        """For each variable, the array its gradient is copied into before the update (None: not built, or unknown).

        A recorded step (``Trainer._step``) writes gradients straight into these, and the
        update then reads them where they are instead of copying them.

        Example:
            >>> w = Tensor([1.0, 2.0], requires_grad=True)
            >>> opt = SGD(0.1); opt.build([w])
            >>> opt.grad_buffers([w])[0].shape
            (2,)
        """
        where = {id(v): view for group in self._groups or () for v, view in zip(group.variables, group.grad_views)}
        return [where.get(id(v)) for v in variables]

    def zero_grad(self) -> None:
        """Forget every variable's gradient (``.grad = None``) before the next backward."""
        for v in self._variables:
            v.grad = None

    def _step(self, grads: dict) -> None:
        if self._special is None:
            self._special = _special_variables(self._variables)
        overwrite, constrained = self._special
        if overwrite and self.gradient_accumulation_steps:
            raise ValueError(
                f"{type(self).__name__}: gradient_accumulation_steps cannot be combined with variables whose "
                f"overwrite_with_gradient is set ({', '.join(v.name or '?' for v in overwrite)}): myelin does not "
                "accumulate their values; train them without gradient accumulation"
            )
        for v in overwrite:  # Keras's overwrite_with_gradient: the gradient is the new value
            g = grads.pop(id(v), None)
            if g is not None:
                v.data[...] = g
        self._update(grads)
        for v in constrained:  # Keras applies each weight's constraint after the update
            v.data[...] = v.constraint(v.data)

    def _update(self, grads: dict) -> None:
        lr = self.learning_rate
        steps = self.gradient_accumulation_steps
        # Keras: with gradient_accumulation_steps=N, N-1 calls add their gradients up and the Nth
        # applies their mean; every call counts an iteration and moves the moving average.
        applying = not steps or (self._iterations + 1) % steps == 0
        counts = []
        for group in self._groups:
            present = 0
            for v, view in zip(group.variables, group.grad_views):
                g = grads.get(id(v))
                if g is None:
                    view.fill(0)
                else:
                    if g is not view:  # (a replayed step may have written it there: grad_buffers)
                        view[...] = g
                    present += 1
            counts.append(present)
        # data-parallel: the sum over processes, before clipping; False: skipped alike on every process
        if self._gradient_reducer is not None and self._gradient_reducer(self._groups) is False:
            return  # no update, no iteration counted
        for group, present in zip(self._groups, counts):
            if not present:
                continue
            if self.loss_scale_factor is not None:  # the loss was scaled by it (scale_loss): unscale
                group.grads /= self.loss_scale_factor
            if steps:
                acc = group.state["accumulated_grad"]
                if not applying:
                    acc += group.grads
                    if self.use_ema:
                        self._moving_average(group.state["ema"], group.params)
                    continue
                group.grads += acc
                group.grads /= steps
                acc.fill(0)
            self._clip(group)
            if present == len(group.variables) and not self._per_variable:
                self._decay_and_apply(group, None, lr)
            else:
                for i, v in enumerate(group.variables):
                    if id(v) in grads:
                        self._variable_shape = tuple(v.data.shape)
                        self._decay_and_apply(group, slice(group.offsets[i], group.offsets[i + 1]), lr)
        self._iterations += 1

    def _clip(self, group: _Group) -> None:
        xp = array_module(group.grads)
        g = group.grads
        if self.clipnorm:
            for i in range(len(group.variables)):
                part = group.view(g, i)
                norm = float(xp.sqrt((part * part).sum()))
                if norm > self.clipnorm:
                    part *= self.clipnorm / norm
        elif self.global_clipnorm:
            norm = math.sqrt(sum(float((gr.grads * gr.grads).sum()) for gr in self._groups))
            if norm > self.global_clipnorm:
                g *= self.global_clipnorm / norm
        elif self.clipvalue:
            xp.clip(g, -self.clipvalue, self.clipvalue, out=g)

    def _decay_and_apply(self, group: _Group, part: slice | None, lr: float) -> None:
        """Weight decay, the rule and the moving average on all of ``group`` (part None) or a slice of it."""
        whole = part is None
        p = group.params if whole else group.params[part]
        if self.weight_decay:
            # p <- p - p * weight_decay * lr, before the rule (Keras 3 and decoupled AdamW)
            factor = self.weight_decay * lr
            if group.decay_mask is None:
                p -= factor * p
            else:
                p -= factor * p * (group.decay_mask if whole else group.decay_mask[part])
        if whole:
            state, g, tmp = group.state, group.grads, group.scratch
        else:
            state, g, tmp = {k: s[part] for k, s in group.state.items()}, group.grads[part], group.scratch[part]
        flushed = self._rule(p, g, state, tmp, lr)
        if self.use_ema:
            self._moving_average(state["ema"], p)
        _flush_subnormals(state, tmp, ("ema",) if flushed else None)

    def _moving_average(self, ema, p) -> None:
        """Keras's EMA of the weights: the weights themselves at the first step; optionally copied back."""
        if self.iterations == 0:
            ema[...] = p
        else:
            ema *= self.ema_momentum
            ema += (1 - self.ema_momentum) * p
        if self.ema_overwrite_frequency and (self.iterations + 1) % self.ema_overwrite_frequency == 0:
            p[...] = ema

    def _rule(self, p, g, state: dict, tmp, lr: float) -> bool | None:
        """Update ``p`` in place from gradient ``g``; ``tmp`` is scratch space of the same shape.

        Returns True when a compiled kernel did the update and already flushed the rule's
        state slots (``myelin/_native.c``); otherwise the base class flushes them.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _rule")

    def finalize_variable_values(self) -> None:
        """With ``use_ema``, copy the moving averages into the variables (fit does this at the end)."""
        if self.use_ema and self.built:
            for group in self._groups:
                group.params[...] = group.state["ema"]

    # ------------------------------------------------------------------ state and config
    def get_state(self) -> dict:
        """Iterations and every state slot, as flat arrays keyed ``"<dtype index>/<slot>"``."""
        state = {"iterations": self._iterations}
        for k, group in enumerate(self._groups or ()):
            for name, arr in group.state.items():
                state[f"{k}/{name}"] = arr
        return state

    def set_state(self, state: dict) -> None:
        """Restore what :meth:`get_state` returned (the optimizer must be built for the same variables)."""
        if not self.built:
            raise ValueError(f"{type(self).__name__}.set_state: build the optimizer (or train one step) first")
        self._iterations = int(state["iterations"])
        for k, group in enumerate(self._groups):
            for name, arr in group.state.items():
                key = f"{k}/{name}"
                if key not in state:
                    raise ValueError(f"{type(self).__name__}.set_state: missing state {key!r}")
                if tuple(state[key].shape) != arr.shape:
                    raise ValueError(
                        f"{type(self).__name__}.set_state: state {key!r} has shape {tuple(state[key].shape)}, "
                        f"expected {arr.shape}"
                    )
                arr[...] = state[key]

    def get_variable_state(self, variable: Tensor) -> dict:
        """Copies of one variable's state slots (``{"m": array, "v": array}`` for Adam), shaped like it.

        Empty before the first step. Saved files store optimizer state per variable with this,
        so that they do not depend on how the optimizer lays out its buffers.

        Example:
            >>> w = Tensor([1.0, 2.0], requires_grad=True)
            >>> opt = Adam(); opt.apply([[0.5, 0.5]], [w])
            >>> sorted(opt.get_variable_state(w))
            ['m', 'v']
        """
        if not self.built:
            return {}
        group, i = self._variable_slot(variable)
        return {name: group.view(arr, i).reshape(variable.shape).copy() for name, arr in group.state.items()}

    def set_variable_state(self, variable: Tensor, state: dict) -> None:
        """Overwrite one variable's state slots from arrays shaped like it (the optimizer must be built).

        Example:
            >>> w = Tensor([1.0, 2.0], requires_grad=True)
            >>> opt = SGD(0.1, momentum=0.9); opt.build([w])
            >>> opt.set_variable_state(w, {"momentum": [0.5, 0.5]})
            >>> opt.get_variable_state(w)["momentum"]
            array([0.5, 0.5], dtype=float32)
        """
        if not self.built:
            raise ValueError(f"{type(self).__name__}.set_variable_state: build the optimizer (or train one step) first")
        group, i = self._variable_slot(variable)
        if set(state) != set(group.state):
            raise ValueError(
                f"{type(self).__name__}.set_variable_state: state for {variable.name or 'the variable'} has slots "
                f"{sorted(state)}, expected {sorted(group.state)}"
            )
        xp = array_module(group.params)
        for name, value in state.items():
            value = xp.asarray(value, dtype=group.params.dtype)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"{type(self).__name__}.set_variable_state: slot {name!r} has shape {tuple(value.shape)}, "
                    f"expected {tuple(variable.shape)} (the shape of {variable.name or 'the variable'})"
                )
            group.view(group.state[name], i)[...] = value.reshape(-1)

    def _variable_slot(self, variable: Tensor) -> tuple:
        try:
            return self._where[id(variable)]
        except KeyError:
            raise ValueError(
                f"{type(self).__name__}: unknown variable {variable.name or tuple(variable.shape)}: "
                f"this optimizer was built for {len(self._where)} other variables"
            ) from None

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict) -> Optimizer:
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.get(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} learning_rate={self._learning_rate!r}>"


@REGISTRY.register("SGD", aliases=("sgd",))
class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    Without momentum: p <- p - lr * g.
    With momentum m:  v <- m * v - lr * g;  p <- p + v,
    or, Nesterov:     p <- p + m * v - lr * g.

    Example:
        >>> SGD().learning_rate, SGD().momentum
        (0.01, 0.0)
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False, **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slots = ("momentum",) if momentum else ()
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        velocity = state["momentum"] if self.momentum else None
        if native.sgd(p, g, velocity, lr, self.momentum, self.nesterov):
            return True  # the same operations in one compiled pass, state flushed (myelin/_native.c)
        xp = array_module(p)
        if not self.momentum:
            xp.multiply(g, lr, out=tmp)
            p -= tmp
            return
        v = state["momentum"]
        v *= self.momentum
        xp.multiply(g, lr, out=tmp)
        v -= tmp
        if self.nesterov:
            p -= tmp
            xp.multiply(v, self.momentum, out=tmp)
        else:
            tmp[...] = v
        p += tmp

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


@REGISTRY.register("Adam", aliases=("adam",))
class Adam(Optimizer):
    """Adam (Kingma & Ba), in Keras's form, with optional AMSGrad.

    t <- t + 1;  m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)
    a = lr * sqrt(1 - b2^t) / (1 - b1^t)
    p <- p - a * m / (sqrt(v) + eps)      (AMSGrad: v replaced by its running maximum)

    Example:
        >>> opt = Adam(); opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon
        (0.001, 0.9, 0.999, 1e-07)
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs,
    ):
        for arg, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= value < 1:
                raise ValueError(f"{type(self).__name__}: {arg} must be in [0, 1), got {value}")
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), bool(amsgrad)
        self.slots = ("m", "v", "vhat") if amsgrad else ("m", "v")
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        m, v = state["m"], state["v"]
        if not self.amsgrad and native.adam(p, g, m, v, 1 - self.beta_1, 1 - self.beta_2, self.epsilon, alpha):
            return True  # the same operations in one compiled pass, state flushed (myelin/_native.c)
        xp = array_module(p)
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - self.beta_1
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        if self.amsgrad:
            xp.maximum(state["vhat"], v, out=state["vhat"])
            v = state["vhat"]
        xp.sqrt(v, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= alpha
        p -= tmp

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "amsgrad": self.amsgrad,
        }


@REGISTRY.register("AdamW", aliases=("adamw",))
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p <- p - lr * wd * p, then Adam.

    Example:
        >>> AdamW().weight_decay
        0.004
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs,
    ):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number (use Adam for none)")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


@REGISTRY.register("RMSprop", aliases=("rmsprop",))
class RMSprop(Optimizer):
    """RMSprop in Keras's form (epsilon inside the square root).

    s <- rho s + (1 - rho) g^2;   centered: a <- rho a + (1 - rho) g, d = s - a^2 + eps;  else d = s + eps
    step = lr * g / sqrt(d);      momentum mu: v <- mu v + step, p <- p - v;  else p <- p - step

    Example:
        >>> opt = RMSprop(); opt.rho, opt.momentum, opt.epsilon
        (0.9, 0.0, 1e-07)
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs,
    ):
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), bool(centered)
        self.slots = ("velocity",) + (("average_gradient",) if centered else ()) + (("momentum",) if momentum else ())
        super().__init__(learning_rate, **kwargs)

    def _rule(self, p, g, state, tmp, lr):
        velocity = state["momentum"] if self.momentum else None
        if not self.centered and native.rmsprop(
            p, g, state["velocity"], velocity, self.rho, 1 - self.rho, self.epsilon, lr, self.momentum
        ):
            return True  # the same operations in one compiled pass, state flushed (myelin/_native.c)
        xp = array_module(p)
        s = state["velocity"]
        s *= self.rho
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - self.rho
        s += tmp
        if self.centered:
            a = state["average_gradient"]
            a *= self.rho
            a += (1 - self.rho) * g
            xp.multiply(a, a, out=tmp)
            xp.subtract(s, tmp, out=tmp)
        else:
            tmp[...] = s
        tmp += self.epsilon
        xp.sqrt(tmp, out=tmp)
        xp.divide(g, tmp, out=tmp)
        tmp *= lr
        if self.momentum:
            v = state["momentum"]
            v *= self.momentum
            v += tmp
            p -= v
        else:
            p -= tmp

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


@REGISTRY.register("Adagrad", aliases=("adagrad",))
class Adagrad(Optimizer):
    """Adagrad: s <- s + g^2;  p <- p - lr * g / sqrt(s + eps); s starts at ``initial_accumulator_value``.

    Example:
        >>> opt = Adagrad(); opt.initial_accumulator_value, opt.epsilon
        (0.1, 1e-07)
    """

    slots = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7, **kwargs):
        if initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0, got {initial_accumulator_value}")
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _initial_state(self) -> dict:
        return {"accumulator": self.initial_accumulator_value}

    def _rule(self, p, g, state, tmp, lr):
        xp = array_module(p)
        s = state["accumulator"]
        xp.multiply(g, g, out=tmp)
        s += tmp
        xp.add(s, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        xp.divide(g, tmp, out=tmp)
        tmp *= lr
        p -= tmp

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


def get(identifier) -> Optimizer:
    """Resolve an optimizer: a name ("adam", "sgd", ...) with Keras's defaults, or an instance.

    Example:
        >>> type(get("adam")).__name__
        'Adam'
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return REGISTRY.lookup(identifier)()
    raise TypeError(f"optimizer must be a name or an Optimizer, got {type(identifier).__name__}: {identifier!r}")


def serialize(obj) -> dict:
    """Keras's dict for one of these objects: ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(Lion(0.01))["config"]["learning_rate"]
        0.01
    """
    from ..serialization import serialize_keras_object  # noqa: PLC0415  (it imports this module)

    return serialize_keras_object(obj)


def deserialize(config, custom_objects: dict | None = None):
    """The object :func:`serialize`'s dict (or Keras's) describes, or the one a name gives.

    Example:
        >>> type(deserialize("nadam")).__name__
        'Nadam'
    """
    from ..serialization import deserialize_in  # noqa: PLC0415

    return deserialize_in(REGISTRY, config, custom_objects, instantiate_names=True)


from .algorithms import Adadelta, Adafactor, Adamax, Ftrl, Lamb, Lion, Nadam  # noqa: E402  (they subclass Optimizer)
from .loss_scale_optimizer import LossScaleOptimizer  # noqa: E402  (it subclasses Optimizer)
from .multi_optimizer import MultiOptimizer, OptimizerMap  # noqa: E402  (one optimizer per group of variables)
from .orthogonal import Muon, ScheduleFreeAdamW  # noqa: E402  (they subclass Optimizer)

__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
__all__ += ["MultiOptimizer", "Muon", "OptimizerMap", "ScheduleFreeAdamW"]
