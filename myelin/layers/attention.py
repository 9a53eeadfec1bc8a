"""Attention layers: MultiHeadAttention, GroupedQueryAttention, Attention and AdditiveAttention.

The scores are batched matrix products over (batch, heads, target, source), the softmax is
one fused primitive (``ops.masked_softmax``) that applies the padding, causal and
sliding-window masks inside itself, and the projections are ``ops.dense`` products on the
kernels in Keras's layout: query/key/value kernels (dim, heads, head size) with biases
(heads, head size), the output kernel (heads, head size, dim) with a bias (dim,).

Masks follow Keras: the query's Keras mask (from ``Embedding(mask_zero=True)`` or
``Masking``) masks the target positions and becomes the output's mask; the value's and the
key's mask out source positions; ``attention_mask`` (batch, target, source) is ANDed in.
A target position whose every source is masked gets zeros from the softmax.

Example:
    >>> import numpy as np
    >>> from myelin import layers
    >>> mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.zeros((1, 3, 8), np.float32)
    >>> out, scores = mha(x, x, return_attention_scores=True)
    >>> out.shape, scores.shape
    ((1, 3, 8), (1, 2, 3, 3))
"""

# Over 800 lines because the four attention layers share one calling convention and mask logic kept in one place.
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import constraints, initializers, regularizers
from ..ops import attention as attn
from ..ops import primitives as prim
from ..ops import recurrent as rec
from ..tensor import Tensor
from .base import REGISTRY, Layer, SymbolicTensor, _shape_str
from .core import _config_of

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention", "MultiHeadAttention"]


def _positive_int(kind: str, name: str, value, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        expected = "a positive integer or None" if allow_none else "a positive integer"
        raise ValueError(f"{kind}: {name} must be {expected}, got {value!r}")
    return int(value)


def _rate(kind: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{kind}: dropout must be a number in [0, 1), got {value!r}")
    return float(value)


def _as_tensor(x, dtype) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x), dtype=dtype)


def _mask_tensor(mask):
    if mask is None or isinstance(mask, Tensor):
        return mask
    return Tensor(np.asarray(mask))


