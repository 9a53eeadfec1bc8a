"""Batch normalization as one primitive: statistics, normalization, scale and shift, and the update of the moving statistics.

``BatchNorm`` is what ``layers.BatchNormalization`` runs. In training it normalizes with the
batch's mean and biased variance over every axis but ``axis`` (only the positions a mask
keeps count, as Keras), and updates the moving statistics *in place, inside its forward*:
``moving = moving * momentum + batch * (1 - momentum)``. Because the update happens in the
forward, a training step recorded by ``myelin.tape`` and replayed updates them exactly as
the ordinary step does. In inference it normalizes with the moving statistics. Its
backward is the closed form (one pass over the gradient for the two channel sums), not a
chain of small ops.

``synchronized=True`` (Keras's ``BatchNormalization(synchronized=True)``) computes the
training statistics over the global batch of a data-parallel fit (``myelin.distribution``
with more than one process): the forward sums ``[sum x, count]``, then ``sum (x - mean)^2``,
over the processes, and the backward ``[sum g, sum g * xhat]``, each weighted by the
process's share of the batch as the gradient allreduce weighs it
(:mod:`myelin.trainers.distributed`). Without such a run it is exactly the unsynchronized
computation. The process sums are looked up at call time (``sys.modules``), so ops never
import the distribution package.

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

import sys

import numpy as np

from ..backend import array_module
from ..tensor import Function, Tensor
from .primitives import _col_sum, as_tensor

# Keras's backend.epsilon(): added to the count of kept positions when a mask weighs the statistics.
MASK_EPSILON = 1e-7


def _process_sum_function():
    """The in-place sum over the processes of a data-parallel run (more than one process), else None."""
    dp = sys.modules.get("myelin.distribution.data_parallel")
    if dp is None or dp.active() is None:
        return None
    return sys.modules["myelin.distribution.world"].allreduce_


def _summed(parts: list, reduce) -> np.ndarray:
    """The float64 concatenation of ``parts`` (per-channel vectors and scalars), summed over the processes.

    The message is a host (NumPy) array, as MPI sends it; data-parallel runs are CPU processes.
    """
    buf = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1) for p in parts])
    return reduce(buf)


def _channel_shape(ndim: int, axis: int, size: int) -> tuple:
    shape = [1] * ndim
    shape[axis] = size
    return tuple(shape)


def _channel_view(x, axis: int):
    """``x`` as (rows, C) when ``axis`` is last, else (pre, C, post): a view, no copy."""
    c = x.shape[axis]
    post = 1
    for n in x.shape[axis + 1 :]:
        post *= n
    return x.reshape(-1, c) if post == 1 else x.reshape(-1, c, post)


def _channel_sum(v):
    """The per-channel sum of a channel view: one matrix-vector product for (rows, C)."""
    if v.ndim == 2:
        return _col_sum(v)
    return array_module(v).einsum("ncs->c", v)


def _channel_dot(a, b):
    """The per-channel sum of ``a * b`` (two channel views of the same shape), without a temporary."""
    return array_module(a).einsum("ij,ij->j" if a.ndim == 2 else "ncs,ncs->c", a, b)


class BatchNorm(Function):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta per entry of ``axis``; see the module docstring.

    Inputs: x, moving_mean, moving_variance, then gamma (``scale``) and beta (``center``)
    when present, then the mask (``masked``; 0/1 values broadcastable to x) when present.
    The moving statistics get no gradient. The data is viewed as (rows, channels) or (pre,
    channels, post) so that every reduction is one pass (a matrix-vector product or an
    ``einsum``), and the normalized values are computed in place in one buffer.
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
        synchronized=False,
    ):
        xp = array_module(x)
        axis = axis % x.ndim
        rest = list(rest)
        gamma = rest.pop(0) if scale else None
        beta = rest.pop(0) if center else None
        weight = rest.pop(0) if masked else None
        v = _channel_view(x, axis)
        bshape = (v.shape[1],) if v.ndim == 2 else (1, v.shape[1], 1)  # a per-channel vector against the view
        self.shape, self.bshape, self.training, self.axis = x.shape, bshape, training, axis
        self.scale, self.center = scale, center
        self.masked = weight is not None
        eps = x.dtype.type(epsilon)
        reduce = _process_sum_function() if synchronized and training else None
        self.reduce = reduce
        if reduce is not None:
            mean, var, xc = self._global_statistics(v, weight, bshape, reduce)
        elif training:
            if weight is None:
                count = v.size // v.shape[1]
                mean = _channel_sum(v) / x.dtype.type(count)
                xc = v - mean.reshape(bshape)
                var = _channel_dot(xc, xc) / x.dtype.type(count)
                self.count = count
            else:
                w = _channel_view(xp.broadcast_to(weight.astype(x.dtype, copy=False), x.shape), axis)
                total = _channel_sum(w) + x.dtype.type(MASK_EPSILON)
                mean = _channel_dot(w, v) / total
                xc = v - mean.reshape(bshape)
                wxc = w * xc
                var = _channel_dot(wxc, xc) / total
                self.weight, self.total, self.wxc_sum = w, total.reshape(bshape), _channel_sum(wxc).reshape(bshape)
        if training:
            moving_mean[...] = moving_mean * momentum + mean * (1.0 - momentum)
            moving_variance[...] = moving_variance * momentum + var * (1.0 - momentum)
        else:
            mean, var = moving_mean, moving_variance
            xc = v - mean.reshape(bshape)
        inv = (1.0 / xp.sqrt(var + eps)).reshape(bshape)
        xc *= inv  # now the normalized values
        self.inv, self.xhat = inv, xc
        self.gamma = None if gamma is None else gamma.reshape(bshape)
        if gamma is not None:
            out = xc * self.gamma
            if beta is not None:
                out += beta.reshape(bshape)
        else:
            out = xc + beta.reshape(bshape) if beta is not None else xc.copy()
        return out.reshape(x.shape)

    def _global_statistics(self, v, weight, bshape, reduce) -> tuple:
        """Mean and biased variance over every process's batch (two small allreduces); ``v - mean``."""
        xp, dtype, c = array_module(v), v.dtype, v.shape[1]
        count = v.size // c  # this process's positions per channel (its share of the batch: count / global count)
        if weight is None:
            first = _summed([_channel_sum(v), [count]], reduce)
            total = first[-1]
            if total == 0:
                raise ValueError("BatchNormalization(synchronized=True): no process has data in this training batch")
            mean = xp.asarray(first[:c] / total, dtype=dtype)
            xc = v - mean.reshape(bshape)
            var = xp.asarray(_summed([_channel_dot(xc, xc)], reduce) / total, dtype=dtype)
            self.count, self.global_count = count, total
            return mean, var, xc
        w = _channel_view(xp.broadcast_to(weight.astype(dtype, copy=False), self.shape), self.axis)
        first = _summed([_channel_sum(w), _channel_dot(w, v), [count]], reduce)
        if first[-1] == 0:
            raise ValueError("BatchNormalization(synchronized=True): no process has data in this training batch")
        total = first[:c] + MASK_EPSILON
        mean = xp.asarray(first[c : 2 * c] / total, dtype=dtype)
        xc = v - mean.reshape(bshape)
        wxc = w * xc
        second = _summed([_channel_dot(wxc, xc), _channel_sum(wxc)], reduce)
        var = xp.asarray(second[:c] / total, dtype=dtype)
        self.weight, self.total = w, xp.asarray(total, dtype=dtype).reshape(bshape)
        self.wxc_sum = xp.asarray(second[c:], dtype=dtype).reshape(bshape)
        self.count, self.global_count = count, first[-1]
        return mean, var, xc

    def _synchronized_grad(self, g, gsum, gxs, scale):
        """d loss / d x on this process: the global batch's formula, over this process's share of the batch.

        With G = share * g the global batch's upstream gradient and M the global count, the
        true gradient is ``scale * (G - sum G / M - xhat * sum (G xhat) / M)``; the gradient
        allreduce multiplies this process's by its share, so it is that over the share, and
        ``share * M`` is this process's count.
        """
        big_g, big_gx = self._global_sums(gsum, gxs)  # every process takes part, even one without rows
        if not self.count:
            return g.copy()  # no rows here: an empty gradient
        bshape, inv = self.bshape, self.inv
        if not self.masked:
            n = g.dtype.type(self.count)
            gx = self.xhat * (big_gx / n).reshape(bshape)
            array_module(g).subtract(g, gx, out=gx)
            gx -= (big_g / n).reshape(bshape)
            gx *= scale
            return gx
        gamma = 1.0 if self.gamma is None else self.gamma
        a, b = big_g.reshape(bshape) * gamma, big_gx.reshape(bshape) * gamma
        dmean = -inv * a + inv * inv * b * self.wxc_sum / self.total
        share = g.dtype.type(self.count / self.global_count)
        return g * scale + (self.weight / self.total) * (dmean - inv * b * self.xhat) / share

    def _global_sums(self, gsum, gxs) -> tuple:
        """The sums of g and g * xhat over every process, each weighted by its share of the batch.

        Process s's upstream gradient is that of its own mean loss; the gradient allreduce
        weighs it by its share ``count_s / global_count``, so the global batch's gradient
        sums are ``sum_s share_s * sum g_s`` (one allreduce of both vectors).
        """
        c = gsum.size
        summed = _summed([gsum * gsum.dtype.type(self.count), gxs * gxs.dtype.type(self.count)], self.reduce)
        summed /= self.global_count
        xp = array_module(gsum)
        return xp.asarray(summed[:c], dtype=gsum.dtype), xp.asarray(summed[c:], dtype=gsum.dtype)

    def backward(self, g):
        needs = self.needs_input_grad
        g = _channel_view(g, self.axis)
        xhat, inv, bshape, gamma = self.xhat, self.inv, self.bshape, self.gamma
        i_gamma, i_beta = 3, 3 + self.scale
        need_gamma = self.scale and needs[i_gamma]
        need_beta = self.center and needs[i_beta]
        stats = needs[0] and self.training
        gsum = _channel_sum(g) if need_beta or stats else None  # the sum of g per channel
        gxs = _channel_dot(g, xhat) if need_gamma or stats else None  # the sum of g * xhat per channel
        gx = None
        if needs[0]:
            scale = inv if gamma is None else inv * gamma
            if not self.training:
                gx = g * scale
            elif self.reduce is not None:
                gx = self._synchronized_grad(g, gsum, gxs, scale)
            elif not self.masked:
                n = g.dtype.type(self.count)
                gx = xhat * (gxs / n).reshape(bshape)
                array_module(g).subtract(g, gx, out=gx)
                gx -= (gsum / n).reshape(bshape)
                gx *= scale
            else:
                # d mean / d x_i = w_i / S, d var / d x_i = 2 w_i (x_i - mean) / S, and var also depends
                # on the mean through sum(w (x - mean)) (not exactly 0: S holds an epsilon).
                a = gsum.reshape(bshape) * (1.0 if gamma is None else gamma)  # sum of g * gamma
                b = gxs.reshape(bshape) * (1.0 if gamma is None else gamma)  # sum of g * gamma * xhat
                dmean = -inv * a + inv * inv * b * self.wxc_sum / self.total
                gx = g * scale + (self.weight / self.total) * (dmean - inv * b * xhat)
            gx = gx.reshape(self.shape)
        grads = [gx, None, None]
        if self.scale:
            grads.append(gxs if need_gamma else None)
        if self.center:
            grads.append(gsum if need_beta else None)
        if self.masked:
            grads.append(None)
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
    synchronized: bool = False,
) -> Tensor:
    """Apply :class:`BatchNorm`; in training ``moving_mean`` and ``moving_variance`` are updated in place.

    ``mask`` (broadcastable to x, True where a position counts) weighs the batch statistics;
    ``synchronized`` takes them over every process of a data-parallel fit (the module's docstring).

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
        synchronized=bool(synchronized),
    )


__all__ = ["BatchNorm", "batch_norm"]
