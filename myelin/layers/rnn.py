"""Recurrent layers: SimpleRNN, LSTM, GRU, their cells, the generic RNN wrapper, Bidirectional, TimeDistributed.

Keras 3's names, arguments and weight layouts: a cell holds ``kernel`` (features, gates *
units), ``recurrent_kernel`` (units, gates * units) and ``bias``, gates in Keras's order
(LSTM i, f, c, o; GRU z, r, h; a GRU with ``reset_after=True`` has a (2, 3 * units) bias: input
bias, then recurrent bias). ``SimpleRNN``, ``LSTM`` and ``GRU`` with their default
activations run a fused time loop (``myelin.ops.lstm_scan`` and friends): the input
projection of every step is one matrix product before the loop, only the recurrent product
runs inside it, and the backward pass is one reverse sweep through time. Other activations
and custom cells run the cell step by step (the same numbers, slower).

Masks (from ``Embedding(mask_zero=True)`` or ``Masking``) skip time steps: the states stay
unchanged, and the output of a masked step is the previous output (zero with
``zero_output_for_mask``). ``unroll`` is accepted as Keras's implementation hint: the
numbers are the same either way, and myelin always runs the loop.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> lstm = layers.LSTM(8, return_sequences=True)
    >>> lstm(np.zeros((2, 5, 3))).shape
    (2, 5, 8)
"""

# Over 800 lines because the cells, the RNN wrapper that runs them and the layers built on it share one contract
# (states, masks, dropout drawn per sequence) that is read and checked together, as in Keras's rnn/ folder.
from __future__ import annotations

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..tensor import Tensor
from .base import REGISTRY, Layer, SymbolicTensor, _call_arguments, _shape_str, snake_case, unique_name
from .core import _config_of

# Activations the fused SimpleRNN loop computes itself.
_SIMPLE_FUSED = {activations.tanh: "tanh", activations.relu: "relu", activations.linear: "linear"}


def _rate(layer: str, key: str, value) -> float:
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{layer}: {key} must be in [0, 1), got {value!r}")
    return value


def _units(layer: str, units) -> int:
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"{layer}: units must be a positive integer, got {units!r}")
    return int(units)


# Keras's default names of the cells (snake_case would give "lstmcell").
_CELL_NAMES = {"LSTMCell": "lstm_cell", "GRUCell": "gru_cell", "SimpleRNNCell": "simple_rnn_cell"}