class _QueryValueAttention(Layer):
    """The calling convention of MultiHeadAttention and GroupedQueryAttention: ``layer(query, value, key=None, ...)``.

    Also accepts ``layer([query, value(, key)])``, the form a functional model replays.
    Subclasses define ``_build_shapes(query, value, key)`` and ``_attend(...)``.
    """

    supports_masking = True
    _builds_from_every_input = True

    def _check_flash(self, flash_attention) -> None:
        if flash_attention:
            raise ValueError(
                f"{type(self).__name__}: flash_attention=True is not available in myelin (it has no flash kernel; the "
                "attention is computed with matrix products and a fused masked softmax); leave it None or False"
            )

    def _split(self, query, value, key):
        kind = type(self).__name__
        if isinstance(query, (list, tuple)) and value is None:
            parts = list(query)
            if len(parts) not in (2, 3):
                raise ValueError(
                    f"{kind} layer {self.name!r}: a list input must be [query, value] or [query, value, key], "
                    f"got {len(parts)} tensors"
                )
            query, value = parts[0], parts[1]
            key = parts[2] if len(parts) == 3 else None
        if value is None:
            raise ValueError(f"{kind} layer {self.name!r} needs a query and a value: call it as layer(query, value)")
        return query, value, key

    def _check_shapes(self, query_shape, value_shape, key_shape) -> None:
        kind = type(self).__name__
        for what, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is None:
                continue
            if len(shape) != 3:
                raise ValueError(
                    f"{kind} layer {self.name!r}: {what} must have rank 3 (batch, sequence, features), got shape "
                    f"{_shape_str(shape)}"
                    + ("" if len(shape) < 3 else "; attention over several axes (attention_axes) is not supported")
                )
            if shape[-1] is None:
                raise ValueError(f"{kind} layer {self.name!r}: the last axis of {what} must be known, got {_shape_str(shape)}")
        if (
            key_shape is not None
            and value_shape[1] is not None
            and key_shape[1] is not None
            and value_shape[1] != key_shape[1]
        ):
            raise ValueError(
                f"{kind} layer {self.name!r}: value and key must have the same sequence length, got value "
                f"{_shape_str(value_shape)} and key {_shape_str(key_shape)}"
            )

    def _maybe_build(self, shapes) -> None:
        shapes = [tuple(s) for s in shapes]
        self._check_shapes(shapes[0], shapes[1], shapes[2] if len(shapes) > 2 else None)
        if not self.built:
            self.build(shapes[0], shapes[1], shapes[2] if len(shapes) > 2 else None)
            self.built = True
            self._build_input_shape = [(None,) + s[1:] for s in shapes]
            return
        built = self._build_input_shape
        feats = [s[-1] for s in shapes] + ([shapes[1][-1]] if len(shapes) == 2 else [])
        want = [b[-1] for b in built] + ([built[1][-1]] if len(built) == 2 else [])
        if feats != want:
            raise ValueError(
                f"Input to layer {self.name!r} ({type(self).__name__}) is incompatible with the layer: it was built for "
                f"{', '.join(_shape_str(b) for b in built)} (query, value[, key]), but received "
                f"{', '.join(_shape_str(s) for s in shapes)}"
            )

    def __call__(
        self,
        query,
        value=None,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores: bool = False,
        training: bool = False,
        use_causal_mask: bool = False,
        **kwargs,
    ):
        kind = type(self).__name__
        if kwargs:
            raise TypeError(f"{kind} layer {self.name!r}: unexpected call argument(s) {', '.join(sorted(kwargs))}")
        query, value, key = self._split(query, value, key)
        inputs = [query, value] + ([key] if key is not None else [])
        if any(isinstance(t, SymbolicTensor) for t in inputs):
            extras = {
                "query_mask": query_mask,
                "value_mask": value_mask,
                "key_mask": key_mask,
                "attention_mask": attention_mask,
            }
            given = [k for k, v in extras.items() if v is not None]
            given += [
                k for k, v in (("return_attention_scores", return_attention_scores), ("use_causal_mask", use_causal_mask)) if v
            ]
            if given:
                raise ValueError(
                    f"{kind} layer {self.name!r}: {', '.join(given)} cannot be recorded in a functional graph yet; call "
                    "the layer on tensors in a subclassed Model's call() to use them (padding masks from "
                    "Embedding(mask_zero=True) or Masking do flow through functional graphs)"
                )
            if not all(isinstance(t, SymbolicTensor) for t in inputs):
                raise TypeError(f"{kind} layer {self.name!r}: mix of symbolic and concrete inputs")
            self._maybe_build([t.shape for t in inputs])
            self.output_shape = self.compute_output_shape(query.shape, value.shape, None if key is None else key.shape)
            return SymbolicTensor(self.output_shape, self.compute_dtype, layer=self, inputs=tuple(inputs))
        dtype = self.compute_dtype
        query, value = _as_tensor(query, dtype), _as_tensor(value, dtype)
        key = None if key is None else _as_tensor(key, dtype)
        self._maybe_build([query.shape, value.shape] + ([key.shape] if key is not None else []))
        q_mask = _mask_tensor(query_mask if query_mask is not None else query._keras_mask)
        v_mask = _mask_tensor(value_mask if value_mask is not None else value._keras_mask)
        k_mask = _mask_tensor(key_mask if key_mask is not None else (None if key is None or key is value else key._keras_mask))
        B, T, S = query.shape[0], query.shape[1], value.shape[1]
        for what, m, want in (("query_mask", q_mask, (B, T)), ("value_mask", v_mask, (B, S)), ("key_mask", k_mask, (B, S))):
            if m is not None and tuple(m.shape) != want:
                raise ValueError(
                    f"{kind} layer {self.name!r}: {what} must have shape (batch, sequence) = {want}, got {tuple(m.shape)}"
                )
        a_mask = _mask_tensor(attention_mask)
        if a_mask is not None:
            self._check_attention_mask(a_mask.shape, B, T, S)
        mask = attn.combine_attention_masks(q_mask, v_mask, k_mask, a_mask)
        out, scores = self._attend(
            query, value, key, mask, bool(use_causal_mask), bool(training), scores=bool(return_attention_scores)
        )
        if q_mask is not None:
            out._keras_mask = q_mask
        if return_attention_scores:
            return out, scores
        return out

    def _check_attention_mask(self, shape, B, T, S) -> None:
        shape = tuple(shape)
        full = (B, self._heads(), T, S) if len(shape) == 4 else (B, T, S)
        ok = 2 <= len(shape) <= 4 and all(m in (1, f) for m, f in zip(reversed(shape), reversed(full)))
        if not ok:
            raise ValueError(
                f"{type(self).__name__} layer {self.name!r}: attention_mask must broadcast to (batch, target, source) = "
                f"({B}, {T}, {S}), got shape {shape}"
            )

    def _add_activity(self, *tensors) -> None:
        if self.activity_regularizer is not None:
            self._call_losses.extend(self.activity_regularizer(t) for t in tensors)

    # ---------------------------------------------------------------- shared pieces
    def _proj_weights(self, name: str, dim: int, heads: int, size: int):
        kernel = self.add_weight(
            shape=(dim, heads, size),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name=f"{name}/kernel",
        )
        bias = None
        if self.use_bias:
            bias = self.add_weight(
                shape=(heads, size),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name=f"{name}/bias",
            )
        return kernel, bias

    @staticmethod
    def _project(x: Tensor, kernel, bias, activation: str = "linear") -> Tensor:
        """(batch, steps, dim) through a (dim, heads, size) kernel: (batch, steps, heads, size)."""
        dim, heads, size = kernel.shape
        k2 = prim.reshape(kernel, (dim, heads * size))
        b2 = None if bias is None else prim.reshape(bias, (heads * size,))
        y = prim.dense(x, k2, b2, activation)
        return prim.reshape(y, (x.shape[0], x.shape[1], heads, size))

    def _core(self, q, k, v, mask, causal: bool, training: bool, scale: float, groups: int = 1, scores: bool = True):
        """softmax(q k^T * scale) v per head: q (B, T, H, D), k (B, S, Hkv, D), v (B, S, Hkv, Dv) -> (B, T, H, Dv).

        With ``groups`` > 1 (grouped-query attention) query head h reads key/value head
        h // groups, without copying the keys and values. With ``scores`` False the caller
        wants no probabilities back: without groups and attention dropout the fused
        ``ops.attention_core`` runs, and the probabilities returned are None.
        """
        B, T, H, D = q.shape
        S, Hkv = k.shape[1], k.shape[2]
        if groups == 1 and not scores and not (training and self.dropout > 0):
            # The fused node (ops.attention_core): no score tensors between the steps; the caller wants none back.
            return attn.attention_core(q, k, v, mask, scale, causal, self.sliding_window), None
        q = prim.mul(q, scale)
        qh = prim.transpose(q, (0, 2, 1, 3))  # (B, H, T, D)
        kt = prim.transpose(k, (0, 2, 3, 1))  # (B, Hkv, D, S)
        vh = prim.transpose(v, (0, 2, 1, 3))  # (B, Hkv, S, Dv)
        if groups > 1:
            qh = prim.reshape(qh, (B, Hkv, groups * T, D))
        scores = prim.matmul(qh, kt)
        if groups > 1:
            scores = prim.reshape(scores, (B, H, T, S))
        probs = attn.masked_softmax(scores, mask, causal=causal, sliding_window=self.sliding_window, empty="zeros")
        used = probs
        if training and self.dropout > 0:
            used = prim.dropout(probs, self.dropout, None, self._generator)
        if groups > 1:
            used = prim.reshape(used, (B, Hkv, groups * T, S))
        out = prim.matmul(used, vh)  # (B, H(kv), (groups *) T, Dv)
        if groups > 1:
            out = prim.reshape(out, (B, H, T, v.shape[-1]))
        return prim.transpose(out, (0, 2, 1, 3)), probs  # (B, T, H, Dv)

    def _output(self, o: Tensor, out_shape: tuple) -> Tensor:
        B, T, H, Dv = o.shape
        flat = prim.reshape(o, (B, T, H * Dv))
        k2 = prim.reshape(self._output_kernel, (H * Dv, math.prod(out_shape)))
        b2 = None if self._output_bias is None else prim.reshape(self._output_bias, (math.prod(out_shape),))
        y = prim.dense(flat, k2, b2)
        return y if len(out_shape) == 1 else prim.reshape(y, (B, T) + tuple(out_shape))

    def compute_mask(self, inputs, previous_mask=None):
        """The query's mask (Keras's rule): the output has one step per query step.

        Example:
            >>> import numpy as np
            >>> MultiHeadAttention(1, 2).compute_mask(None, [np.array([[True, False]]), None]).tolist()
            [[True, False]]
        """
        if isinstance(previous_mask, (list, tuple)):
            return previous_mask[0] if previous_mask else None
        return previous_mask


