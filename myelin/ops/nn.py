"""Keras 3's nn family (``keras.ops.nn.*``, also on ``keras.ops``): activations, one-hot, moments, losses.

Written from the primitives (the activations keep their fused primitives). Defaults are
Keras's: ``ops.gelu`` uses the tanh approximation unless ``approximate=False``, the
cross-entropies clip probabilities to [1e-7, 1 - 1e-7] and return one value per sample.

Example:
    >>> from myelin import ops
    >>> ops.nn.one_hot([0, 2], 3).data
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    >>> float(ops.nn.sigmoid(0.0).data)
    0.5
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..backend import array_module
from ..tensor import Tensor
from . import numpy as knp
from . import primitives as prim
from .convolution import average_pool, conv, conv_transpose, depthwise_conv, max_pool, separable_conv
from .core import _standard_dtype, convert_to_tensor
from .ctc import ctc_decode, ctc_loss

_EPSILON = 1e-7  # Keras's backend.epsilon()
_f = knp._float


def relu(x) -> Tensor:
    """max(x, 0).

    Example:
        >>> relu([-1.0, 2.0]).data
        array([0., 2.], dtype=float32)
    """
    return prim.ReLU.apply(_f(x))


def relu6(x) -> Tensor:
    """min(max(x, 0), 6).

    Example:
        >>> relu6([-1.0, 7.0]).data
        array([0., 6.], dtype=float32)
    """
    return knp.clip(_f(x), 0.0, 6.0)


def sigmoid(x) -> Tensor:
    """1 / (1 + exp(-x)).

    Example:
        >>> float(sigmoid(0.0).data)
        0.5
    """
    return prim.sigmoid(_f(x))


def sparse_sigmoid(x) -> Tensor:
    """0 below -1, 1 above 1, (x + 1) / 2 between.

    Example:
        >>> sparse_sigmoid([-2.0, 0.0, 2.0]).data
        array([0. , 0.5, 1. ], dtype=float32)
    """
    return knp.clip(knp.multiply(knp.add(_f(x), 1.0), 0.5), 0.0, 1.0)


def softplus(x) -> Tensor:
    """log(1 + exp(x)), stably.

    Example:
        >>> round(float(softplus(0.0).data), 6)
        0.693147
    """
    return prim.Softplus.apply(_f(x))


def softsign(x) -> Tensor:
    """x / (|x| + 1).

    Example:
        >>> softsign([1.0]).data
        array([0.5], dtype=float32)
    """
    x = _f(x)
    return knp.divide(x, knp.add(knp.absolute(x), 1.0))


def soft_shrink(x, threshold=0.5) -> Tensor:
    """x - threshold above it, x + threshold below -threshold, 0 between.

    Example:
        >>> soft_shrink([-1.0, 0.2, 1.0]).data
        array([-0.5,  0. ,  0.5], dtype=float32)
    """
    x = _f(x)
    out = knp.where(knp.greater(x, threshold), knp.subtract(x, threshold), 0.0)
    return knp.where(knp.less(x, -threshold), knp.add(x, threshold), out)


def hard_shrink(x, threshold=0.5) -> Tensor:
    """x where |x| > threshold, else 0.

    Example:
        >>> hard_shrink([-1.0, 0.2, 1.0]).data
        array([-1.,  0.,  1.], dtype=float32)
    """
    x = _f(x)
    return knp.where(knp.greater(knp.absolute(x), threshold), x, 0.0)


def threshold(x, threshold, default_value) -> Tensor:
    """x where x > threshold, else ``default_value``.

    Example:
        >>> threshold([1.0, 3.0], 2.0, -1.0).data
        array([-1.,  3.], dtype=float32)
    """
    x = _f(x)
    return knp.where(knp.greater(x, threshold), x, default_value)


def sparse_plus(x) -> Tensor:
    """0 for x <= -1, x for x >= 1, (x + 1)**2 / 4 between.

    Example:
        >>> sparse_plus([-2.0, 0.0, 2.0]).data
        array([0.  , 0.25, 2.  ], dtype=float32)
    """
    x = _f(x)
    mid = knp.multiply(knp.square(knp.add(x, 1.0)), 0.25)
    return knp.where(knp.less_equal(x, -1.0), 0.0, knp.where(knp.greater_equal(x, 1.0), x, mid))


def silu(x) -> Tensor:
    """x * sigmoid(x).

    Example:
        >>> float(silu(0.0).data)
        0.0
    """
    return prim.SiLU.apply(_f(x))


swish = silu


def squareplus(x, b=4) -> Tensor:
    """(x + sqrt(x**2 + b)) / 2.

    Example:
        >>> float(squareplus(0.0).data)
        1.0
    """
    x = _f(x)
    return knp.multiply(knp.add(x, knp.sqrt(knp.add(knp.square(x), b))), 0.5)


def log_sigmoid(x) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stably.

    Example:
        >>> round(float(log_sigmoid(0.0).data), 6)
        -0.693147
    """
    return knp.negative(softplus(knp.negative(_f(x))))


