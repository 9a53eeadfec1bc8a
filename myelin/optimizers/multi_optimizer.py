"""Keras's ``OptimizerMap`` and ``MultiOptimizer``: one optimizer per group of variables.

An ``OptimizerMap`` maps variable names ("encoder/dense/kernel", myelin's names and Keras's
paths) to optimizers: an exact key first, then the keys as regular expressions
(``re.fullmatch``; two matching keys are an error), else the default optimizer. A
``MultiOptimizer`` built on it (or on any function from a variable to an optimizer) hands
each variable to its optimizer: every inner optimizer packs and updates only its own
variables, with its own state, learning rate and iteration count.

Example:
    >>> from myelin import Tensor, optimizers
    >>> a = Tensor([1.0], requires_grad=True, name="encoder/w")
    >>> b = Tensor([1.0], requires_grad=True, name="head/w")
    >>> opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(0.5), {"encoder/.*": optimizers.SGD(0.1)}))
    >>> opt.apply([[1.0], [1.0]], [a, b])
    >>> a.data, b.data
    (array([0.9], dtype=float32), array([0.5], dtype=float32))
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping

from . import REGISTRY, Optimizer


def _check_inner(optimizer, what: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{what} must be a myelin Optimizer, got {type(optimizer).__name__}: {optimizer!r}")
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError(f"{what} cannot be a MultiOptimizer")
    if type(optimizer).__name__ == "LossScaleOptimizer":
        raise ValueError(f"{what} cannot be a LossScaleOptimizer")


class OptimizerMap(MutableMapping):
    """A mapping from variable names (or regular expressions over them) to optimizers, with a default.

    Example:
        >>> from myelin import optimizers
        >>> m = OptimizerMap(optimizers.RMSprop())
        >>> m["encoder/.*"] = optimizers.SGD()
        >>> m["decoder"] = optimizers.Adam()
        >>> m["encoder/dense/kernel"].name, m["decoder"].name, m["decoder/dense"].name
        ('sgd', 'adam', 'rmsprop')
    """

    def __init__(self, default_optimizer: Optimizer, optimizer_map: dict | None = None):
        _check_inner(default_optimizer, "OptimizerMap: default_optimizer")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: optimizer_map must be a dict, got {type(optimizer_map).__name__}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict = {}
        for key, opt in (optimizer_map or {}).items():
            self[key] = opt

    @property
    def default_optimizer(self) -> Optimizer:
        """The optimizer of every variable that no key matches."""
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"OptimizerMap: variable {key!r} matches several keys {matching}; keep one")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: a key must be a string (a variable name or a pattern), got {key!r}")
        if key in self._optimizer_map:
            raise ValueError(f"OptimizerMap: {key!r} is already mapped to {self._optimizer_map[key]!r}")
        _check_inner(optimizer, f"OptimizerMap: the optimizer for {key!r}")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable) -> Optimizer:
        return self[variable.name or ""]

    def get_config(self) -> dict:
        from . import serialize  # noqa: PLC0415

        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> OptimizerMap:
        """Rebuild from :meth:`get_config`'s dict."""
        from . import deserialize  # noqa: PLC0415

        default = deserialize(config["default_optimizer"], custom_objects)
        mapping = {k: deserialize(v, custom_objects) for k, v in (config.get("optimizer_map") or {}).items()}
        return cls(default, mapping)