def _common_config(layer) -> dict:
    return {
        "kernel_initializer": _config_of(layer.kernel_initializer),
        "bias_initializer": _config_of(layer.bias_initializer),
        "kernel_regularizer": _config_of(layer.kernel_regularizer),
        "bias_regularizer": _config_of(layer.bias_regularizer),
        "activity_regularizer": _config_of(layer.activity_regularizer),
        "kernel_constraint": constraints.serialize(layer.kernel_constraint),
        "bias_constraint": constraints.serialize(layer.bias_constraint),
    }


@REGISTRY.register("MultiHeadAttention")
class MultiHeadAttention(_QueryValueAttention):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017) with Keras 3's arguments and weight layout.

    ``layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=False,
    use_causal_mask=False)``; query (batch, target, dim), value and key (batch, source, dim).
    The query, key and value are projected to ``num_heads`` heads of ``key_dim`` (value:
    ``value_dim``) features, scaled by 1 / sqrt(key_dim), softmaxed over the source with the
    masks applied, dropped out (``dropout``, training only), combined with the values and
    projected to ``output_shape`` (default: the query's last axis). Weights, in Keras's
    order: ``query/kernel`` (dim, heads, key_dim), ``query/bias`` (heads, key_dim), the same
    for ``key`` and (``use_gate``) ``gate``, ``value`` (value_dim), then
    ``attention_output/kernel`` (heads, value_dim, *output_shape) and ``attention_output/bias``.
    ``sliding_window`` limits each target position to sources within ``sliding_window - 1``
    of it; ``use_gate`` multiplies each head's output by a sigmoid of a projection of the query.

    Supported: rank-3 inputs with the default ``attention_axes`` (None, or the sequence axis
    given as 1 or -2); other axes are refused. ``flash_attention=True`` is refused (no flash
    kernel). ``return_attention_scores``, ``use_causal_mask`` and the explicit masks are taken
    in eager calls and subclassed models, not in functional graphs (Keras masks are).

    Example:
        >>> mha = MultiHeadAttention(num_heads=4, key_dim=16)
        >>> x = np.ones((2, 5, 64), np.float32)
        >>> mha(x, x, use_causal_mask=True).shape
        (2, 5, 64)
        >>> [w.shape for w in mha.weights][:2], mha.weights[-2].shape
        ([(64, 4, 16), (4, 16)], (4, 16, 64))
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape=None,
        attention_axes=None,
        sliding_window: int | None = None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        kind = "MultiHeadAttention"
        self.num_heads = _positive_int(kind, "num_heads", num_heads)
        self.key_dim = _positive_int(kind, "key_dim", key_dim)
        self.value_dim = _positive_int(kind, "value_dim", value_dim, allow_none=True) or self.key_dim
        self.dropout = _rate(kind, dropout)
        self._check_flash(flash_attention)
        if output_shape is not None and not isinstance(output_shape, (int, np.integer, list, tuple)):
            raise ValueError(f"{kind}: output_shape must be an int, a tuple or a list, got {output_shape!r}")
        if output_shape:
            shape = (int(output_shape),) if isinstance(output_shape, (int, np.integer)) else tuple(output_shape)
            for d in shape:
                _positive_int(kind, "output_shape", d)
            output_shape = tuple(int(d) for d in shape)
        else:
            output_shape = None
        if attention_axes is not None:
            axes = (attention_axes,) if isinstance(attention_axes, (int, np.integer)) else attention_axes
            if not isinstance(axes, (list, tuple)) or len(axes) != 1 or axes[0] not in (1, -2):
                raise ValueError(
                    f"{kind}: attention_axes={attention_axes!r} is not supported by myelin; attention runs over the "
                    "sequence axis of (batch, sequence, features) inputs (attention_axes None, 1 or -2)"
                )
            attention_axes = [int(a) for a in axes]
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.use_bias = bool(use_bias)
        self._output_shape = output_shape
        self.attention_axes = attention_axes
        self.sliding_window = _positive_int(kind, "sliding_window", sliding_window, allow_none=True)
        self.use_gate = bool(use_gate)
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _heads(self) -> int:
        return self.num_heads

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(tuple(query_shape), tuple(value_shape), tuple(key_shape))
        h = self.num_heads
        self._query_kernel, self._query_bias = self._proj_weights("query", query_shape[-1], h, self.key_dim)
        self._key_kernel, self._key_bias = self._proj_weights("key", key_shape[-1], h, self.key_dim)
        if self.use_gate:
            self._gate_kernel, self._gate_bias = self._proj_weights("gate", query_shape[-1], h, self.value_dim)
        self._value_kernel, self._value_bias = self._proj_weights("value", value_shape[-1], h, self.value_dim)
        out_shape = self._output_shape or (query_shape[-1],)
        self._output_kernel = self.add_weight(
            shape=(h, self.value_dim) + tuple(out_shape),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="attention_output/kernel",
        )
        self._output_bias = None
        if self.use_bias:
            self._output_bias = self.add_weight(
                shape=tuple(out_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="attention_output/bias",
            )
        self._out_shape = tuple(out_shape)

    def _attend(self, query, value, key, mask, causal, training, scores: bool = True):
        key = value if key is None else key
        q = self._project(query, self._query_kernel, self._query_bias)
        k = self._project(key, self._key_kernel, self._key_bias)
        v = self._project(value, self._value_kernel, self._value_bias)
        o, probs = self._core(q, k, v, mask, causal, training, 1.0 / math.sqrt(self.key_dim), scores=scores)
        regs = [q, k, v]
        if self.use_gate:
            gate = prim.sigmoid(self._project(query, self._gate_kernel, self._gate_bias))
            regs.insert(2, gate)
            o = prim.mul(o, gate)
        out = self._output(o, self._out_shape)
        self._add_activity(*regs, out)
        return out, probs

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        self._check_shapes(query_shape, value_shape, None if key_shape is None else tuple(key_shape))
        return query_shape[:-1] + (self._output_shape or (query_shape[-1],))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "output_shape": None if self._output_shape is None else list(self._output_shape),
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            **_common_config(self),
            "seed": self.seed,
        }


@REGISTRY.register("GroupedQueryAttention")
class GroupedQueryAttention(_QueryValueAttention):
    """Grouped-query attention (Ainslie et al., 2023): query heads share fewer key/value heads.

    Query head h reads key/value head ``h // (num_query_heads // num_key_value_heads)``, as
    Keras's ``ops.repeat`` along the head axis gives, but the keys and values are never
    copied: the query heads of a group are stacked against their shared key. Keras 3's
    arguments and weights: ``query/kernel`` (dim, num_query_heads, head_dim), ``key`` and
    ``value`` (dim, num_key_value_heads, head_dim), ``attention_output/kernel``
    (num_query_heads, head_dim, dim). Calling convention and masks as ``MultiHeadAttention``.

    Example:
        >>> gqa = GroupedQueryAttention(head_dim=8, num_query_heads=4, num_key_value_heads=2)
        >>> x = np.ones((2, 5, 16), np.float32)
        >>> gqa(x, x).shape, gqa.weights[2].shape
        ((2, 5, 16), (16, 2, 8))
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
        sliding_window: int | None = None,
        flash_attention=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        kind = "GroupedQueryAttention"
        self.head_dim = _positive_int(kind, "head_dim", head_dim)
        self.num_query_heads = _positive_int(kind, "num_query_heads", num_query_heads)
        self.num_key_value_heads = _positive_int(kind, "num_key_value_heads", num_key_value_heads)
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(
                f"{kind}: num_query_heads ({num_query_heads}) must be divisible by num_key_value_heads ({num_key_value_heads})"
            )
        self.num_repeats = self.num_query_heads // self.num_key_value_heads
        self.dropout = _rate(kind, dropout)
        self._check_flash(flash_attention)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.use_bias = bool(use_bias)
        self.sliding_window = _positive_int(kind, "sliding_window", sliding_window, allow_none=True)
        self.use_gate = bool(use_gate)
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _heads(self) -> int:
        return self.num_query_heads

    def build(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        self._check_shapes(tuple(query_shape), tuple(value_shape), tuple(key_shape))
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                f"GroupedQueryAttention layer {self.name!r}: the last axes of query and value must be equal, got "
                f"{_shape_str(query_shape)} and {_shape_str(value_shape)}"
            )
        hq, hkv, d = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self.feature_dim = query_shape[-1]
        self._query_kernel, self._query_bias = self._proj_weights("query", query_shape[-1], hq, d)
        self._key_kernel, self._key_bias = self._proj_weights("key", key_shape[-1], hkv, d)
        if self.use_gate:
            self._gate_kernel, self._gate_bias = self._proj_weights("gate", query_shape[-1], hq, d)
        self._value_kernel, self._value_bias = self._proj_weights("value", value_shape[-1], hkv, d)
        self._output_kernel = self.add_weight(
            shape=(hq, d, self.feature_dim),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            name="attention_output/kernel",
        )
        self._output_bias = None
        if self.use_bias:
            self._output_bias = self.add_weight(
                shape=(self.feature_dim,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
                name="attention_output/bias",
            )

    def _attend(self, query, value, key, mask, causal, training, scores: bool = True):
        key = value if key is None else key
        q = self._project(query, self._query_kernel, self._query_bias)
        k = self._project(key, self._key_kernel, self._key_bias)
        v = self._project(value, self._value_kernel, self._value_bias)
        o, probs = self._core(
            q, k, v, mask, causal, training, 1.0 / math.sqrt(self.head_dim), groups=self.num_repeats, scores=scores
        )
        regs = [q, k, v]
        if self.use_gate:
            gate = prim.sigmoid(self._project(query, self._gate_kernel, self._gate_bias))
            regs.insert(2, gate)
            o = prim.mul(o, gate)
        out = self._output(o, (self.feature_dim,))
        self._add_activity(*regs, out)
        return out, probs

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is None and isinstance(query_shape, list):
            query_shape, value_shape, key_shape = (list(query_shape) + [None])[:3]
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        self._check_shapes(query_shape, value_shape, None if key_shape is None else tuple(key_shape))
        return query_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            **_common_config(self),
            "seed": self.seed,
        }


GroupQueryAttention = GroupedQueryAttention  # Keras exports the layer as keras.layers.GroupQueryAttention


# ---------------------------------------------------------------------------- Luong and Bahdanau attention
@REGISTRY.register("Attention")
class Attention(Layer):
    """Dot-product (Luong) attention ``softmax(query @ key^T) @ value`` on ``[query, value]`` or ``[query, value, key]``.

    ``use_scale`` multiplies the scores by a learned scalar ``scale``; ``score_mode="concat"``
    scores ``concat_score_weight * sum(tanh(scale * (query + key)))`` over the features.
    ``mask=[query_mask, value_mask]`` (or the inputs' Keras masks): masked values get
    probability 0 (a query whose values are all masked gets the plain softmax of its scores,
    Keras's result in exact arithmetic), masked queries give zero outputs, and the output
    carries the query's mask. ``use_causal_mask`` lets position i attend to values j <= i;
    ``dropout`` drops attention probabilities in training; ``return_attention_scores``
    returns the probabilities too.

    Example:
        >>> q, v = np.ones((1, 2, 3), np.float32), np.arange(12.0, dtype=np.float32).reshape(1, 4, 3)
        >>> Attention()([q, v]).shape
        (1, 2, 3)
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)
    supports_masking = True
    _builds_from_every_input = True

    def __init__(
        self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed: int | None = None, **kwargs
    ):
        kind = type(self).__name__
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{kind}: score_mode must be 'dot' or 'concat', got {score_mode!r}")
        self.dropout = _rate(kind, dropout)
        super().__init__(**kwargs)
        self.use_scale, self.score_mode, self.seed = bool(use_scale), score_mode, seed
        self._generator = np.random.default_rng(seed) if seed is not None else None
        self.scale = self.concat_score_weight = None

    def _inputs(self, inputs) -> list:
        kind = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{kind} layer {self.name!r} must be called on a list of inputs, [query, value] or [query, value, key]; "
                f"got {type(inputs).__name__}"
            )
        if len(inputs) not in (2, 3):
            raise ValueError(
                f"{kind} layer {self.name!r} takes [query, value] or [query, value, key], got a list of {len(inputs)}"
            )
        return list(inputs)

    def _check_shapes(self, shapes) -> None:
        kind = type(self).__name__
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        for what, s in (("query", q), ("value", v), ("key", k)):
            if len(s) < 2:
                raise ValueError(f"{kind} layer {self.name!r}: {what} must have rank >= 2, got shape {_shape_str(s)}")
        if not len(q) == len(v) == len(k):
            raise ValueError(
                f"{kind} layer {self.name!r}: query, value and key must have the same rank, got "
                f"{', '.join(_shape_str(s) for s in shapes)}"
            )
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(
                f"{kind} layer {self.name!r}: query and key must have the same last axis, got {_shape_str(q)} and "
                f"{_shape_str(k)}"
            )
        if v[-2] is not None and k[-2] is not None and v[-2] != k[-2]:
            raise ValueError(
                f"{kind} layer {self.name!r}: value and key must have the same number of steps, got {_shape_str(v)} and "
                f"{_shape_str(k)}"
            )

    def _maybe_build(self, shapes) -> None:
        shapes = [tuple(s) for s in shapes]
        self._check_shapes(shapes)
        if not self.built:
            self.build(shapes)
            self.built = True
            self._build_input_shape = [(None,) + s[1:] for s in shapes]

    def build(self, input_shape):
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(shape=(), initializer="ones", name="concat_score_weight")

    def __call__(
        self, inputs, training: bool = False, mask=None, return_attention_scores: bool = False, use_causal_mask: bool = False
    ):
        kind = type(self).__name__
        inputs = self._inputs(inputs)
        if isinstance(inputs[0], SymbolicTensor):
            given = [
                k
                for k, v in (
                    ("mask", mask),
                    ("return_attention_scores", return_attention_scores),
                    ("use_causal_mask", use_causal_mask),
                )
                if v
            ]
            if given:
                raise ValueError(
                    f"{kind} layer {self.name!r}: {', '.join(given)} cannot be recorded in a functional graph yet; call the "
                    "layer on tensors (eagerly or in a subclassed Model) to use them"
                )
            self._maybe_build([t.shape for t in inputs])
            self.output_shape = self.compute_output_shape([t.shape for t in inputs])
            return SymbolicTensor(self.output_shape, self.compute_dtype, layer=self, inputs=tuple(inputs))
        dtype = self.compute_dtype
        ts = [_as_tensor(t, dtype) for t in inputs]
        self._maybe_build([t.shape for t in ts])
        if mask is None:
            masks = [t._keras_mask for t in ts[:2]]
        else:
            if not isinstance(mask, (list, tuple)) or len(mask) not in (2, 3):
                raise ValueError(f"{kind} layer {self.name!r}: mask must be a list [query_mask, value_mask], got {mask!r}")
            masks = list(mask[:2])
        q_mask, v_mask = (_mask_tensor(m) for m in masks)
        q, v = ts[0], ts[1]
        for what, m, want in (("query", q_mask, q.shape[:-1]), ("value", v_mask, v.shape[:-1])):
            if m is not None and tuple(m.shape) != tuple(want):
                raise ValueError(
                    f"{kind} layer {self.name!r}: the {what} mask must have shape {tuple(want)} (the {what} without its "
                    f"last axis), got {tuple(m.shape)}"
                )
        out, probs = self.call(ts, q_mask, v_mask, training=training, use_causal_mask=use_causal_mask)
        if self.activity_regularizer is not None:
            self._call_losses.append(self.activity_regularizer(out))
        if q_mask is not None:
            out._keras_mask = q_mask
        return (out, probs) if return_attention_scores else out

    def _scores(self, q, k):
        if self.score_mode == "dot":
            scores = prim.matmul(q, prim.transpose(k, tuple(range(k.ndim - 2)) + (k.ndim - 1, k.ndim - 2)))
            return prim.mul(scores, self.scale) if self.scale is not None else scores
        s = prim.add(prim.reshape(q, q.shape[:-1] + (1, q.shape[-1])), prim.reshape(k, k.shape[:-2] + (1,) + k.shape[-2:]))
        if self.scale is not None:
            s = prim.mul(s, self.scale)
        return prim.mul(prim.sum(prim.tanh(s), axis=-1), self.concat_score_weight)

    def call(self, inputs, q_mask=None, v_mask=None, training=False, use_causal_mask=False):
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        scores = self._scores(q, k)
        mask = None if v_mask is None else rec.NotEqualMask.apply(v_mask, value=False)
        if mask is not None:
            mask = prim.reshape(mask, mask.shape[:-1] + (1, mask.shape[-1]))
        probs = attn.masked_softmax(scores, mask, causal=bool(use_causal_mask), empty="softmax")
        used = probs
        if training and self.dropout > 0:
            used = prim.dropout(probs, self.dropout, None, self._generator)
        out = prim.matmul(used, v)
        if q_mask is not None:
            out = rec.apply_mask(out, q_mask)
        return out, probs

    def compute_mask(self, inputs, previous_mask=None):
        """The query's mask, or None.

        Example:
            >>> Attention().compute_mask(None, [np.array([[True, False]]), None]).tolist()
            [[True, False]]
        """
        if isinstance(previous_mask, (list, tuple)):
            return previous_mask[0] if previous_mask else None
        return previous_mask

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        self._check_shapes(shapes)
        return shapes[0][:-1] + (shapes[1][-1],)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


@REGISTRY.register("AdditiveAttention")
class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores ``sum(scale * tanh(query_i + key_j))`` over the features.

    ``scale`` is a learned vector (the query's last axis, glorot_uniform) when ``use_scale``
    (the default), else 1. Called and masked as ``Attention``.

    Example:
        >>> q, v = np.ones((1, 2, 3), np.float32), np.ones((1, 4, 3), np.float32)
        >>> layer = AdditiveAttention()
        >>> layer([q, v]).shape, layer.scale.shape
        ((1, 2, 3), (3,))
    """

    _replay_safe = True  # the same primitives whatever the data (fit may replay its steps)

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
        if "score_mode" in kwargs:
            raise TypeError("AdditiveAttention: score_mode is Attention's argument (AdditiveAttention always adds)")
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        if self.use_scale:
            self.scale = self.add_weight(shape=(input_shape[0][-1],), initializer="glorot_uniform", name="scale")

    def _scores(self, q, k):
        s = prim.add(prim.reshape(q, q.shape[:-1] + (1, q.shape[-1])), prim.reshape(k, k.shape[:-2] + (1,) + k.shape[-2:]))
        t = prim.tanh(s)
        if self.scale is not None:
            t = prim.mul(t, self.scale)
        return prim.sum(t, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