def leaky_relu(x, negative_slope=0.2) -> Tensor:
    """x for x > 0, negative_slope * x otherwise.

    Example:
        >>> leaky_relu([-1.0, 1.0]).data
        array([-0.2,  1. ], dtype=float32)
    """
    return prim.LeakyReLU.apply(_f(x), slope=negative_slope)


def hard_sigmoid(x) -> Tensor:
    """relu6(x + 3) / 6.

    Example:
        >>> hard_sigmoid([-4.0, 0.0, 4.0]).data
        array([0. , 0.5, 1. ], dtype=float32)
    """
    return prim.hard_sigmoid(_f(x))


def hard_silu(x) -> Tensor:
    """x * hard_sigmoid(x).

    Example:
        >>> hard_silu([-4.0, 4.0]).data
        array([-0.,  4.], dtype=float32)
    """
    x = _f(x)
    return knp.multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def hard_tanh(x) -> Tensor:
    """clip(x, -1, 1).

    Example:
        >>> hard_tanh([-2.0, 0.5]).data
        array([-1. ,  0.5], dtype=float32)
    """
    return knp.clip(_f(x), -1.0, 1.0)


def tanh(x) -> Tensor:
    """Hyperbolic tangent.

    Example:
        >>> float(tanh(0.0).data)
        0.0
    """
    return prim.Tanh.apply(_f(x))


def tanh_shrink(x) -> Tensor:
    """x - tanh(x).

    Example:
        >>> float(tanh_shrink(0.0).data)
        0.0
    """
    x = _f(x)
    return knp.subtract(x, tanh(x))