class _Cell(Layer):
    """What the three cells share: dropout settings, weight creation, the config."""

    _gates = 1

    def __init__(
        self,
        units: int,
        activation="tanh",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs,
    ):
        kind = type(self).__name__
        self.units = _units(kind, units)
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(_CELL_NAMES.get(kind, snake_case(kind)))
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(kind, "dropout", dropout)
        self.recurrent_dropout = _rate(kind, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None
        self.kernel = self.recurrent_kernel = self.bias = None
        # Set by the RNN layer for one sequence (Keras draws dropout masks once per sequence).
        self._dropout_mask = self._recurrent_dropout_mask = None

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _check_features(self, input_shape) -> int:
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known feature axis, got {_shape_str(input_shape)}")
        return int(input_shape[-1])

    def build(self, input_shape):
        features = self._check_features(input_shape)
        width = self._gates * self.units
        self.kernel = self.add_weight(
            (features, width),
            self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            (self.units, width),
            self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
            name="recurrent_kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(
                self._bias_shape(),
                self._bias_init(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="bias",
            )

    def _bias_shape(self) -> tuple:
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def get_initial_state(self, batch_size: int) -> list:
        """Zero states, one (batch, units) array per state (Keras's ``get_initial_state``).

        Example:
            >>> [s.shape for s in LSTMCell(3).get_initial_state(2)]
            [(2, 3), (2, 3)]
        """
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [np.zeros((batch_size, s), dtype=self.compute_dtype) for s in sizes]

    def _inputs_dropped(self, x, training):
        if training and self._dropout_mask is not None:
            return ops.mul(x, self._dropout_mask)
        return x

    def _h_dropped(self, h, training):
        if training and self._recurrent_dropout_mask is not None:
            return ops.mul(h, self._recurrent_dropout_mask)
        return h

    def _fusable(self) -> bool:
        return False

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _config_of(self.kernel_initializer),
            "recurrent_initializer": _config_of(self.recurrent_initializer),
            "bias_initializer": _config_of(self.bias_initializer),
            "kernel_regularizer": _config_of(self.kernel_regularizer),
            "recurrent_regularizer": _config_of(self.recurrent_regularizer),
            "bias_regularizer": _config_of(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


@REGISTRY.register("SimpleRNNCell")
class SimpleRNNCell(_Cell):
    """One step of a fully connected recurrent network: ``h = activation(x @ kernel + h @ recurrent_kernel + bias)``.

    Example:
        >>> cell = SimpleRNNCell(4)
        >>> out, states = cell(np.ones((2, 3)), [np.zeros((2, 4))])
        >>> out.shape, len(states)
        ((2, 4), 1)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __call__(self, inputs, states=None, training: bool = False):
        return _call_cell(self, inputs, states, training)

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        x = self._inputs_dropped(inputs, training)
        z = ops.add(ops.dense(x, self.kernel, self.bias), ops.matmul(self._h_dropped(h, training), self.recurrent_kernel))
        out = self.activation(z)
        return out, [out]

    def _fusable(self) -> bool:
        return self.activation in _SIMPLE_FUSED

    def _scan(self, x, states, mask, rdrop, reverse, zero_output):
        xz = ops.dense(x, self.kernel, self.bias)
        h0 = states[0] if states is not None else None
        packed = ops.simple_rnn_scan(
            xz, self.recurrent_kernel, h0, mask, rdrop, reverse, zero_output, _SIMPLE_FUSED[self.activation]
        )
        return packed, 1


@REGISTRY.register("LSTMCell")
class LSTMCell(_Cell):
    """One LSTM step (Hochreiter & Schmidhuber, 1997), Keras's formulas and gate order i, f, c, o.

    ``unit_forget_bias=True`` starts the forget gate's bias at one (Jozefowicz et al., 2015).

    Example:
        >>> cell = LSTMCell(4)
        >>> out, (h, c) = cell(np.ones((2, 3)), [np.zeros((2, 4)), np.zeros((2, 4))])
        >>> cell.kernel.shape, cell.recurrent_kernel.shape, cell.bias.shape
        ((3, 16), (4, 16), (16,))
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def __call__(self, inputs, states=None, training: bool = False):
        return _call_cell(self, inputs, states, training)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, u = self.bias_initializer, self.units

        def init(shape, dtype=None):
            values = np.asarray(base((u * 4,), dtype=dtype))
            values[u : 2 * u] = 1.0
            return values

        return init

    def call(self, inputs, states, training=False):
        h, c = states
        u = self.units
        x = self._inputs_dropped(inputs, training)
        z = ops.add(ops.dense(x, self.kernel, self.bias), ops.matmul(self._h_dropped(h, training), self.recurrent_kernel))
        act, rec = self.activation, self.recurrent_activation
        i = rec(z[:, :u])
        f = rec(z[:, u : 2 * u])
        g = act(z[:, 2 * u : 3 * u])
        o = rec(z[:, 3 * u :])
        c = ops.add(ops.mul(f, c), ops.mul(i, g))
        h = ops.mul(o, act(c))
        return h, [h, c]

    def _fusable(self) -> bool:
        return self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid

    def _scan(self, x, states, mask, rdrop, reverse, zero_output):
        xz = ops.dense(x, self.kernel, self.bias)
        h0, c0 = (states[0], states[1]) if states is not None else (None, None)
        return ops.lstm_scan(xz, self.recurrent_kernel, h0, c0, mask, rdrop, reverse, zero_output), 2

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


@REGISTRY.register("GRUCell")
class GRUCell(_Cell):
    """One GRU step (Cho et al., 2014), Keras's formulas and gate order z, r, h.

    ``reset_after=True`` (Keras 3's default, cuDNN's and PyTorch's form) applies the reset
    gate after the recurrent product and has a recurrent bias: the bias is (2, 3 * units).

    Example:
        >>> cell = GRUCell(4)
        >>> out, (h,) = cell(np.ones((2, 3)), [np.zeros((2, 4))])
        >>> cell.bias.shape
        (2, 12)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", reset_after: bool = True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def __call__(self, inputs, states=None, training: bool = False):
        return _call_cell(self, inputs, states, training)

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self):
        if self.bias is None:
            return None, None
        if self.reset_after:
            return self.bias[0], self.bias[1]
        return self.bias, None

    def call(self, inputs, states, training=False):
        h = states[0] if isinstance(states, (list, tuple)) else states
        u = self.units
        in_bias, rec_bias = self._biases()
        x = ops.dense(self._inputs_dropped(inputs, training), self.kernel, in_bias)
        hd = self._h_dropped(h, training)
        act, rec = self.activation, self.recurrent_activation
        if self.reset_after:
            inner = ops.matmul(hd, self.recurrent_kernel)
            if rec_bias is not None:
                inner = ops.add(inner, rec_bias)
            z = rec(ops.add(x[:, :u], inner[:, :u]))
            r = rec(ops.add(x[:, u : 2 * u], inner[:, u : 2 * u]))
            hh = act(ops.add(x[:, 2 * u :], ops.mul(r, inner[:, 2 * u :])))
        else:
            inner = ops.matmul(hd, self.recurrent_kernel[:, : 2 * u])
            z = rec(ops.add(x[:, :u], inner[:, :u]))
            r = rec(ops.add(x[:, u : 2 * u], inner[:, u:]))
            hh = act(ops.add(x[:, 2 * u :], ops.matmul(ops.mul(r, hd), self.recurrent_kernel[:, 2 * u :])))
        h = ops.add(ops.mul(z, h), ops.mul(ops.sub(1.0, z), hh))
        return h, [h]

    def _fusable(self) -> bool:
        return self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid

    def _scan(self, x, states, mask, rdrop, reverse, zero_output):
        in_bias, rec_bias = self._biases()
        xz = ops.dense(x, self.kernel, in_bias)
        h0 = states[0] if states is not None else None
        packed = ops.gru_scan(xz, self.recurrent_kernel, rec_bias, h0, mask, rdrop, reverse, zero_output, self.reset_after)
        return packed, 1

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }


def _call_cell(cell: Layer, inputs, states, training: bool):
    """A cell called on its own, as Keras allows: ``cell(x, states)`` -> (output, new states)."""
    x = inputs if isinstance(inputs, Tensor) else Tensor(inputs, dtype=cell.compute_dtype)
    if states is None:
        states = cell.get_initial_state(x.shape[0])
    states = [s if isinstance(s, Tensor) else Tensor(s, dtype=cell.compute_dtype) for s in _as_list(states)]
    cell._maybe_build(x.shape)
    return cell.call(x, states, training=training)


class _AnyLength:
    """Sequence layers take any number of time steps after they are built (only the features are fixed)."""

    def _maybe_build(self, shape: tuple) -> None:
        super()._maybe_build(shape)
        built = self._build_input_shape
        if built is not None and len(built) >= 2:
            self._build_input_shape = (None, None) + tuple(built[2:])


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _zero_states(cell, batch_size: int) -> list:
    """The cell's ``get_initial_state`` when it has one, else zeros of its ``state_size`` (Keras's fallback)."""
    if hasattr(cell, "get_initial_state"):
        return list(cell.get_initial_state(batch_size))
    return [np.zeros((batch_size, s), dtype=cell.compute_dtype) for s in _state_sizes(cell)]


def _state_sizes(cell) -> list:
    sizes = cell.state_size
    return [int(s) for s in sizes] if isinstance(sizes, (list, tuple)) else [int(sizes)]


@REGISTRY.register("RNN")
class RNN(_AnyLength, Layer):
    """Runs a cell over the time axis of (batch, timesteps, features) sequences (Keras's generic RNN layer).

    A cell is a layer with ``call(inputs, states, training=False) -> (output, new_states)``
    and ``state_size`` (and optionally ``get_initial_state``). ``return_sequences`` returns
    every step's output, ``return_state`` adds the final states, ``go_backwards`` reads the
    sequence from its end (the outputs come in that reversed order, as in Keras),
    ``stateful`` carries the final states of a batch into the next one (a fixed batch size:
    the built shape's, ``batch_input_shape``'s or else the first batch's; ``reset_states()``).
    Call with ``initial_state=[...]`` to start from given states.

    Example:
        >>> rnn = RNN(LSTMCell(4), return_state=True)
        >>> out, h, c = rnn(np.zeros((2, 5, 3)))
        >>> out.shape, c.shape
        ((2, 4), (2, 4))
    """

    supports_masking = True

    def __init__(
        self,
        cell,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise ValueError(
                f"{type(self).__name__}: cell must be a layer with call(inputs, states) and a state_size, got {cell!r}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), bool(stateful), bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states: list | None = None
        self._state_batch: int | None = None

    # ------------------------------------------------------------------ building
    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects sequences of rank 3 (batch, timesteps, features), "
                f"got shape {_shape_str(input_shape)}"
            )
        if self.unroll and input_shape[1] is None:
            raise ValueError(f"{type(self).__name__} layer {self.name!r}: unroll=True needs a known number of time steps")
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[2]))
            self.cell.built = True
            self.cell._build_input_shape = (None, input_shape[2])
        if self.stateful:
            # The batch size is fixed: the built shape's, batch_input_shape's, or else the first call's.
            batch = input_shape[0] if input_shape[0] is not None else (self.input_shape_hint or (None,))[0]
            self._state_batch = None if batch is None else int(batch)
            if self._state_batch is not None:
                self.reset_states()

    def reset_states(self) -> None:
        """Set a stateful layer's carried states back to zero (Keras's ``reset_states``).

        Example:
            >>> layer = SimpleRNN(2, stateful=True)
            >>> _ = layer(np.ones((1, 3, 1)))
            >>> layer.reset_states(); layer.states[0].tolist()
            [[0.0, 0.0]]
        """
        if not self.stateful:
            raise ValueError(f"layer {self.name!r}: reset_states() is for stateful=True layers")
        if self._state_batch is None:
            return  # no batch seen yet: the first call starts from zeros
        self.states = _zero_states(self.cell, self._state_batch)

    reset_state = reset_states

    def _call_symbolic(self, inputs, **kwargs) -> SymbolicTensor:
        if self.return_state:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: return_state=True gives several outputs, which myelin's "
                "functional graphs do not hold yet; call the layer on tensors (eagerly or in a subclassed Model)"
            )
        if kwargs.get("initial_state") is not None:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: initial_state is taken in eager calls and subclassed models, "
                "not in functional graphs"
            )
        return super()._call_symbolic(inputs)

    def compute_output_shape(self, input_shape):
        units = self.cell.output_size
        out = (input_shape[0], input_shape[1], units) if self.return_sequences else (input_shape[0], units)
        if self.return_state:
            return [out] + [(input_shape[0], s) for s in _state_sizes(self.cell)]
        return out

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(_state_sizes(self.cell))
        return out

    # ------------------------------------------------------------------ running
    def _mask_tensor(self, mask, x):
        if mask is None:
            return None
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
            if mask is None:
                return None
        if not isinstance(mask, Tensor):
            mask = Tensor(np.asarray(mask, dtype=bool))
        if mask.shape != tuple(x.shape[:2]):
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: the mask must have shape (batch, timesteps) = "
                f"{tuple(x.shape[:2])}, got {tuple(mask.shape)}"
            )
        return mask

    def _initial_states(self, initial_state, x):
        sizes = _state_sizes(self.cell)
        if initial_state is None and self.stateful:
            initial_state = self.states
        if initial_state is None:
            return None
        states = [s if isinstance(s, Tensor) else Tensor(s, dtype=self.cell.compute_dtype) for s in _as_list(initial_state)]
        if len(states) != len(sizes):
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} has {len(sizes)} state(s), but initial_state holds {len(states)}"
            )
        for s, n in zip(states, sizes):
            if tuple(s.shape) != (x.shape[0], n):
                raise ValueError(
                    f"{type(self).__name__} layer {self.name!r}: an initial state must have shape (batch, {n}) = "
                    f"{(x.shape[0], n)}, got {tuple(s.shape)}"
                )
        return states

    def call(self, sequences, initial_state=None, mask=None, training=False):
        x = sequences
        if x.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} expects sequences of rank 3 (batch, timesteps, features), "
                f"got shape {_shape_str(x.shape)}"
            )
        if self.stateful and self._state_batch is None:
            self._state_batch = int(x.shape[0])
            self.reset_states()
        if self.stateful and x.shape[0] != self._state_batch:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r} is stateful with batch size {self._state_batch}, got a batch of "
                f"{x.shape[0]}"
            )
        mask = self._mask_tensor(mask, x)
        states = self._initial_states(initial_state, x)
        cell = self.cell
        dropout, rec_dropout = getattr(cell, "dropout", 0.0), getattr(cell, "recurrent_dropout", 0.0)
        drop = training and dropout > 0
        n = x.shape[1]
        if getattr(cell, "_fusable", lambda: False)():
            rdrop = None
            if training and rec_dropout > 0:
                rdrop = ops.dropout_mask(x, cell.units, rec_dropout, cell._generator)
            if drop:
                dmask = ops.dropout_mask(x, x.shape[2], dropout, cell._generator)
                x = ops.mul(x, ops.reshape(dmask, (x.shape[0], 1, x.shape[2])))
            packed, k = cell._scan(x, states, mask, rdrop, self.go_backwards, self.zero_output_for_mask)
            sequence = packed[:, :n] if self.return_sequences else None
            last = packed[:, n - 1]
            finals = [packed[:, n + j] for j in range(k)]
        else:
            if states is None:
                states = [s if isinstance(s, Tensor) else Tensor(s) for s in _zero_states(cell, x.shape[0])]
            cells = cell.cells if isinstance(cell, StackedRNNCells) else [cell]
            if training:  # one mask per cell for the whole sequence (Keras's semantics)
                features = x.shape[2]
                for c in cells:
                    if getattr(c, "dropout", 0.0) > 0:
                        c._dropout_mask = ops.dropout_mask(x, features, c.dropout, c._generator)
                    if getattr(c, "recurrent_dropout", 0.0) > 0:
                        c._recurrent_dropout_mask = ops.dropout_mask(x, c.units, c.recurrent_dropout, c._generator)
                    features = getattr(c, "output_size", features)
            try:
                sequence, last, finals = self._loop(x, states, mask, training)
            finally:
                for c in cells:
                    if isinstance(c, _Cell):
                        c._dropout_mask = c._recurrent_dropout_mask = None
        if self.stateful:
            self.states = [np.array(s.data, copy=True) for s in finals]
        output = sequence if self.return_sequences else last
        if self.return_state:
            return [output, *finals]
        return output

    def _loop(self, x, states, mask, training):
        """Step by step: the cell's own call at every time step (custom cells, other activations)."""
        cell = self.cell
        kwargs = {"training": training} if "training" in _call_arguments(type(cell)) else {}
        n = x.shape[1]
        steps = range(n - 1, -1, -1) if self.go_backwards else range(n)
        emitted, prev = [], None
        for t in steps:
            out, new_states = cell.call(x[:, t], states, **kwargs)
            new_states = _as_list(new_states)
            if mask is not None:
                m = mask[:, t]
                prev = ops.mul(out, 0.0) if prev is None else prev
                out = ops.masked_select(out, prev, m)
                new_states = [ops.masked_select(s_new, s_old, m) for s_new, s_old in zip(new_states, states)]
                emitted.append(ops.masked_select(out, ops.mul(out, 0.0), m) if self.zero_output_for_mask else out)
            else:
                emitted.append(out)
            prev, states = out, new_states
        sequence = ops.stack(emitted, axis=1) if self.return_sequences else None
        return sequence, emitted[-1], states

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        from ..saving import serialize_layer  # noqa: PLC0415  (saving imports the layers)

        return {
            **super().get_config(),
            "cell": serialize_layer(self.cell),
            **self._flags(),
        }

    def _flags(self) -> dict:
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    @classmethod
    def from_config(cls, config: dict) -> RNN:
        from ..saving import deserialize_layer  # noqa: PLC0415

        config = dict(config)
        config["cell"] = deserialize_layer(config["cell"])
        return cls(**config)


@REGISTRY.register("StackedRNNCells")
class StackedRNNCells(Layer):
    """Several cells run as one: each step feeds the first cell's output to the next (``RNN([cell, cell])``).

    Example:
        >>> stacked = RNN(StackedRNNCells([SimpleRNNCell(3), SimpleRNNCell(2)]))
        >>> stacked(np.zeros((1, 4, 5))).shape
        (1, 2)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        self.cells = list(cells)
        if not self.cells:
            raise ValueError("StackedRNNCells: give at least one cell")
        for c in self.cells:
            self.__setattr__(f"_cell_{len(self._sublayers)}", c)

    @property
    def state_size(self):
        return [s for c in self.cells for s in _state_sizes(c)]

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    @property
    def units(self) -> int:
        return _state_sizes(self.cells[-1])[0]

    def get_initial_state(self, batch_size: int) -> list:
        return [s for c in self.cells for s in _zero_states(c, batch_size)]

    def build(self, input_shape):
        features = input_shape[-1]
        for c in self.cells:
            if not c.built:
                c.build((input_shape[0], features))
                c.built = True
            features = c.output_size

    def call(self, inputs, states, training=False):
        out, new, k = inputs, [], 0
        for c in self.cells:
            n = len(_state_sizes(c))
            kwargs = {"training": training} if "training" in _call_arguments(type(c)) else {}
            out, s = c.call(out, states[k : k + n], **kwargs)
            new.extend(_as_list(s))
            k += n
        return out, new

    def get_config(self) -> dict:
        from ..saving import serialize_layer  # noqa: PLC0415

        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config: dict) -> StackedRNNCells:
        from ..saving import deserialize_layer  # noqa: PLC0415

        config = dict(config)
        config["cells"] = [deserialize_layer(c) for c in config["cells"]]
        return cls(**config)


_CELL_ARGS = (
    "activation",
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
    "seed",
)


class _Recurrent(RNN):
    """SimpleRNN, LSTM and GRU: an RNN over their own cell, configured by the cell's arguments."""

    _cell_class: type = SimpleRNNCell
    _extra_args: tuple = ()

    def __init__(
        self,
        units: int,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        activity_regularizer=None,
        use_cudnn="auto",
        zero_output_for_mask: bool = False,
        **kwargs,
    ):
        if use_cudnn not in ("auto", False):
            raise ValueError(
                f"{type(self).__name__}: use_cudnn must be 'auto' or False (myelin has no cuDNN), got {use_cudnn!r}"
            )
        cell_kwargs = {k: kwargs.pop(k) for k in (*_CELL_ARGS, *self._extra_args) if k in kwargs}
        cell = self._cell_class(units, dtype=kwargs.get("dtype"), **cell_kwargs)
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            activity_regularizer=activity_regularizer,
            **kwargs,
        )

    def __getattr__(self, key):
        # Keras exposes the cell's settings on the layer (layer.units, layer.dropout, ...).
        if key in ("units", *_CELL_ARGS, *self._extra_args) and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], key)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def get_config(self) -> dict:
        cell = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell.pop(key, None)
        config = Layer.get_config(self)
        config.update(cell)
        config.update(self._flags())
        config["activity_regularizer"] = _config_of(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


@REGISTRY.register("SimpleRNN")
class SimpleRNN(_Recurrent):
    """A fully connected RNN whose output is fed back as the next step's state (Keras's ``SimpleRNN``).

    Example:
        >>> SimpleRNN(4, return_sequences=True)(np.zeros((2, 6, 3))).shape
        (2, 6, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _cell_class = SimpleRNNCell


@REGISTRY.register("LSTM")
class LSTM(_Recurrent):
    """Long short-term memory (Keras's ``LSTM``): gates i, f, c, o; tanh and sigmoid run one fused loop.

    Example:
        >>> LSTM(4)(np.zeros((2, 6, 3))).shape
        (2, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _cell_class = LSTMCell
    _extra_args = ("recurrent_activation", "unit_forget_bias")


@REGISTRY.register("GRU")
class GRU(_Recurrent):
    """Gated recurrent unit (Keras's ``GRU``): gates z, r, h; ``reset_after=True`` by default, as Keras 3.

    Example:
        >>> GRU(4, return_state=True)(np.zeros((2, 6, 3)))[1].shape
        (2, 4)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    _cell_class = GRUCell
    _extra_args = ("recurrent_activation", "reset_after")


_MERGE_MODES = ("sum", "mul", "concat", "ave", None)


@REGISTRY.register("Bidirectional")
class Bidirectional(_AnyLength, Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two (Keras's ``Bidirectional``).

    ``merge_mode``: "concat" (default), "sum", "ave", "mul", or None (a list of both outputs).
    With ``return_sequences`` the backward outputs are flipped back into time order, and
    masked steps give zeros in both directions (Keras's ``zero_output_for_mask``).

    Example:
        >>> Bidirectional(LSTM(4, return_sequences=True))(np.zeros((2, 6, 3))).shape
        (2, 6, 8)
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError(f"Bidirectional: layer must be a recurrent layer (an RNN), got {layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {_MERGE_MODES}, got {merge_mode!r}")
        super().__init__(**kwargs)
        if backward_layer is None:
            config = layer.get_config()
            config["go_backwards"] = not layer.go_backwards
            config["name"] = "backward_" + layer.name
            backward_layer = type(layer).from_config(config)
        elif not isinstance(backward_layer, RNN) or backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("Bidirectional: backward_layer must be an RNN whose go_backwards differs from layer's")
        for key in ("return_sequences", "return_state"):
            if getattr(backward_layer, key) != getattr(layer, key):
                raise ValueError(f"Bidirectional: layer and backward_layer must agree on {key}")
        if "name" not in kwargs and not layer.name.startswith("forward_"):
            layer.name = "forward_" + layer.name
        self.forward_layer, self.backward_layer = layer, backward_layer
        for inner in (layer, backward_layer):
            inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self._initial_weights = weights

    def build(self, input_shape):
        for inner in (self.forward_layer, self.backward_layer):
            inner._maybe_build(tuple(input_shape))
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _call_symbolic(self, inputs, **kwargs) -> SymbolicTensor:
        if self.return_state or self.merge_mode is None:
            raise ValueError(
                f"Bidirectional layer {self.name!r}: return_state=True or merge_mode=None gives several outputs, which "
                "myelin's functional graphs do not hold yet; call the layer on tensors (eagerly or in a subclassed Model)"
            )
        return super()._call_symbolic(inputs)

    def call(self, x, mask=None, training=False, initial_state=None):
        fw_state = bw_state = None
        if initial_state is not None:
            states = _as_list(initial_state)
            half = len(states) // 2
            fw_state, bw_state = states[:half], states[half:]
        y = self.forward_layer(x, training=training, mask=mask, initial_state=fw_state)
        y_rev = self.backward_layer(x, training=training, mask=mask, initial_state=bw_state)
        states = []
        if self.return_state:
            y, fw = y[0], y[1:]
            y_rev, bw = y_rev[0], y_rev[1:]
            states = list(fw) + list(bw)
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            out = ops.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = ops.add(y, y_rev)
        elif self.merge_mode == "ave":
            out = ops.mul(ops.add(y, y_rev), 0.5)
        elif self.merge_mode == "mul":
            out = ops.mul(y, y_rev)
        else:
            out = [y, y_rev]
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        out = shape[0] if self.return_state else shape
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
        if self.merge_mode is None:
            out = [tuple(out), tuple(out)]
        if self.return_state:
            states = list(shape[1:])
            return (out if isinstance(out, list) else [out]) + states + states
        return out

    def compute_mask(self, inputs, previous_mask):
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        if self.return_sequences:
            out = [mask, mask] if self.merge_mode is None else mask
        else:
            out = [None, None] if self.merge_mode is None else None
        if self.return_state:
            n = len(_state_sizes(self.forward_layer.cell))
            return (out if isinstance(out, list) else [out]) + [None] * (2 * n)
        return out

    def reset_states(self) -> None:
        """Reset both directions' carried states (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self) -> dict:
        from ..saving import serialize_layer  # noqa: PLC0415

        return {
            **super().get_config(),
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
            "merge_mode": self.merge_mode,
        }

    @classmethod
    def from_config(cls, config: dict) -> Bidirectional:
        from ..saving import deserialize_layer  # noqa: PLC0415

        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        return cls(**config)


@REGISTRY.register("TimeDistributed")
class TimeDistributed(_AnyLength, Layer):
    """Applies a layer to every time step of (batch, timesteps, ...) inputs, with the same weights.

    The steps are folded into the batch axis, the layer runs once, and the result is
    unfolded again. A mask on the input passes through to the output.

    Example:
        >>> from myelin.layers import Dense
        >>> TimeDistributed(Dense(2))(np.zeros((3, 5, 4))).shape
        (3, 5, 2)
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: layer must be a layer, got {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} expects inputs of rank >= 3 (batch, timesteps, ...), "
                f"got shape {_shape_str(input_shape)}"
            )
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))

    def call(self, x, training=False):
        if x.ndim < 3:
            raise ValueError(
                f"TimeDistributed layer {self.name!r} expects inputs of rank >= 3 (batch, timesteps, ...), "
                f"got shape {_shape_str(x.shape)}"
            )
        b, n = x.shape[0], x.shape[1]
        folded = ops.reshape(x, (b * n,) + tuple(x.shape[2:]))
        out = self.layer(folded, training=training)
        return ops.reshape(out, (b, n) + tuple(out.shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self) -> dict:
        from ..saving import serialize_layer  # noqa: PLC0415

        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict) -> TimeDistributed:
        from ..saving import deserialize_layer  # noqa: PLC0415

        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        return cls(**config)


__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "GRUCell",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
]
