"""Batch normalization as one primitive: statistics, normalization, scale and shift, and the update of the moving statistics.

``BatchNorm`` is what ``layers.BatchNormalization`` runs. In training it normalizes with the
batch's mean and biased variance over every axis but ``axis`` (only the positions a mask
keeps count, as Keras), and updates the moving statistics *in place, inside its forward*:
``moving = moving * momentum + batch * (1 - momentum)``. Because the update happens in the
forward, a training step recorded by ``myelin.tape`` and replayed updates them exactly as
the ordinary step does. In inference it normalizes with the moving statistics. Its
backward is the closed form (one pass over the gradient for the two channel sums), not a
chain of small ops.

Example:
    >>> import numpy as np
    >>> from myelin import Tensor
    >>> x = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32))
    >>> mean, var = Tensor(np.zeros(2, np.float32)), Tensor(np.ones(2, np.float32))
    >>> batch_norm(x, mean, var, training=True, momentum=0.5, epsilon=0.0).data
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> mean.data, var.data
    (array([1., 2.], dtype=float32), array([1. , 2.5], dtype=float32))
"""

from __future__ import annotations

from ..backend import array_module
from ..tensor import Function, Tensor
from .primitives import as_tensor

# Keras's backend.epsilon(): added to the count of kept positions when a mask weighs the statistics.
MASK_EPSILON = 1e-7


def _channel_shape(ndim: int, axis: int, size: int) -> tuple:
    shape = [1] * ndim
    shape[axis] = size
    return tuple(shape)


class BatchNorm(Function):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta per entry of ``axis``; see the module docstring.

    Inputs: x, moving_mean, moving_variance, then gamma (``scale``) and beta (``center``)
    when present, then the mask (``masked``; a float array of 0/1 broadcastable to x) when
    present. The moving statistics get no gradient.
    """

    def forward(
        self,
        x,
        moving_mean,
        moving_variance,
        *rest,
        axis=-1,
        epsilon=1e-3,
        momentum=0.99,
        training=False,
        scale=True,
        center=True,
        masked=False,
    ):
        xp = array_module(x)
        axis = axis % x.ndim
        cshape = _channel_shape(x.ndim, axis, x.shape[axis])
        reduce = tuple(i for i in range(x.ndim) if i != axis)
        rest = list(rest)
        gamma = rest.pop(0) if scale else None
        beta = rest.pop(0) if center else None
        weight = rest.pop(0) if masked else None
        self.axis, self.reduce, self.cshape, self.training = axis, reduce, cshape, training
        self.scale, self.center = scale, center
        if training:
            if weight is None:
                count = x.size // x.shape[axis]
                mean = x.mean(axis=reduce, keepdims=True)
                xc = x - mean
                var = (xc * xc).mean(axis=reduce, keepdims=True)
                self.count = count
            else:
                weight = xp.broadcast_to(weight.astype(x.dtype, copy=False), x.shape)
                total = weight.sum(axis=reduce, keepdims=True) + x.dtype.type(MASK_EPSILON)
                mean = (weight * x).sum(axis=reduce, keepdims=True) / total
                xc = x - mean
                wxc = weight * xc
                var = (wxc * xc).sum(axis=reduce, keepdims=True) / total
                self.weight, self.total, self.wxc_sum = weight, total, wxc.sum(axis=reduce, keepdims=True)
            moving_mean[...] = moving_mean * momentum + mean.reshape(-1) * (1.0 - momentum)
            moving_variance[...] = moving_variance * momentum + var.reshape(-1) * (1.0 - momentum)
        else:
            mean, var = moving_mean.reshape(cshape), moving_variance.reshape(cshape)
            xc = x - mean
        self.masked = weight is not None
        inv = 1.0 / xp.sqrt(var + x.dtype.type(epsilon))
        xhat = xc * inv
        self.inv, self.xhat = inv, xhat
        self.gamma = gamma
        out = xhat * gamma.reshape(cshape) if gamma is not None else xhat.copy()
        if beta is not None:
            out += beta.reshape(cshape)
        return out

    def backward(self, g):
        needs = self.needs_input_grad
        reduce, cshape, xhat, inv = self.reduce, self.cshape, self.xhat, self.inv
        grads = [None, None, None]
        gxhat = g * self.gamma.reshape(cshape) if self.gamma is not None else g
        if self.scale:
            grads.append((g * xhat).sum(axis=reduce) if needs[3] else None)
        if self.center:
            grads.append(g.sum(axis=reduce) if needs[3 + self.scale] else None)
        if self.masked:
            grads.append(None)
        if needs[0]:
            if not self.training:
                grads[0] = gxhat * inv
            else:
                a = gxhat.sum(axis=reduce, keepdims=True)
                b = (gxhat * xhat).sum(axis=reduce, keepdims=True)
                if not self.masked:
                    grads[0] = (inv / self.count) * (self.count * gxhat - a - xhat * b)
                else:
                    # d mean / d x_i = w_i / S, d var / d x_i = 2 w_i (x_i - mean) / S, and var also
                    # depends on the mean through sum(w (x - mean)) (not exactly 0: S holds an epsilon).
                    dmean = -inv * a + inv * inv * b * self.wxc_sum / self.total
                    grads[0] = gxhat * inv + (self.weight / self.total) * (dmean - inv * b * xhat)
        return tuple(grads)


def batch_norm(
    x,
    moving_mean: Tensor,
    moving_variance: Tensor,
    gamma: Tensor | None = None,
    beta: Tensor | None = None,
    mask=None,
    axis: int = -1,
    epsilon: float = 1e-3,
    momentum: float = 0.99,
    training: bool = False,
) -> Tensor:
    """Apply :class:`BatchNorm`; in training ``moving_mean`` and ``moving_variance`` are updated in place.

    ``mask`` (broadcastable to x, True where a position counts) weighs the batch statistics.

    Example:
        >>> import numpy as np
        >>> x = Tensor(np.array([[0.0], [4.0]], np.float32))
        >>> m, v = Tensor(np.array([2.0], np.float32)), Tensor(np.array([4.0], np.float32))
        >>> batch_norm(x, m, v, epsilon=0.0).data.ravel().tolist()
        [-1.0, 1.0]
    """
    x = as_tensor(x)
    inputs = [x, moving_mean, moving_variance]
    if gamma is not None:
        inputs.append(gamma)
    if beta is not None:
        inputs.append(beta)
    if mask is not None:
        inputs.append(mask if isinstance(mask, Tensor) else Tensor(mask))
    return BatchNorm.apply(
        *inputs,
        axis=int(axis),
        epsilon=float(epsilon),
        momentum=float(momentum),
        training=bool(training),
        scale=gamma is not None,
        center=beta is not None,
        masked=mask is not None,
    )


__all__ = ["BatchNorm", "batch_norm"]