@REGISTRY.register("MultiOptimizer")
class MultiOptimizer(Optimizer):
    """Delegates each variable to the optimizer an ``OptimizerMap`` (or a function of the variable) gives it.

    ``loss_scale_factor`` replaces the inner optimizers' own. There is no learning rate of
    its own: ``learning_rate`` raises, as Keras's does; use ``optimizers`` to reach the inner
    ones. ``iterations`` counts this optimizer's updates.

    Example:
        >>> from myelin import optimizers
        >>> opt = MultiOptimizer(OptimizerMap(optimizers.Adam(), {".*bias": optimizers.SGD()}))
        >>> [o.name for o in opt.optimizers]
        ['sgd', 'adam']
    """

    def __init__(self, optimizer_map, loss_scale_factor: float | None = None, name: str | None = None):
        if not isinstance(optimizer_map, OptimizerMap) and not callable(optimizer_map):
            raise TypeError(
                "MultiOptimizer: optimizer_map must be an OptimizerMap or a function from a variable to an optimizer, "
                f"got {type(optimizer_map).__name__}"
            )
        self._inner: list[Optimizer] = []
        self._owner: dict[int, int] | None = None
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        if isinstance(optimizer_map, OptimizerMap):
            for opt in [*optimizer_map.values(), optimizer_map.default_optimizer]:
                if all(opt is not o for o in self._inner):
                    opt.loss_scale_factor = self.loss_scale_factor
                    self._inner.append(opt)

    # The base class's attributes that belong to the inner optimizers here.
    @property
    def _groups(self):
        if self._owner is None:
            return None
        return [g for opt in self._inner if opt.built for g in opt._groups]

    @_groups.setter
    def _groups(self, value) -> None:
        if value is not None:
            raise AttributeError("MultiOptimizer: the inner optimizers hold the buffers")
        self._owner = None

    @property
    def _iterations(self) -> int:
        return self._calls

    @_iterations.setter
    def _iterations(self, value: int) -> None:
        # A restored count applies to every inner optimizer: each steps once per update of this one.
        self._calls = int(value)
        for opt in getattr(self, "_inner", ()):
            opt._iterations = int(value)

    @property
    def _gradient_reducer(self):
        return getattr(self, "_reducer", None)

    @_gradient_reducer.setter
    def _gradient_reducer(self, value) -> None:
        self._reducer = value
        for opt in self._inner:
            opt._gradient_reducer = value

    @property
    def loss_scale_factor(self) -> float | None:
        """The loss scale factor, shared with every inner optimizer."""
        return getattr(self, "_loss_scale", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value) -> None:
        self._loss_scale = value
        for opt in getattr(self, "_inner", ()):
            opt.loss_scale_factor = value

    @property
    def optimizers(self) -> list[Optimizer]:
        """The inner optimizers, in the order they were met."""
        return list(self._inner)

    @property
    def iterations(self) -> int:
        return self._calls

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = value

    @property
    def learning_rate(self):
        raise AttributeError("MultiOptimizer has no learning rate of its own: read or set it on MultiOptimizer.optimizers")

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        raise AttributeError("MultiOptimizer has no learning rate of its own: read or set it on MultiOptimizer.optimizers")

    @property
    def learning_rate_schedule(self):
        raise AttributeError("MultiOptimizer has no learning-rate schedule of its own: see MultiOptimizer.optimizers")

    def build(self, variables) -> None:
        """Give each variable to its optimizer and build each optimizer on its own variables."""
        variables = list(variables)
        if len({id(v) for v in variables}) != len(variables):
            raise ValueError("MultiOptimizer: the same variable appears twice in the list to optimize")
        owner, per_opt = {}, {}
        for v in variables:
            opt = self._optimizer_map(v)
            _check_inner(opt, f"MultiOptimizer: the optimizer for variable {v.name or tuple(v.shape)}")
            if all(opt is not o for o in self._inner):
                opt.loss_scale_factor = self.loss_scale_factor
                opt._gradient_reducer = self._gradient_reducer
                self._inner.append(opt)
            k = next(i for i, o in enumerate(self._inner) if o is opt)
            owner[id(v)] = k
            per_opt.setdefault(k, []).append(v)
        for k, vs in per_opt.items():
            self._inner[k].build(vs)
        self._owner = owner
        self._variables = variables
        self._where = {id(v): (None, 0) for v in variables}

    def _split(self, items, variables) -> dict:
        out: dict[int, tuple[list, list]] = {}
        for item, v in zip(items, variables):
            k = self._owner.get(id(v))
            if k is None:
                raise ValueError(
                    f"MultiOptimizer: unknown variable {v.name or tuple(v.shape)}: it was built for "
                    f"{len(self._owner)} other variables"
                )
            out.setdefault(k, ([], []))
            out[k][0].append(item)
            out[k][1].append(v)
        return out

    def apply(self, grads, variables=None) -> None:
        grads = list(grads)
        if variables is None:
            if not self.built:
                raise ValueError("MultiOptimizer.apply: pass the variables on the first call")
            variables = self._variables
        variables = list(variables)
        if len(grads) != len(variables):
            raise ValueError(f"MultiOptimizer.apply: {len(grads)} gradients for {len(variables)} variables")
        if not self.built:
            self.build(variables)
        for k, (gs, vs) in self._split(grads, variables).items():
            self._inner[k].apply(gs, vs)
        self._calls += 1

    def step(self, variables=None) -> None:
        if variables is not None and not self.built:
            self.build(variables)
        if not self.built:
            raise ValueError("MultiOptimizer.step: pass the variables on the first call")
        variables = self._variables if variables is None else list(variables)
        for k, (_, vs) in self._split(variables, variables).items():
            self._inner[k].step(vs)
        self._calls += 1

    def zero_grad(self) -> None:
        for opt in self._inner:
            opt.zero_grad()

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Pass the exclusion on to every inner optimizer."""
        for opt in self._inner:
            opt.exclude_from_weight_decay(var_list=var_list, var_names=var_names)

    def finalize_variable_values(self) -> None:
        for opt in self._inner:
            opt.finalize_variable_values()

    def get_state(self) -> dict:
        """Iterations and each inner optimizer's state, keyed ``"<optimizer index>:<its key>"``."""
        state = {"iterations": self._calls}
        for k, opt in enumerate(self._inner):
            for key, value in opt.get_state().items():
                state[f"{k}:{key}"] = value
        return state

    def set_state(self, state: dict) -> None:
        if not self.built:
            raise ValueError("MultiOptimizer.set_state: build the optimizer (or train one step) first")
        for k, opt in enumerate(self._inner):
            if opt.built:
                opt.set_state({key.split(":", 1)[1]: v for key, v in state.items() if key.startswith(f"{k}:")})
        self._calls = int(state["iterations"])

    def get_variable_state(self, variable) -> dict:
        if not self.built:
            return {}
        return self._inner[self._owner_of(variable)].get_variable_state(variable)

    def set_variable_state(self, variable, state: dict) -> None:
        if not self.built:
            raise ValueError("MultiOptimizer.set_variable_state: build the optimizer (or train one step) first")
        self._inner[self._owner_of(variable)].set_variable_state(variable, state)

    def _owner_of(self, variable) -> int:
        try:
            return self._owner[id(variable)]
        except KeyError:
            raise ValueError(f"MultiOptimizer: unknown variable {variable.name or tuple(variable.shape)}") from None

    def get_config(self) -> dict:
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise ValueError(
                "MultiOptimizer: a selector function cannot be written to a config; build it on an OptimizerMap to save it"
            )
        return {
            "optimizer_map": {"class_name": "OptimizerMap", "config": self._optimizer_map.get_config()},
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> MultiOptimizer:
        config = dict(config)
        spec = config.get("optimizer_map")
        if not isinstance(spec, dict) or spec.get("class_name") != "OptimizerMap":
            raise ValueError(f"MultiOptimizer.from_config: optimizer_map must be an OptimizerMap config, got {spec!r}")
        config["optimizer_map"] = OptimizerMap.from_config(spec["config"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<MultiOptimizer optimizers={[type(o).__name__ for o in self._inner]}>"


__all__ = ["MultiOptimizer", "OptimizerMap"]
