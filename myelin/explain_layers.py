"""What ``explain`` shows for convolutional, pooling, normalization and recurrent layers.

A convolution or pooling layer's output is a stack of *feature maps*, one per channel: where in
the input each filter responds. :func:`feature_maps` puts the channel axis second whatever the
layer's ``data_format`` (so ``maps[sample, channel]`` is one map) and ranks the channels of each
sample by their mean absolute activation, strongest first. A recurrent layer's output is
often only its last hidden state; :func:`hidden_states` runs the same layer, with the same
weights and input, asking for every step's hidden state. :func:`channel_axis` says which axis
holds the units a training diagnostic counts (a conv channel is one unit, whatever its size).

Example:
    >>> import numpy as np
    >>> out = np.array([[[[0.0, 2.0], [0.0, 4.0]]]])  # one sample, a 1x2 map of 2 channels (channels_last)
    >>> maps = feature_maps(out, "channels_last")
    >>> maps["feature_maps"].shape, maps["channel_order"].tolist(), maps["channel_strength"].tolist()
    ((1, 2, 1, 2), [[1, 0]], [[0.0, 3.0]])
"""

from __future__ import annotations

import numpy as np

from .backend import array_module
from .layers.convolutional import _BaseConv
from .layers.normalization.batch_normalization import BatchNormalization, GroupNormalization
from .layers.pooling import _GlobalPooling, _Pooling
from .layers.rnn import GRU, LSTM, RNN, Bidirectional, SimpleRNN
from .tensor import Tensor, no_grad

# myelin's own recurrent layers (exact types: a subclass may compute something else in its call).
RECURRENT = (RNN, SimpleRNN, LSTM, GRU)


def layer_kind(layer) -> str | None:
    """``"conv"``, ``"pooling"``, ``"global_pooling"``, ``"normalization"``, ``"recurrent"`` or None.

    Only myelin's own classes (a convolution, a pooling layer of the library, not a user's
    subclass with another ``call``) get these kinds.

    Example:
        >>> from myelin import layers
        >>> layer_kind(layers.Conv2D(2, 3)), layer_kind(layers.MaxPooling1D()), layer_kind(layers.Dense(2))
        ('conv', 'pooling', None)
    """
    cls = type(layer)
    module = cls.__module__
    if isinstance(layer, _BaseConv) and module == "myelin.layers.convolutional":
        return "conv"
    if isinstance(layer, _Pooling) and module == "myelin.layers.pooling":
        return "pooling"
    if isinstance(layer, _GlobalPooling) and module == "myelin.layers.pooling":
        return "global_pooling"
    if cls in (BatchNormalization, GroupNormalization):
        return "normalization"
    if cls in RECURRENT or cls is Bidirectional:
        return "recurrent"
    return None


def channel_axis(layer, kind: str | None) -> int:
    """The axis of ``layer``'s output that holds its units: a conv layer's channels, else the last.

    Example:
        >>> from myelin import layers
        >>> channel_axis(layers.Conv2D(2, 3, data_format="channels_first"), "conv"), channel_axis(layers.Dense(2), None)
        (1, -1)
    """
    if kind in ("conv", "pooling", "global_pooling"):
        return 1 if layer.data_format == "channels_first" else -1
    if kind == "normalization":
        return int(layer.axis)
    return -1


def feature_maps(output: np.ndarray, data_format: str) -> dict:
    """An output's feature maps, channel axis second, and its channels ranked per sample.

    Returns ``feature_maps`` (batch, channels, *positions), ``channel_strength`` (batch,
    channels: the mean absolute activation over the positions) and ``channel_order`` (batch,
    channels: the channel indices, strongest first; ties keep the lower index first).

    Example:
        >>> out = np.zeros((1, 2, 3, 3)); out[0, 1] = 1.0  # channels_first: channel 1 is on
        >>> feature_maps(out, "channels_first")["channel_order"].tolist()
        [[1, 0]]
    """
    a = np.asarray(output)
    maps = a if data_format == "channels_first" else np.moveaxis(a, -1, 1)
    maps = np.ascontiguousarray(maps)
    positions = tuple(range(2, maps.ndim))
    strength = np.abs(maps.astype(np.float64)).mean(axis=positions) if positions else np.abs(maps.astype(np.float64))
    order = np.argsort(-strength, axis=1, kind="stable")
    return {"feature_maps": maps, "channel_strength": strength, "channel_order": order}


def hidden_states(layer, x: Tensor) -> np.ndarray:
    """Every step's hidden state of a recurrent layer on ``x``, in time order: (batch, time, units).

    The layer runs again on the same input (and mask) with the same weights, asked for the
    whole sequence (``return_sequences=True``, no states): ``result[:, t]`` is the hidden state
    after the layer has read step ``t`` (for a ``go_backwards`` layer, which reads the
    sequence from its end, the state after it reached step ``t``). A ``Bidirectional`` layer
    gives its forward units, then its backward units. A stateful layer starts from its
    current states, which are left as they were.

    Example:
        >>> from myelin import layers
        >>> rnn = layers.SimpleRNN(3)
        >>> x = Tensor(np.ones((2, 4, 5), dtype=np.float32))
        >>> h = hidden_states(rnn, x)
        >>> h.shape, bool(np.array_equal(h[:, -1], rnn(x).data))
        ((2, 4, 3), True)
    """
    mask = getattr(x, "_keras_mask", None)
    if type(layer) is Bidirectional:
        forward = hidden_states(layer.forward_layer, x)
        backward = hidden_states(layer.backward_layer, x)
        return np.concatenate([forward, backward], axis=-1)
    layer._maybe_build(tuple(x.shape))
    saved = (layer.return_sequences, layer.return_state, layer.states, getattr(layer, "_state_batch", None))
    try:
        layer.return_sequences, layer.return_state = True, False
        with no_grad():
            sequence = layer.call(x, mask=mask, training=False)
    finally:
        layer.return_sequences, layer.return_state = saved[0], saved[1]
        layer.states = saved[2]
        if hasattr(layer, "_state_batch"):
            layer._state_batch = saved[3]
    data = sequence.data
    h = np.array(data if array_module(data).__name__ == "numpy" else data.get(), copy=True)
    return h[:, ::-1].copy() if layer.go_backwards else h


__all__ = ["channel_axis", "feature_maps", "hidden_states", "layer_kind"]
