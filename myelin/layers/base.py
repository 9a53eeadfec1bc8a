"""The ``Layer`` base class, ``Input`` and the symbolic tensors of the functional API.

A layer holds its weights (Tensors with ``requires_grad=True``), creates them in ``build``
on the first call, when the input shape is known, and computes its output in ``call``.
Calling a layer on the result of ``Input(...)`` records a node of a graph instead of
computing anything; ``myelin.Model(inputs, outputs)`` replays that graph.

Example:
    >>> from myelin import layers
    >>> class Scale(layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")
    ...     def call(self, x, training=False):
    ...         return x * self.w
    >>> Scale()([[1.0, 2.0]]).data
    array([[1., 2.]], dtype=float32)
"""

# Over 800 lines because the Layer contract (weights, calling, masks, dtype policies, config) is read as one class.
from __future__ import annotations

import contextlib
import copy
import inspect
import math
import re
import warnings

import numpy as np

from .. import backend, constraints, dtype_policies, initializers, regularizers, scopes
from .. import rematerialization as _remat
from ..input_spec import assert_input_compatibility
from ..registry import Registry
from ..tensor import Tensor, no_grad
from .autocast import AUTOCAST, autocast_call, converted

REGISTRY = Registry("layer")
# Model classes register themselves when their module loads; saved files may name them before that.
REGISTRY.add_lazy("Sequential", "myelin.models")
REGISTRY.add_lazy("Functional", "myelin.models")
REGISTRY.add_lazy("Model", "myelin.models")
REGISTRY.add_lazy("TabularModel", "myelin.tabular")
_NAME_COUNTS: dict[str, int] = {}
# While ``myelin.saving`` rebuilds a model from a file: how many more weight values may be
# created (None otherwise). See ``weights_from_file``.
_FILE_BUDGET: list | None = None


@contextlib.contextmanager
def weights_from_file(budget: int):
    """While active, ``add_weight`` creates zero weights, for a file to overwrite, and at most ``budget`` values.

    Rebuilding a model from a saved file runs layer constructors and ``build`` on numbers
    read from the file; the budget (the number of values the file really holds) keeps an
    edited file from asking for more memory than that. Initializers are not run, so loading
    a model neither spends time on random weights nor moves the random generator.

    Example:
        >>> from myelin.layers import Dense
        >>> with weights_from_file(budget=8):
        ...     Dense(2)(np.ones((1, 3))).data.tolist()
        [[0.0, 0.0]]
    """
    global _FILE_BUDGET
    previous, _FILE_BUDGET = _FILE_BUDGET, [int(budget)]
    try:
        yield
    finally:
        _FILE_BUDGET = previous


def unique_name(base: str) -> str:
    """Keras-style automatic names: ``dense``, ``dense_1``, ``dense_2``, ...

    Example:
        >>> reset_names(); unique_name("dense"), unique_name("dense")
        ('dense', 'dense_1')
    """
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names() -> None:
    """Restart automatic naming (``myelin.utils.clear_session``)."""
    _NAME_COUNTS.clear()


def snake_case(name: str) -> str:
    """``"InputLayer"`` -> ``"input_layer"``.

    Example:
        >>> snake_case("SimpleDense")
        'simple_dense'
    """
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def dtype_name(dtype) -> str:
    """A dtype's name; ``"string"`` for Keras's string inputs (``"string"``, ``str`` or object arrays).

    Example:
        >>> dtype_name("float32"), dtype_name("string"), dtype_name(str)
        ('float32', 'string', 'string')
    """
    if dtype in ("string", "str", str, object, np.str_, np.object_):
        return "string"
    if isinstance(dtype, (str, dtype_policies.DTypePolicy)) and str(getattr(dtype, "name", dtype)).startswith("mixed_"):
        raise ValueError(
            f"dtype {dtype!r} is a mixed-precision policy, which a layer takes (Dense(4, dtype='mixed_float16')); "
            "here a single dtype is expected, such as 'float32', 'float64', 'float16' or 'bfloat16'"
        )
    try:
        return dtype_policies.as_numpy_dtype(dtype).name
    except TypeError:
        raise TypeError(f"dtype must be a NumPy type name such as 'float32', got {dtype!r}") from None