def elu(x, alpha=1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    Example:
        >>> elu([1.0]).data
        array([1.], dtype=float32)
    """
    return prim.ELU.apply(_f(x), alpha=alpha)


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalising constants.

    Example:
        >>> selu([0.0]).data
        array([0.], dtype=float32)
    """
    return prim.selu(_f(x))


def celu(x, alpha=1.0) -> Tensor:
    """max(x, 0) + min(0, alpha * (exp(x / alpha) - 1)).

    Example:
        >>> celu([1.0, 0.0]).data
        array([1., 0.], dtype=float32)
    """
    x = _f(x)
    neg = knp.multiply(knp.expm1(knp.divide(knp.minimum(x, 0.0), alpha)), alpha)
    return knp.add(knp.maximum(x, 0.0), neg)


def gelu(x, approximate=True) -> Tensor:
    """Gaussian error linear unit; Keras's ``ops.gelu`` uses the tanh approximation by default.

    Example:
        >>> float(gelu(0.0).data)
        0.0
    """
    return prim.GELU.apply(_f(x), approximate=approximate)


def glu(x, axis=-1) -> Tensor:
    """a * sigmoid(b), where a and b are the two halves of x along ``axis``.

    Example:
        >>> glu([1.0, 0.0]).data
        array([0.5], dtype=float32)
    """
    x = _f(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, got {x.shape[axis]}")
    a, b = knp.split(x, 2, axis=axis)
    return knp.multiply(a, sigmoid(b))


def softmax(x, axis=-1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis`` (a tuple of axes is taken together).

    Example:
        >>> softmax([0.0, 0.0]).data
        array([0.5, 0.5], dtype=float32)
    """
    x = _f(x)
    if isinstance(axis, (tuple, list)):
        return knp.exp(knp.subtract(x, knp.logsumexp(x, axis=tuple(axis), keepdims=True)))
    return prim.softmax(x, axis=axis)


def log_softmax(x, axis=-1) -> Tensor:
    """x - logsumexp(x) along ``axis``.

    Example:
        >>> log_softmax([0.0, 0.0]).data.round(6)
        array([-0.693147, -0.693147], dtype=float32)
    """
    x = _f(x)
    if isinstance(axis, (tuple, list)):
        return knp.subtract(x, knp.logsumexp(x, axis=tuple(axis), keepdims=True))
    return prim.LogSoftmax.apply(x, axis=axis)


def sparsemax(x, axis=-1) -> Tensor:
    """The Euclidean projection of x onto the probability simplex along ``axis`` (Martins & Astudillo, 2016).

    Example:
        >>> sparsemax([1.0, 0.0, -1.0]).data
        array([1., 0., 0.], dtype=float32)
    """
    x = knp.moveaxis(_f(x), axis, -1)
    z = knp.flip(knp.sort(x, axis=-1), axis=-1)
    k = knp.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    cums = knp.cumsum(z, axis=-1)
    support = knp.greater(knp.add(knp.multiply(k, z), 1.0), cums).data
    k_z = support.sum(axis=-1, keepdims=True)
    tau_sum = knp.take_along_axis(cums, knp.convert_to_tensor(k_z - 1), axis=-1)
    tau = knp.divide(knp.subtract(tau_sum, 1.0), Tensor._wrap(k_z.astype(x.data.dtype), False))
    return knp.moveaxis(relu(knp.subtract(x, tau)), -1, axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False) -> Tensor:
    """Integer labels as one-hot vectors along a new ``axis`` (floatx unless ``dtype``); negative labels give zeros.

    Example:
        >>> one_hot([1], 3).data
        array([[0., 1., 0.]], dtype=float32)
    """
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported (myelin has no sparse tensors)")
    labels = convert_to_tensor(x).data
    xp = array_module(labels)
    out = (labels[..., None] == xp.arange(int(num_classes))).astype(_standard_dtype(dtype or backend.floatx()))
    if axis != -1:
        out = xp.moveaxis(out, -1, axis)
    return Tensor._wrap(out, False)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs) -> Tensor:
    """Each row of integer labels as one vector with ones at those labels (the last axis is reduced).

    Example:
        >>> multi_hot([[0, 2]], 3).data
        array([[1., 0., 1.]], dtype=float32)
    """
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"multi_hot: unexpected argument(s) {', '.join(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: give num_classes")
    x = convert_to_tensor(inputs)
    if x.ndim == 0:
        x = knp.reshape(x, (1,))
    if x.ndim == 1:
        hot = one_hot(x, num_classes, dtype=dtype, sparse=sparse).data.max(axis=0)
    else:
        hot = one_hot(x, num_classes, dtype=dtype, sparse=sparse).data.max(axis=-2)
    if axis != -1:
        hot = np.moveaxis(hot, -1, axis)
    return Tensor._wrap(hot, False)


def moments(x, axes, keepdims=False, synchronized=False) -> tuple:
    """The mean and (population) variance over ``axes``.

    Example:
        >>> m, v = moments([1.0, 3.0], axes=[0])
        >>> m.data, v.data
        (array(2., dtype=float32), array(1., dtype=float32))
    """
    if synchronized:
        raise ValueError(
            "moments: synchronized=True (in Keras, for TensorFlow's distribution strategies only) is not supported; "
            "for statistics over the processes of a data-parallel fit use BatchNormalization(synchronized=True)"
        )
    x = _f(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    m = knp.mean(x, axis=axes, keepdims=True)
    v = knp.mean(knp.square(knp.subtract(x, m)), axis=axes, keepdims=True)
    if not keepdims:
        m, v = knp.squeeze(m, axes), knp.squeeze(v, axes)
    return m, v


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3) -> Tensor:
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics given per ``axis`` entry.

    Example:
        >>> batch_normalization([[1.0, 2.0]], [1.0, 0.0], [1.0, 4.0], axis=-1, epsilon=0.0).data
        array([[0., 1.]], dtype=float32)
    """
    x = _f(x)
    axis = axis % x.ndim
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def per_axis(t):
        t = knp._pair(t, x)[0]
        return knp.reshape(t, shape) if t.ndim == 1 else t

    inv = knp.rsqrt(knp.add(per_axis(variance), epsilon))
    if scale is not None:
        inv = knp.multiply(inv, per_axis(scale))
    out = knp.multiply(knp.subtract(x, per_axis(mean)), inv)
    return knp.add(out, per_axis(offset)) if offset is not None else out


def _same_shape(name, target, output):
    if target.shape != output.shape:
        raise ValueError(f"{name}: target and output must have the same shape, got {target.shape} and {output.shape}")


def binary_crossentropy(target, output, from_logits=False) -> Tensor:
    """Elementwise -(t log(p) + (1 - t) log(1 - p)), p clipped to [1e-7, 1 - 1e-7] (or from logits).

    Example:
        >>> binary_crossentropy([1.0], [0.5]).data.round(6)
        array([0.693147], dtype=float32)
    """
    output = _f(output)
    target = knp._pair(target, output)[0]
    _same_shape("binary_crossentropy", target, output)
    if from_logits:
        return prim.SigmoidBinaryCrossEntropy.apply(output, target)
    p = knp.clip(output, _EPSILON, 1.0 - _EPSILON)
    pos = knp.multiply(target, knp.log(p))
    neg = knp.multiply(knp.subtract(1.0, target), knp.log(knp.subtract(1.0, p)))
    return knp.negative(knp.add(pos, neg))


def categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """-sum(t * log(p)) along ``axis``; p is normalised to sum 1 and clipped (or log_softmax of logits).

    Example:
        >>> categorical_crossentropy([[0.0, 1.0]], [[0.5, 0.5]]).data.round(6)
        array([0.693147], dtype=float32)
    """
    output = _f(output)
    target = knp._pair(target, output)[0]
    _same_shape("categorical_crossentropy", target, output)
    if output.ndim < 1:
        raise ValueError("categorical_crossentropy: target and output must be at least rank 1")
    if from_logits:
        log_p = log_softmax(output, axis=axis)
    else:
        p = knp.divide(output, knp.sum(output, axis=axis, keepdims=True))
        log_p = knp.log(knp.clip(p, _EPSILON, 1.0 - _EPSILON))
    return knp.negative(knp.sum(knp.multiply(target, log_p), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """-log(p[target]) with integer targets (a trailing axis of size 1 is dropped), as Keras.

    Example:
        >>> sparse_categorical_crossentropy([1], [[0.5, 0.5]]).data.round(6)
        array([0.693147], dtype=float32)
    """
    output = _f(output)
    labels = convert_to_tensor(target).numpy().astype("int64")
    if labels.ndim == output.ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis=axis)
    if output.ndim < 1:
        raise ValueError("sparse_categorical_crossentropy: output must be at least rank 1")
    moved = knp.moveaxis(output, axis, -1)
    if labels.shape != moved.shape[:-1]:
        raise ValueError(
            f"sparse_categorical_crossentropy: target shape {labels.shape} does not match output shape {output.shape} "
            "without its class axis"
        )
    n = moved.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"sparse_categorical_crossentropy: target values must be in [0, {n}), got {labels.min()}..{labels.max()}"
        )
    if from_logits:
        log_p = log_softmax(moved, axis=-1)
    else:
        p = knp.divide(moved, knp.sum(moved, axis=-1, keepdims=True))
        log_p = knp.log(knp.clip(p, _EPSILON, 1.0 - _EPSILON))
    picked = knp.take_along_axis(log_p, labels[..., None], axis=-1)
    return knp.negative(knp.squeeze(picked, -1))


def normalize(x, axis=-1, order=2, epsilon=None) -> Tensor:
    """x / max(norm(x, order, axis), epsilon) (epsilon defaults to 1e-7).

    Example:
        >>> normalize([3.0, 4.0]).data
        array([0.6, 0.8], dtype=float32)
    """
    from . import linalg  # noqa: PLC0415

    x = _f(x)
    eps = _EPSILON if epsilon is None else epsilon
    norm = linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return knp.divide(x, knp.maximum(norm, eps))


def psnr(x1, x2, max_val) -> Tensor:
    """Peak signal-to-noise ratio in dB: 20 log10(max_val) - 10 log10(mean((x1 - x2)**2)).

    Example:
        >>> round(float(psnr([0.0, 1.0], [0.0, 0.9], 1.0).data), 4)
        23.0103
    """
    a, b = knp._pair(_f(x1), _f(x2))
    _same_shape("psnr", a, b)
    mse = knp.mean(knp.square(knp.subtract(a, b)))
    return knp.subtract(20 * math.log10(max_val), knp.multiply(knp.log10(mse), 10.0))


def depth_to_space(x, block_size, data_format="channels_last") -> Tensor:
    """Move blocks of channels into spatial blocks (4-D input).

    Example:
        >>> depth_to_space(knp.reshape(knp.arange(4.0), (1, 1, 1, 4)), 2).shape
        (1, 2, 2, 1)
    """
    x = convert_to_tensor(x)
    b = int(block_size)
    if data_format == "channels_first":
        x = knp.transpose(x, (0, 2, 3, 1))
    n, h, w, c = x.shape
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels ({c}) must be divisible by block_size**2 ({b * b})")
    y = knp.reshape(knp.transpose(knp.reshape(x, (n, h, w, b, b, c // (b * b))), (0, 1, 3, 2, 4, 5)), (n, h * b, w * b, -1))
    return knp.transpose(y, (0, 3, 1, 2)) if data_format == "channels_first" else y


def space_to_depth(x, block_size, data_format="channels_last") -> Tensor:
    """Move spatial blocks into channels (4-D input); the inverse of ``depth_to_space``.

    Example:
        >>> space_to_depth(knp.zeros((1, 2, 2, 1)), 2).shape
        (1, 1, 1, 4)
    """
    x = convert_to_tensor(x)
    b = int(block_size)
    if data_format == "channels_first":
        x = knp.transpose(x, (0, 2, 3, 1))
    n, h, w, c = x.shape
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width ({h}, {w}) must be divisible by block_size ({b})")
    y = knp.reshape(knp.transpose(knp.reshape(x, (n, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5)), (n, h // b, w // b, -1))
    return knp.transpose(y, (0, 3, 1, 2)) if data_format == "channels_first" else y


def top_k(x, k, sorted=True) -> tuple:  # noqa: A002
    """The k largest values along the last axis and their indices (int32); the values are differentiable.

    They always come largest first: ``sorted=False`` (Keras: any order) is satisfied by that order too.

    Example:
        >>> values, indices = top_k([1.0, 3.0, 2.0], 2)
        >>> values.data, indices.data
        (array([3., 2.], dtype=float32), array([1, 2], dtype=int32))
    """
    x = convert_to_tensor(x)
    order = array_module(x.data).argsort(-x.data if x.data.dtype.kind != "b" else ~x.data, axis=-1, kind="stable")
    idx = order[..., : int(k)].astype("int32")
    return knp.take_along_axis(x, idx, axis=-1), Tensor._wrap(idx, False)


def in_top_k(targets, predictions, k) -> Tensor:
    """Whether each target is among the k largest predictions of its row (ties count for the target).

    Example:
        >>> in_top_k([1, 0], [[0.1, 0.9], [0.1, 0.9]], 1).data
        array([ True, False])
    """
    t = convert_to_tensor(targets).numpy().astype("int64")
    p = _f(predictions).numpy()
    picked = np.take_along_axis(p, t[:, None], axis=1)
    better = (p > picked).sum(axis=1)
    return Tensor._wrap(better < int(k), False)


from .attention import dot_product_attention, layer_normalization, rms_normalization  # noqa: E402, F401  (Keras's nn names)

__all__ = [
    name
    for name, value in list(globals().items())
    if not name.startswith("_") and callable(value) and getattr(value, "__module__", None) == __name__
] + ["average_pool", "conv", "conv_transpose", "depthwise_conv", "max_pool", "separable_conv"]  # keras.ops.nn's convolutions
__all__ += ["ctc_decode", "ctc_loss"]  # keras.ops.nn's CTC (myelin/ops/ctc.py)