def replay_safe(layer) -> bool:
    """Whether ``layer``'s class declares ``_replay_safe = True`` in its own body (never inherited).

    A layer class sets it when its ``call`` runs the same primitives whatever the values of
    its inputs, so that ``fit`` may record one step and replay it (``myelin.tape``). A
    subclass that overrides ``call`` does not inherit the promise.

    Example:
        >>> from myelin.layers import Dense
        >>> class MyDense(Dense):
        ...     pass
        >>> replay_safe(Dense(2)), replay_safe(MyDense(2))
        (True, False)
    """
    if getattr(layer, "_remat_mode", None) is not None:  # made in a RematScope: its backward reruns Python code
        return False
    return bool(type(layer).__dict__.get("_replay_safe", False))


class Variable(Tensor):
    """A layer's weight: a Tensor that also carries Keras's variable attributes.

    ``constraint`` (applied by the optimizer after each update, or None), ``aggregation``,
    ``autocast`` and ``overwrite_with_gradient``, as ``add_weight`` set them.

    Example:
        >>> v = Variable(np.zeros(2, np.float32), requires_grad=True)
        >>> v.constraint, v.aggregation
        (None, 'none')
    """

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)
        self.constraint = None
        self.aggregation = "none"
        self.autocast = True
        self.overwrite_with_gradient = False

    @property
    def path(self) -> str | None:
        """Keras's name for the weight's full name (``layer/weight``)."""
        return self.name

    @property
    def value(self) -> Tensor:
        """The current value, as a Tensor without a graph."""
        return self.detach()

    def assign(self, value) -> None:
        """Overwrite the value in place (the shape must match).

        Example:
            >>> v = Variable(np.zeros(2, np.float32)); v.assign([1.0, 2.0]); v.data
            array([1., 2.], dtype=float32)
        """
        arr = value.data if isinstance(value, Tensor) else backend.array_module(self.data).asarray(value, dtype=self.dtype)
        if tuple(arr.shape) != tuple(self.shape):
            raise ValueError(f"assign: variable {self.name!r} has shape {self.shape}, the value has shape {tuple(arr.shape)}")
        self.data[...] = arr


_KERAS_ORDER = (
    "shape",
    "initializer",
    "dtype",
    "trainable",
    "autocast",
    "regularizer",
    "constraint",
    "aggregation",
    "overwrite_with_gradient",
    "name",
)
_MYELIN_ORDER = ("name", "shape", "initializer", "regularizer", "trainable", "dtype")
_ADD_WEIGHT_DEFAULTS = {
    "shape": None,
    "initializer": None,
    "dtype": None,
    "trainable": True,
    "autocast": True,
    "regularizer": None,
    "constraint": None,
    "aggregation": "none",
    "overwrite_with_gradient": False,
    "name": None,
}
_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")


def _unique_weight_name(layer, base: str) -> str:
    taken = {w.name for w in layer._weights}
    name, k = base, 0
    while scopes.scoped(f"{layer.name}/{name}") in taken:
        k += 1
        name = f"{base}_{k}"
    return name


def _shape_str(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class SymbolicTensor:
    """A placeholder for data that will flow through a functional model: a shape and its history.

    Example:
        >>> x = Input(shape=(4,))
        >>> x.shape
        (None, 4)
    """

    def __init__(self, shape: tuple, dtype: str, layer: Layer | None = None, inputs: tuple = (), name: str | None = None):
        self.shape, self.dtype = tuple(shape), dtype
        self.layer, self.inputs, self.name = layer, tuple(inputs), name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        origin = f", from {self.layer.name}" if self.layer is not None else ""
        return f"<SymbolicTensor shape={_shape_str(self.shape)}, dtype={self.dtype}{origin}>"


class Layer:
    """Base class of every layer (and of ``Model``).

    Arguments: ``name``, ``trainable``, ``dtype``, ``input_shape`` (Keras's shorthand for a
    first layer), ``activity_regularizer``.

    Subclasses define ``build(input_shape)`` (create weights with :meth:`add_weight`) and
    ``call(x, training=False)``; ``get_config`` returns the constructor arguments, so that a
    layer can be saved by name and rebuilt.

    Example:
        >>> from myelin.layers import Dense
        >>> d = Dense(3)
        >>> d([[1.0, 2.0]]).shape
        (1, 3)
    """

    # A layer given a list of inputs is built from the first one's shape; a Model from all of them.
    _builds_from_every_input = False
    # Whether a layer made without dtype= takes the global policy (set_dtype_policy); InputLayer does not.
    _takes_global_policy = True
    # Whether __call__ casts floating inputs to the compute dtype (Keras's _convert_input_args); the
    # functional and Sequential models leave that to their layers.
    _convert_input_args = True
    # Layers that compute in float32 under a float16/bfloat16 policy (Keras's normalization layers):
    # inputs cast up, variables read in float32, outputs cast back to the compute dtype.
    _float32_under_mixed = False
    # Whether floating outputs leave a mixed-policy layer in its compute dtype (False for models, whose
    # outputs are their last layers').
    _casts_outputs = True
    # Whether the layer passes masks on (Keras's attribute): its output gets compute_mask's result.
    supports_masking = False
    input_spec = None  # an InputSpec (or a list, one per input) that __call__ checks the inputs against

    def __init__(
        self,
        name: str | None = None,
        trainable: bool = True,
        dtype=None,
        input_shape=None,
        activity_regularizer=None,
        batch_input_shape=None,
        **kwargs,
    ):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        object.__setattr__(self, "_sublayers", [])
        self._weights: list[Tensor] = []
        self._frozen: set[int] = set()  # weights created with trainable=False
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = trainable
        # The dtype policy: the one given, else the global one set by set_dtype_policy (None by default:
        # the layer then follows backend.floatx(), in float32 unless changed).
        if dtype is not None:
            try:
                self._dtype_policy = dtype_policies.get(dtype)
            except (TypeError, ValueError) as err:
                raise type(err)(f"layer {self.name!r} ({type(self).__name__}): {err}") from None
        else:
            self._dtype_policy = dtype_policies.global_policy_or_none() if self._takes_global_policy else None
        self.built = False
        self.input_shape_hint = None
        if batch_input_shape is not None:
            self.input_shape_hint = tuple(batch_input_shape)
        elif input_shape is not None:
            self.input_shape_hint = (None,) + tuple(input_shape)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._regularizers: list[tuple] = []
        self._call_losses: list[Tensor] = []
        self._build_input_shape: tuple | None = None
        self.output_shape: tuple | None = None
        self._remat_mode = _remat.current_mode()  # a RematScope open when the layer is made (Keras's rule)

    def __setattr__(self, key, value):
        if isinstance(value, Layer) and value is not self and value not in self._sublayers:
            self._sublayers.append(value)
        object.__setattr__(self, key, value)

    def __deepcopy__(self, memo):
        """A deep copy whose non-trainable weights are its own copies' (``_frozen`` holds weight ids)."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, copy.deepcopy(value, memo))
        object.__setattr__(new, "_frozen", {id(memo[i]) for i in self._frozen if i in memo})
        return new

    # ------------------------------------------------------------------ weights
    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates this layer's weights; setting it freezes or unfreezes them.

        A frozen weight has ``requires_grad=False``, so no gradient is computed for it.
        Recompile after changing it, as in Keras.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for w in self._weights:
            w.requires_grad = self._trainable and id(w) not in self._frozen
        for layer in self._sublayers:
            layer.trainable = value

    @property
    def dtype(self) -> str | None:
        """The dtype of the layer's variables (Keras's ``variable_dtype``); None when no dtype or policy was given.

        Example:
            >>> from myelin.layers import Dense
            >>> Dense(2, dtype="mixed_float16").dtype, Dense(2).dtype
            ('float32', None)
        """
        policy = self._dtype_policy
        return None if policy is None else policy.variable_dtype

    @dtype.setter
    def dtype(self, value) -> None:
        self._dtype_policy = None if value is None else dtype_policies.get(value)

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The layer's :class:`~myelin.dtype_policies.DTypePolicy` (Keras's); settable with a policy or its name.

        Example:
            >>> from myelin.layers import Dense
            >>> Dense(2, dtype="mixed_bfloat16").dtype_policy
            <DTypePolicy "mixed_bfloat16">
        """
        policy = self._dtype_policy
        return policy if policy is not None else dtype_policies.DTypePolicy(backend.floatx())

    @dtype_policy.setter
    def dtype_policy(self, value) -> None:
        self._dtype_policy = dtype_policies.get(value)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in: its inputs are cast to it (floating inputs only).

        Example:
            >>> from myelin.layers import Dense
            >>> Dense(2, dtype="mixed_float16").compute_dtype
            'float16'
        """
        policy = self._dtype_policy
        return backend.floatx() if policy is None else policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype of the layer's variables (float32 under the mixed policies).

        Example:
            >>> from myelin.layers import Dense
            >>> Dense(2, dtype="mixed_float16").variable_dtype
            'float32'
        """
        policy = self._dtype_policy
        return backend.floatx() if policy is None else policy.variable_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype floating inputs are converted to (Keras's): the compute dtype.

        Example:
            >>> from myelin.layers import Dense
            >>> Dense(2).input_dtype
            'float32'
        """
        return self.compute_dtype

    def add_weight(self, *args, **kwargs) -> Variable:
        """Create, register and return a weight (a ``Variable`` that requires a gradient if trainable).

        Keras 3's arguments: ``shape`` (default ``()``), ``initializer`` (default
        "glorot_uniform" for floats, "zeros" otherwise), ``dtype``, ``trainable``, ``autocast``,
        ``regularizer``, ``constraint`` (applied by the optimizer after each update),
        ``aggregation`` ("none", "mean", "sum" or "only_first_replica": how replicas would
        combine it; one device here), ``overwrite_with_gradient`` (the optimizer sets the value
        to the gradient instead of applying its rule) and ``name``. Positional arguments follow
        Keras (``add_weight(shape, initializer, ...)``), or myelin's earlier form when the first
        one is the name: ``add_weight(name, shape, initializer, regularizer, trainable, dtype)``.
        Integer and boolean weights are never trainable.

        Example:
            >>> layer = Layer(name="demo")
            >>> layer.add_weight("w", (2,), initializer="zeros").name
            'demo/w'
            >>> v = layer.add_weight(shape=(2, 3), initializer="ones", constraint="non_neg", name="k")
            >>> v.shape, v.constraint
            ((2, 3), NonNeg())
        """
        order = _MYELIN_ORDER if args and isinstance(args[0], str) else _KERAS_ORDER
        if len(args) > len(order):
            raise TypeError(f"add_weight: takes at most {len(order)} positional arguments, got {len(args)}")
        for key in kwargs:
            if key not in _KERAS_ORDER:
                raise TypeError(f"layer {self.name!r}: add_weight got an unexpected argument {key!r}")
        options = dict(_ADD_WEIGHT_DEFAULTS)
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"layer {self.name!r}: add_weight got {key!r} both by position and by keyword")
            options[key] = value
        options.update(kwargs)
        return self._add_weight(**options)

    def _add_weight(
        self,
        shape,
        initializer,
        dtype,
        trainable,
        autocast,
        regularizer,
        constraint,
        aggregation,
        overwrite_with_gradient,
        name,
    ) -> Variable:
        if aggregation not in _AGGREGATIONS:
            raise ValueError(
                f"layer {self.name!r}: add_weight aggregation must be one of {_AGGREGATIONS}, got {aggregation!r}"
            )
        if name is None:
            name = _unique_weight_name(self, "variable")
        elif not isinstance(name, str):
            raise TypeError(f"layer {self.name!r}: add_weight name must be a string, got {name!r}")
        shape = () if shape is None else ((int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape))
        if any(d is None for d in shape):
            raise ValueError(f"layer {self.name!r}: weight {name!r} needs a fully known shape, got {_shape_str(shape)}")
        dtype = dtype_name(dtype) if dtype is not None else self.variable_dtype
        floating = dtype_policies.is_float(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if floating else "zeros"
        init = initializers.get(initializer)
        # bfloat16 variables (the "bfloat16" policy) are drawn in float32, then rounded
        made, stored = ("float32", dtype_policies.bfloat16_dtype()) if dtype == "bfloat16" else (dtype, dtype)
        if _FILE_BUDGET is None:
            values = np.asarray(init(shape, dtype=made)).astype(stored, copy=False)
        else:
            values = self._zeros_within_budget(name, shape, made).astype(stored, copy=False)
        trainable = bool(trainable) and floating
        # Inside myelin.name_scope("block") the name is "block/<layer>/<weight>" (Keras's variable path).
        weight = Variable(values, requires_grad=trainable and self.trainable, name=scopes.scoped(f"{self.name}/{name}"))
        weight.constraint = constraints.get(constraint)
        weight.aggregation = aggregation
        weight.autocast = bool(autocast)
        weight.overwrite_with_gradient = bool(overwrite_with_gradient)
        self._weights.append(weight)
        if not trainable:
            self._frozen.add(id(weight))
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularizers.append((reg, weight))
        return weight

    def _zeros_within_budget(self, name: str, shape: tuple, dtype):
        if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in shape):
            raise ValueError(f"layer {self.name!r}: weight {name!r} has an invalid shape {shape}")
        size = math.prod(shape)
        if size > _FILE_BUDGET[0]:
            raise ValueError(
                f"layer {self.name!r}: weight {name!r} of shape {shape} needs {size:,} values, more than the "
                f"{_FILE_BUDGET[0]:,} left in the file's data"
            )
        _FILE_BUDGET[0] -= size
        return np.zeros(shape, dtype=dtype)

    @property
    def weights(self) -> list[Tensor]:
        """All weights, this layer's then its sublayers', in creation order."""
        seen, out = set(), []
        for w in self._weights + [w for layer in self._sublayers for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return []
        own = [w for w in self._weights if id(w) not in self._frozen]
        return _unique(own + [w for layer in self._sublayers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def trainable_variables(self) -> list[Tensor]:
        return self.trainable_weights

    @property
    def variables(self) -> list[Tensor]:
        return self.weights

    def count_params(self) -> int:
        """The number of scalars in all weights.

        Example:
            >>> from myelin.layers import Dense
            >>> d = Dense(2); d.build((None, 3)); d.count_params()
            8
        """
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights as NumPy arrays."""
        return [np.array(w.numpy(), copy=True) for w in self.weights]

    def set_weights(self, values) -> None:
        """Overwrite the weights in place from a list of arrays of the same shapes."""
        weights = self.weights
        values = list(values)
        if len(values) != len(weights):
            raise ValueError(f"layer {self.name!r}: set_weights expected {len(weights)} arrays, got {len(values)}")
        for w, v in zip(weights, values):
            v = np.asarray(v)
            if v.shape != w.shape:
                raise ValueError(
                    f"layer {self.name!r}: weight {w.name!r} has shape {w.shape}, but the value given has shape {v.shape}"
                )
        for w, v in zip(weights, values):
            w.data[...] = backend.array_module(w.data).asarray(v, dtype=w.dtype)

    @property
    def losses(self) -> list[Tensor]:
        """Regularization penalties of the weights (computed now) and activity penalties of the last call."""
        out = [reg(w) for reg, w in self._regularizers] + list(self._call_losses)
        for layer in self._sublayers:
            out.extend(layer.losses)
        return out

    def add_loss(self, loss) -> None:
        """Add a loss term computed in ``call`` (Keras's ``add_loss``): ``fit`` adds it to the training loss.

        Example:
            >>> class Penalty(Layer):
            ...     def call(self, x):
            ...         self.add_loss(x.sum() * 0.1)
            ...         return x
            >>> layer = Penalty(); _ = layer(np.ones((1, 2), np.float32)); round(layer.losses[0].item(), 6)
            0.2
        """
        if not isinstance(loss, Tensor):
            loss = Tensor(loss, dtype=self.compute_dtype)
        if loss.size != 1:
            raise ValueError(f"layer {self.name!r}: add_loss expects a scalar loss, got shape {loss.shape}")
        self._call_losses.append(loss.reshape(()) if loss.ndim else loss)

    def _clear_call_losses(self) -> None:
        self._call_losses.clear()
        for layer in self._sublayers:
            layer._clear_call_losses()

    # ------------------------------------------------------------------ calling
    def build(self, input_shape: tuple) -> None:
        """Create the weights once the input shape is known (default: none)."""

    def call(self, x, training: bool = False):
        raise NotImplementedError(f"layer {type(self).__name__} must define call()")

    def _check_input(self, shape: tuple) -> None:
        """Raise if ``shape`` is incompatible with the shape this layer was built for."""
        expected = self._build_input_shape
        if expected is None:
            return
        if len(shape) != len(expected) or any(
            e is not None and s is not None and e != s for e, s in zip(expected[1:], shape[1:])
        ):
            raise ValueError(
                f"Input to layer {self.name!r} ({type(self).__name__}) is incompatible with the layer: expected shape "
                f"{_shape_str(expected)}, but received input with shape {_shape_str(shape)}"
            )

    def _maybe_build(self, shape: tuple) -> None:
        if not self.built:
            self.build(tuple(shape))
            self.built = True
            self._build_input_shape = (None,) + tuple(shape[1:])
        else:
            self._check_input(tuple(shape))

    def __call__(self, inputs, training: bool = False, **kwargs):
        if isinstance(inputs, SymbolicTensor) or (
            isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], SymbolicTensor)
        ):
            return self._call_symbolic(inputs, **kwargs)
        policy = self._dtype_policy
        if AUTOCAST[0] is not None or (policy is not None and policy._compute_dtype != policy._variable_dtype):
            return autocast_call(self, inputs, training, kwargs)
        compute_dtype = self.compute_dtype
        if isinstance(inputs, (list, tuple)) and inputs and isinstance(inputs[0], (Tensor, np.ndarray)):
            x = [i if isinstance(i, Tensor) else Tensor(i, dtype=compute_dtype) for i in inputs]
            if self._convert_input_args:
                x = [converted(t, compute_dtype) for t in x]
            shape = [t.shape for t in x] if self._builds_from_every_input else x[0].shape
        else:
            x = inputs if isinstance(inputs, Tensor) else Tensor(inputs, dtype=compute_dtype)
            if self._convert_input_args and dtype_policies.name_of(x.data.dtype) != compute_dtype:
                x = converted(x, compute_dtype)
            shape = x.shape
        return self._call_converted(x, shape, training, kwargs)

    def _call_converted(self, x, shape, training, kwargs):
        if self.input_spec is not None:  # Keras's InputSpec (myelin/input_spec.py), set by the layer
            assert_input_compatibility(self.input_spec, x, self.name)
        self._maybe_build(shape)
        takes = _call_arguments(type(self))
        previous_mask = kwargs.get("mask")
        if previous_mask is None:
            previous_mask = _mask_of(x)
            if "mask" in takes and previous_mask is not None:
                kwargs["mask"] = previous_mask
        if "training" in takes:
            kwargs["training"] = training
        if getattr(self, "_remat_mode", None) is None:
            out = self.call(x, **kwargs)
        else:  # made inside a RematScope: the call's intermediate results are recomputed in backward
            out = _remat.layer_call(self, x, kwargs)
        if self.activity_regularizer is not None:  # on every output tensor, as Keras (sequences and states alike)
            self._call_losses.extend(self.activity_regularizer(t) for t in _tensors_of(out))
        if self.supports_masking:
            _attach_mask(out, self.compute_mask(x, previous_mask))
        elif _has_mask(previous_mask):
            warnings.warn(
                f"Layer {self.name!r} ({type(self).__name__}) was given an input with a mask, but it does not support "
                "masking: the layers after it will not see the mask",
                UserWarning,
                stacklevel=3,
            )
        return out

    def compute_mask(self, inputs, previous_mask):
        """The mask of this layer's output (Keras's rule): by default, the input's mask, passed on.

        Called after ``call`` when ``supports_masking`` is True; the result is attached to the
        output (``output._keras_mask``) and given to the next layer whose ``call`` takes ``mask``.

        Example:
            >>> class Keep(Layer):
            ...     supports_masking = True
            ...     def call(self, x):
            ...         return x
            >>> Keep().compute_mask(None, np.array([True, False]))
            array([ True, False])
        """
        return previous_mask

    def _call_symbolic(self, inputs, **kwargs) -> SymbolicTensor:
        shape = inputs.shape if isinstance(inputs, SymbolicTensor) else inputs[0].shape
        self._maybe_build(shape)
        out_shape = self.compute_output_shape(shape if isinstance(inputs, SymbolicTensor) else [i.shape for i in inputs])
        self.output_shape = out_shape
        sources = (inputs,) if isinstance(inputs, SymbolicTensor) else tuple(inputs)
        return SymbolicTensor(out_shape, self.compute_dtype, layer=self, inputs=sources)

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (None for the batch axis).

        The default runs the layer once on a one-sample batch of zeros, without recording a
        graph, so that custom layers need not write this method.
        """
        multiple = isinstance(input_shape, list)
        shapes = input_shape if multiple else [input_shape]
        probes = [
            Tensor(np.zeros((1,) + tuple(1 if d is None else d for d in s[1:]), dtype=self.compute_dtype)) for s in shapes
        ]
        extra = {"training": False} if "training" in _call_arguments(type(self)) else {}
        with no_grad():
            out = self.call(probes if multiple else probes[0], **extra)
        return (None,) + tuple(out.shape[1:])

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        if self._dtype_policy is not None:
            config["dtype"] = self._dtype_policy.name
        if self.activity_regularizer is not None:
            reg = self.activity_regularizer
            config["activity_regularizer"] = {"class_name": type(reg).__name__, "config": reg.get_config()}
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


_CALL_ARGUMENTS: dict[type, frozenset] = {}


def _call_arguments(cls: type) -> frozenset:
    """The keyword arguments ``cls.call`` accepts among ``training`` and ``mask`` (all of them with ``**kwargs``).

    Keras passes ``training`` and ``mask`` only to a ``call`` that declares them, so a layer
    written as ``def call(self, inputs)`` works; looked up once per class.
    """
    found = _CALL_ARGUMENTS.get(cls)
    if found is None:
        params = inspect.signature(cls.call).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            found = frozenset({"training", "mask"})
        else:
            found = frozenset(name for name in ("training", "mask") if name in params)
        _CALL_ARGUMENTS[cls] = found
    return found


def _tensors_of(out) -> list:
    """The tensors of a layer's output: itself, or those in (nested) lists and tuples."""
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors_of(o)]
    return []


def _mask_of(x):
    """The mask attached to an input (a list of masks for a list of inputs, None when there are none)."""
    if isinstance(x, Tensor):
        return x._keras_mask
    if isinstance(x, (list, tuple)):
        masks = [t._keras_mask if isinstance(t, Tensor) else None for t in x]
        return masks if any(m is not None for m in masks) else None
    return None


def _has_mask(mask) -> bool:
    if isinstance(mask, (list, tuple)):
        return any(m is not None for m in mask)
    return mask is not None


def _attach_mask(out, mask) -> None:
    """Attach ``mask`` (or one mask per output) to the output tensor(s)."""
    if isinstance(out, Tensor):
        out._keras_mask = mask
    elif isinstance(out, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(out)
        for t, m in zip(out, masks):
            if isinstance(t, Tensor):
                t._keras_mask = m


def _unique(items: list) -> list:
    seen, out = set(), []
    for it in items:
        if id(it) not in seen:
            seen.add(id(it))
            out.append(it)
    return out


@REGISTRY.register("InputLayer")
class InputLayer(Layer):
    """The entry point of a model: declares the shape of one sample (no weights, no computation).

    ``batch_size`` fixes the batch axis (Keras's meaning): it stays in the symbolic shapes, and
    ``fit``, ``evaluate`` and ``predict`` accept only batches of that size.

    Example:
        >>> InputLayer(shape=(4,)).batch_shape
        (None, 4)
        >>> InputLayer(shape=(4,), batch_size=8).output_shape
        (8, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _takes_global_policy = False  # an input's dtype is floatx() unless given, whatever the policy (Keras's)

    def __init__(
        self, shape=None, batch_size: int | None = None, dtype=None, name: str | None = None, batch_shape=None, **kwargs
    ):
        if dtype is not None:
            dtype = dtype_name(dtype)  # a dtype, not a policy
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer: give the shape of one sample, e.g. shape=(784,)")
        if shape is not None and batch_shape is not None:
            raise ValueError(
                f"InputLayer: give shape or batch_shape, not both (got shape={shape!r}, batch_shape={batch_shape!r})"
            )
        if batch_size is not None:
            if batch_shape is not None:
                raise ValueError("InputLayer: give batch_size or batch_shape, not both")
            if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
                raise ValueError(f"InputLayer: batch_size must be a positive integer or None, got {batch_size!r}")
            batch_size = int(batch_size)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            if not batch_shape:
                raise ValueError("InputLayer: batch_shape needs the batch axis first, e.g. batch_shape=(None, 784)")
            self.batch_shape = (batch_shape[0],) + tuple(_as_shape(batch_shape[1:]))
            if self.batch_shape[0] is not None:
                _as_shape(self.batch_shape[:1])
        else:
            self.batch_shape = (batch_size,) + tuple(_as_shape(shape))
        self.built = True
        self._build_input_shape = (None,) + self.batch_shape[1:]
        # A fixed batch size (batch_size=, or batch_shape's first entry) stays in the shapes, as in
        # Keras; fit, evaluate and predict then require batches of exactly that many samples.
        self.output_shape = self.batch_shape
        self.output = SymbolicTensor(self.output_shape, self.compute_dtype, layer=self, name=self.name)

    def call(self, x, training=False):
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "batch_shape": list(self.batch_shape)}


def _as_shape(shape) -> tuple:
    if isinstance(shape, int):
        return (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}") from None
    for d in shape:
        if d is not None and (not isinstance(d, (int, np.integer)) or d <= 0):
            raise ValueError(f"shape must contain positive integers (or None), got {shape!r}")
    return shape


def Input(shape=None, batch_size: int | None = None, dtype=None, name: str | None = None, batch_shape=None) -> SymbolicTensor:
    """A symbolic input for a functional ``Model``, or the first entry of a ``Sequential`` list.

    Example:
        >>> from myelin import Model, layers
        >>> x = Input(shape=(4,))
        >>> model = Model(x, layers.Dense(3, activation="softmax")(x))
        >>> model.output_shape
        (None, 3)
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape).output


# Keras's name for the placeholder class: ``isinstance(myelin.Input(shape=(3,)), myelin.KerasTensor)``.
KerasTensor = SymbolicTensor

__all__ = ["REGISTRY", "Input", "InputLayer", "KerasTensor", "Layer", "SymbolicTensor", "Variable"]
