"""Convolution and pooling primitives: N-d convolution (1D/2D/3D), its transpose, max and average pooling.

Every primitive works on channels-last arrays inside (channels-first inputs are viewed, not
copied, with their channel axis moved last). A convolution is one matrix product: the
windows of the padded input are a strided view (``as_strided``), copied once into a
(positions, taps x channels) matrix (im2col) that meets the kernel reshaped to (taps x
channels, filters), whose Keras layout ``kernel_size + (in / groups, filters)`` is already
that matrix. The backward is two more products: the kernel's gradient (the saved windows
transposed times the output gradient) and the input's (the output gradient times the
kernel transposed, added back window tap by window tap, col2im). Python loops run only over
the taps of one window (at most a few dozen), never over pixels or batch items. Pooling
takes the maximum or the sum of the same strided views tap by tap; max pooling routes each
gradient to the first maximum of its window, as PyTorch does. Where the optional native
kernels are built (``myelin/native.py``), im2col, col2im, max pooling both ways, the bias
with the ReLU and the ReLU's gradient each run as one cache-friendly C pass over NumPy
arrays, split by batch item over the thread policy's threads, with the same numbers bit for
bit as these NumPy forms (``tests/test_native_conv.py``).

Example:
    >>> import numpy as np
    >>> from myelin import Tensor, ops
    >>> x = Tensor(np.ones((1, 4, 4, 1)), requires_grad=True)
    >>> y = ops.conv(x, np.ones((3, 3, 1, 2)), padding="same")
    >>> y.shape, float(y.data[0, 1, 1, 0]), float(y.data[0, 0, 0, 0])
    ((1, 4, 4, 2), 9.0, 4.0)
    >>> ops.max_pool(x, 2).shape
    (1, 2, 2, 1)
"""

# Over 800 lines because the convolution, its transpose and both poolings share one strided-window machinery, read together.
from __future__ import annotations

import itertools
import math

from .. import backend, native
from ..backend import array_module
from ..tensor import Function, Tensor
from .primitives import _FUSED_ACTIVATIONS, _activation_grad, _bias_activation, _col_sum, _scratch, as_tensor

# ---------------------------------------------------------------------------- geometry


def _tuple(value, rank: int, name: str, op: str) -> tuple[int, ...]:
    """``value`` (an int or ``rank`` ints, all positive) as a tuple of ``rank`` ints."""
    if isinstance(value, bool):
        raise ValueError(f"{op}: {name} must be a positive integer or {rank} of them, got {value!r}")
    if isinstance(value, int) or (hasattr(value, "__index__") and not hasattr(value, "__len__")):
        out = (int(value),) * rank
    else:
        try:
            out = tuple(int(v) for v in value)
        except TypeError:
            raise ValueError(f"{op}: {name} must be a positive integer or {rank} of them, got {value!r}") from None
    if len(out) != rank or any(v <= 0 for v in out):
        raise ValueError(f"{op}: {name} must be a positive integer or {rank} of them, got {value!r}")
    return out


def _padding(padding, op: str, causal: bool = False) -> str:
    allowed = ("valid", "same", "causal") if causal else ("valid", "same")
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"{op}: padding must be one of {allowed}, got {padding!r}")
    return value


def _data_format(data_format, op: str) -> str:
    value = "channels_last" if data_format is None else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return value


def padding_amounts(size: int, window: int, stride: int, padding: str) -> tuple[int, int]:
    """(left, right) zeros that ``padding`` adds along one axis of ``size`` for an effective ``window``.

    ``same`` is TensorFlow's rule (output ceil(size / stride), the odd zero on the right),
    ``causal`` puts all ``window - 1`` zeros on the left, ``valid`` adds none.

    Example:
        >>> padding_amounts(28, 3, 1, "same"), padding_amounts(5, 2, 2, "same"), padding_amounts(5, 3, 1, "causal")
        ((1, 1), (0, 1), (2, 0))
    """
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (window - 1, 0)
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return (total // 2, total - total // 2)


def _out_sizes(sizes, pads, windows, strides):
    return tuple((n + lo + hi - w) // s + 1 for n, (lo, hi), w, s in zip(sizes, pads, windows, strides))


def _windows(xpad, kernel, strides, dilation, out):
    """The (N, *out, *kernel, C) strided view of the windows of a channels-last array (no copy)."""
    xp = array_module(xpad)
    st = xpad.strides
    rank = len(kernel)
    shape = (xpad.shape[0], *out, *kernel, xpad.shape[-1])
    steps = (st[0], *(st[1 + i] * strides[i] for i in range(rank)), *(st[1 + i] * dilation[i] for i in range(rank)), st[-1])
    if xp.__name__ == "numpy":
        return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=steps, writeable=False)
    return xp.lib.stride_tricks.as_strided(xpad, shape=shape, strides=steps)  # CuPy's takes no writeable flag


def _tap_slices(kernel, strides, dilation, out):
    """For every tap of the window: the index of the padded-input positions it reads at every output."""
    taps = []
    for tap in itertools.product(*(range(k) for k in kernel)):
        index = tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in zip(tap, dilation, strides, out))
        taps.append((tap, (slice(None), *index, slice(None))))
    return taps


def _add_windows(cols, padded_shape, kernel, strides, dilation, out):
    """col2im: the (N, *out, *kernel, C) window values added back into a zero (N, *padded, C) array.

    The native kernel (one pass, bit for bit these sums) when it is there and takes ``cols``.
    """
    acc = native.col2im(cols, padded_shape, kernel, strides, dilation, out)
    if acc is not None:
        return acc
    xp = array_module(cols)
    acc = xp.zeros(padded_shape, dtype=cols.dtype)
    rank = len(kernel)
    lead = (slice(None),) * (1 + rank)
    for tap, index in _tap_slices(kernel, strides, dilation, out):
        acc[index] += cols[(*lead, *tap, slice(None))]
    return acc


def _pad(x, pads, value=0.0, buffers=None, key="pad"):
    """Channels-last ``x`` with ``pads`` (left, right) along each spatial axis (``x`` itself when none).

    ``buffers`` (a dict kept on a Function that a compiled step replays) holds the padded
    array of the last call: its border already holds ``value``, only the interior is written.
    """
    if not any(lo or hi for lo, hi in pads):
        return x
    xp = array_module(x)
    shape = (x.shape[0], *(n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], pads)), x.shape[-1])
    out = None if buffers is None else buffers.get(key)
    if out is None or out.shape != shape or out.dtype != x.dtype:
        out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
        if buffers is not None:
            buffers[key] = out
    out[_interior(x.shape, pads)] = x
    return out


def _im2col(view, rows: int, buffers, key: str, source=None, geometry=None):
    """The windows ``view`` copied into a (rows, taps * channels) matrix, into the last call's buffer when it fits.

    With ``source`` (the padded array ``view`` looks into) and ``geometry`` (kernel, strides,
    dilation, out), the native kernel makes the copy when it can.
    """
    xp = array_module(view)
    shape = (rows, view.size // rows if rows else 0)
    out = buffers.get(key)
    if out is None or out.shape != shape or out.dtype != view.dtype:
        out = xp.empty(shape, dtype=view.dtype)
        buffers[key] = out
    if source is None or not native.im2col(source, *geometry, out):
        xp.copyto(out.reshape(view.shape), view)
    return out


def _interior(shape, pads):
    return (slice(None), *(slice(lo, lo + n) for n, (lo, _) in zip(shape[1:-1], pads)), slice(None))


def _channels_last(x, channels_first: bool):
    return array_module(x).moveaxis(x, 1, -1) if channels_first else x


def _channels_back(x, channels_first: bool):
    return array_module(x).moveaxis(x, -1, 1) if channels_first else x


def _shift(a, sizes, offsets):
    """``out[o] = a[o + offset]`` along each spatial axis of a channels-last array (zeros outside ``a``).

    A positive offset crops the start, a negative one pads it; ``sizes`` are the result's
    spatial sizes.
    """
    xp = array_module(a)
    out_index, in_index = [slice(None)], [slice(None)]
    for n_out, n_in, c in zip(sizes, a.shape[1:-1], offsets):
        lo, hi = max(0, -c), min(n_out, n_in - c)
        out_index.append(slice(lo, max(lo, hi)))
        in_index.append(slice(lo + c, max(lo, hi) + c))
    if tuple(sizes) == a.shape[1:-1] and not any(offsets):
        return a
    out = xp.zeros((a.shape[0], *sizes, a.shape[-1]), dtype=a.dtype)
    out[(*out_index, slice(None))] = a[(*in_index, slice(None))]
    return out


# ---------------------------------------------------------------------------- convolution


def _grouped(cols, m, taps, groups):
    """(M, taps * C) windows as (groups, M, taps * C / groups): each group's channels together."""
    xp = array_module(cols)
    c = cols.shape[-1] // taps
    return xp.ascontiguousarray(cols.reshape(m, taps, groups, c // groups).transpose(2, 0, 1, 3)).reshape(groups, m, -1)


_KERNEL_GRAD_GROUPS = 8  # a chunked kernel gradient's partial sums: fixed groups of chunks, summed in order


def _chunk_plan(xp, n: int, out_sp, width: int, itemsize: int) -> list | None:
    """The chunks of a convolution's windows when they are copied a chunk at a time; None: all at once.

    NumPy arrays only (on a GPU one large product is faster), when the windows are more than
    ``native.PRODUCT_CHUNK_BYTES``: each chunk's windows then stay in cache from their copy to
    their product, and the whole window matrix is never in memory (1.15-1.25x faster a layer
    step than copying all, then one product, measured). A chunk is (b0, b1, r0, r1): batch
    items b0:b1, output rows r0:r1 along the first spatial axis (whole items when one fits).
    """
    rest = math.prod(out_sp[1:])
    item_bytes = out_sp[0] * rest * width * itemsize
    if xp.__name__ != "numpy" or not item_bytes or n * item_bytes <= native.PRODUCT_CHUNK_BYTES:
        return None
    items = native.PRODUCT_CHUNK_BYTES // item_bytes
    if items:
        return [(b0, min(n, b0 + items), 0, out_sp[0]) for b0 in range(0, n, items)]
    rows = max(1, native.PRODUCT_CHUNK_BYTES // (rest * width * itemsize))
    return [(b, b + 1, r0, min(out_sp[0], r0 + rows)) for b in range(n) for r0 in range(0, out_sp[0], rows)]


def _chunk_windows(xpad, view, geometry, chunk, width: int):
    """A chunk's windows, (its rows, width), in this thread's chunk buffer; and its first row in the whole matrix."""
    (ksize, strides, dilation, out_sp), (b0, b1, r0, r1) = geometry, chunk
    rest = math.prod(out_sp[1:])
    cols = native.chunk_buffer((b1 - b0) * (r1 - r0) * rest, width, xpad.dtype)
    source = xpad[b0:b1]
    if (r0, r1) != (0, out_sp[0]):  # the input rows these output rows read
        source = source[:, r0 * strides[0] : (r1 - 1) * strides[0] + (ksize[0] - 1) * dilation[0] + 1]
    if not native.im2col(source, ksize, strides, dilation, (r1 - r0, *out_sp[1:]), cols):
        array_module(xpad).copyto(cols.reshape(view[b0:b1, r0:r1].shape), view[b0:b1, r0:r1])
    return cols, (b0 * out_sp[0] + r0) * rest


def _chunked_product(xpad, view, geometry, w, chunks: list):
    """windows @ ``w`` a chunk at a time, split over the threads.

    Each output row is the same product row as the whole product's: the same numbers.
    """
    xp, m = array_module(xpad), xpad.shape[0] * math.prod(geometry[3])
    out = xp.empty((m, w.shape[1]), dtype=xp.result_type(xpad, w))

    def call(lo: int, hi: int) -> None:
        for chunk in chunks[lo:hi]:
            cols, start = _chunk_windows(xpad, view, geometry, chunk, w.shape[0])
            xp.matmul(cols, w, out=out[start : start + len(cols)])

    native.parallel(call, len(chunks), m * (w.shape[0] + w.shape[1]))
    return out


def _chunked_kernel_grad(xpad, view, geometry, g, chunks: list, width: int):
    """windows^T @ ``g``, the windows copied again a chunk at a time: the chunks' products summed in a fixed order.

    Fixed groups of chunks (``_KERNEL_GRAD_GROUPS``), each a sum of its chunks in order, then
    the groups' sums in order: the same numbers on any thread count, and in the NumPy form
    (which takes the same chunks).
    """
    xp = array_module(g)
    groups = min(len(chunks), _KERNEL_GRAD_GROUPS)
    bounds = [len(chunks) * i // groups for i in range(groups + 1)]
    parts = xp.empty((groups, width, g.shape[1]), dtype=xp.result_type(xpad, g))

    def call(lo: int, hi: int) -> None:
        for group in range(lo, hi):
            for i in range(bounds[group], bounds[group + 1]):
                cols, start = _chunk_windows(xpad, view, geometry, chunks[i], width)
                rows = g[start : start + len(cols)]
                if i == bounds[group]:
                    xp.matmul(cols.T, rows, out=parts[group])
                else:
                    parts[group] += cols.T @ rows

    native.parallel(call, groups, g.size + xpad.size * math.prod(geometry[0]))
    return parts.sum(axis=0)


class Conv(Function):
    """N-d cross-correlation with zero padding, strides, dilation and groups, plus bias and activation, in one node.

    ``x`` is (batch, *spatial, channels) or, with ``channels_first``, (batch, channels,
    *spatial); ``kernel`` is (*kernel_size, channels / groups, filters); ``pads`` gives the
    zeros (left, right) added along each spatial axis. The activation is one of linear,
    relu, tanh, applied in place to the output buffer.

    Example:
        >>> import numpy as np
        >>> Conv.apply(Tensor(np.ones((1, 4, 1))), Tensor(np.ones((3, 1, 2))), pads=((1, 1),)).data[0, :, 0]
        array([2., 3., 3., 2.])
    """

    def forward(
        self,
        x,
        kernel,
        bias=None,
        strides=(1,),
        pads=((0, 0),),
        dilation=(1,),
        groups=1,
        channels_first=False,
        activation="linear",
    ):
        xp = array_module(x)
        xl = _channels_last(x, channels_first)
        rank = xl.ndim - 2
        ksize, filters = kernel.shape[:rank], kernel.shape[-1]
        windows = tuple((k - 1) * d + 1 for k, d in zip(ksize, dilation))
        out_sp = _out_sizes(xl.shape[1:-1], pads, windows, strides)
        # Scratch arrays survive on this Function: a compiled step replays it, and then allocates nothing here.
        buffers = self.__dict__.setdefault("buffers", {})
        xpad = _pad(xl, pads, buffers=buffers)
        view = _windows(xpad, ksize, strides, dilation, out_sp)
        n, taps = xl.shape[0], math.prod(ksize)
        m = n * math.prod(out_sp)
        width, geometry = taps * xl.shape[-1], (ksize, strides, dilation, out_sp)
        w = kernel.reshape(-1, filters) if groups == 1 else None
        chunks = None if groups != 1 or width <= native.SMALL_K_MAX else _chunk_plan(xp, n, out_sp, width, xl.itemsize)
        cols = fused = None
        if chunks:  # the windows a chunk at a time, each chunk's product while they are in cache
            backend.blas_threads_for(2.0 * m * width * filters / len(chunks))
            out = _chunked_product(xpad, view, geometry, w, chunks)
        else:
            cols = _im2col(view, m, buffers, "cols", xpad, geometry)  # the one copy of the windows
            if groups == 1 and activation != "tanh":  # a short sum (a first layer's taps): product, bias and ReLU
                fused = native.small_k_product(cols, w, bias, activation == "relu")  # in one native pass
            if fused is None:
                backend.blas_threads_for(2.0 * cols.size * filters / groups)
                if groups == 1:
                    out = native.matmul(cols, w)
                else:
                    cols = _grouped(cols, m, taps, groups)
                    w = xp.ascontiguousarray(kernel.reshape(-1, groups, filters // groups).transpose(1, 0, 2))
                    out = (cols @ w).transpose(1, 0, 2).reshape(m, filters)
        if fused is None:
            _bias_activation(out, bias, activation)
        else:
            out = fused
        needs = self.needs_input_grad
        if needs is not None:
            self.cols = cols if needs[1] else None
            self.chunks = (xpad, view, chunks) if chunks and needs[1] else None  # the windows copied again
            self.w = w if needs[0] else None
            self.out = out if activation != "linear" else None
            self.geometry = (xpad.shape, ksize, strides, dilation, out_sp, pads, xl.shape, taps, m)
            self.kernel_shape, self.groups, self.activation, self.channels_first = (
                kernel.shape,
                groups,
                activation,
                channels_first,
            )
            self.has_bias = bias is not None
        return _channels_back(out.reshape(n, *out_sp, filters), channels_first)

    def backward(self, g):
        xp = array_module(g)
        padded_shape, ksize, strides, dilation, out_sp, pads, x_shape, taps, m = self.geometry
        groups, filters = self.groups, self.kernel_shape[-1]
        g = _channels_last(g, self.channels_first).reshape(m, filters)
        need_x, need_k = self.needs_input_grad[:2]
        if groups == 1 and need_k and not need_x and self.cols is not None and self.activation != "tanh":
            # The data batch's layer with a short sum: ReLU mask, kernel and bias gradients in one native pass.
            fused = native.small_k_grads(g, self.out, self.cols, self.has_bias and self.needs_input_grad[2])
            if fused is not None:
                gk = fused[0].reshape(self.kernel_shape)
                return (None, gk, fused[1]) if self.has_bias else (None, gk)
        if self.activation != "linear":
            g = _activation_grad(g, self.out, self.activation, self.buffers)
        gx = gk = None
        gg = None if groups == 1 else xp.ascontiguousarray(g.reshape(m, groups, -1).transpose(1, 0, 2))
        if need_k and self.chunks is not None:
            xpad, view, chunks = self.chunks
            width = math.prod(self.kernel_shape[:-1])
            backend.blas_threads_for(2.0 * m * width * filters / len(chunks))
            geometry = (ksize, strides, dilation, out_sp)
            gk = _chunked_kernel_grad(xpad, view, geometry, g, chunks, width).reshape(self.kernel_shape)
        elif need_k:
            backend.blas_threads_for(2.0 * self.cols.size * filters / groups)
            if groups == 1:
                gk = native.matmul(self.cols.T, g).reshape(self.kernel_shape)
            else:
                gk = (self.cols.transpose(0, 2, 1) @ gg).transpose(1, 0, 2).reshape(self.kernel_shape)
        if need_x:
            c = x_shape[-1]
            backend.blas_threads_for(2.0 * m * taps * c * filters / groups)
            # Natively: the product and its col2im a chunk of batch items at a time, the windows never leaving the
            # cache (faster than the full correlation below at every size measured).
            gpad = native.product_col2im(g, self.w.T, padded_shape, ksize, strides, dilation, out_sp) if groups == 1 else None
            # Else, stride 1: the full correlation of the gradient (copies m_in x taps x filters numbers) when that
            # is not much more than the per-tap adds of the window products (m x taps x channels numbers).
            m_in = math.prod(x_shape[:-1])
            if gpad is None and groups == 1 and all(st == 1 for st in strides) and m_in * filters <= 1.5 * m * c:
                gx = _channels_back(self._input_grad_by_conv(g), self.channels_first)
            else:
                if gpad is None:
                    if groups == 1:
                        gcols = _scratch(self.buffers, "g_windows", (m, self.w.shape[0]), g.dtype, xp)
                        native.matmul(g, self.w.T, out=gcols)
                    else:
                        gcols = (gg @ self.w.transpose(0, 2, 1)).reshape(groups, m, taps, c // groups).transpose(1, 2, 0, 3)
                    gcols = gcols.reshape(x_shape[0], *out_sp, *ksize, c)
                    gpad = _add_windows(gcols, padded_shape, ksize, strides, dilation, out_sp)
                gx = _channels_back(gpad[_interior(x_shape, pads)], self.channels_first)
        if not self.has_bias:
            return gx, gk
        gb = _col_sum(g) if self.needs_input_grad[2] else None
        return gx, gk, gb

    def _input_grad_by_conv(self, g):
        """Stride 1: the input gradient is the full correlation of the output gradient with the flipped kernel.

        One im2col copy and one product, instead of a product and an add per window tap:
        the output gradient padded by (window - 1 - left, window - 1 - right) along each axis,
        its windows at every input position, times the kernel turned 180 degrees with its
        channel axes swapped.
        """
        _, ksize, _, dilation, out_sp, pads, x_shape, taps, _ = self.geometry
        filters, rank = self.kernel_shape[-1], len(ksize)
        windows = [(k - 1) * d + 1 for k, d in zip(ksize, dilation)]
        buffers = self.buffers
        pads_g = [(w - 1 - lo, w - 1 - hi) for w, (lo, hi) in zip(windows, pads)]
        g_pad = _pad(g.reshape(x_shape[0], *out_sp, filters), pads_g, buffers=buffers, key="g_pad")
        view = _windows(g_pad, ksize, (1,) * rank, dilation, x_shape[1:-1])
        cols = _im2col(view, math.prod(x_shape[:-1]), buffers, "g_cols", g_pad, (ksize, (1,) * rank, dilation, x_shape[1:-1]))
        flipped = self.w.reshape(self.kernel_shape)[(slice(None, None, -1),) * rank]  # (*k, C, F) turned 180 degrees
        w_t = array_module(g).ascontiguousarray(flipped.swapaxes(-1, -2)).reshape(taps * filters, x_shape[-1])
        return native.matmul(cols, w_t).reshape(x_shape)


class ConvTranspose(Function):
    """N-d transposed convolution (the input gradient of :class:`Conv`), plus bias and activation.

    ``kernel`` is (*kernel_size, filters, channels), Keras's layout; the full result of size
    ``(n - 1) * stride + dilated kernel`` along each axis is cropped by ``crops`` (left, right;
    a negative amount pads with zeros instead), as Keras's ``padding`` and ``output_padding``
    ask.

    Example:
        >>> import numpy as np
        >>> ConvTranspose.apply(Tensor(np.ones((1, 2, 1))), Tensor(np.ones((2, 1, 1))), strides=(2,)).data.ravel()
        array([1., 1., 1., 1.])
    """

    def forward(
        self, x, kernel, bias=None, strides=(1,), crops=((0, 0),), dilation=(1,), channels_first=False, activation="linear"
    ):
        xl = _channels_last(x, channels_first)
        rank = xl.ndim - 2
        ksize, filters = kernel.shape[:rank], kernel.shape[-2]
        in_sp, n = xl.shape[1:-1], xl.shape[0]
        full = tuple((i - 1) * s + (k - 1) * d + 1 for i, s, k, d in zip(in_sp, strides, ksize, dilation))
        out_sp = tuple(f - lo - hi for f, (lo, hi) in zip(full, crops))
        m = n * math.prod(in_sp)
        w = kernel.reshape(-1, kernel.shape[-1])  # (taps * filters, channels)
        x2 = xl.reshape(m, xl.shape[-1])
        gcols = native.matmul(x2, w.T).reshape(n, *in_sp, *ksize, filters)
        full_out = _add_windows(gcols, (n, *full, filters), ksize, strides, dilation, in_sp)
        out = _shift(full_out, out_sp, tuple(lo for lo, _ in crops))
        _bias_activation(out, bias, activation)
        if self.needs_input_grad is not None:
            self.x2 = x2 if self.needs_input_grad[1] else None
            self.w = w
            self.out = out if activation != "linear" else None
            self.geometry = (full, out_sp, crops, ksize, strides, dilation, in_sp, xl.shape, m)
            self.kernel_shape, self.activation, self.channels_first = kernel.shape, activation, channels_first
            self.has_bias = bias is not None
        return _channels_back(out, channels_first)

    def backward(self, g):
        full, _, crops, ksize, strides, dilation, in_sp, x_shape, m = self.geometry
        g = _channels_last(g, self.channels_first)
        if self.activation == "relu":
            g = g * (self.out > 0)
        elif self.activation == "tanh":
            g = g * (1 - self.out * self.out)
        g_full = _shift(g, full, tuple(-lo for lo, _ in crops))
        cols = _windows(g_full, ksize, strides, dilation, in_sp).reshape(m, -1)
        need_x, need_k = self.needs_input_grad[:2]
        gx = gk = None
        if need_x:
            gx = _channels_back(native.matmul(cols, self.w).reshape(x_shape), self.channels_first)
        if need_k:
            gk = native.matmul(cols.T, self.x2).reshape(self.kernel_shape)
        if not self.has_bias:
            return gx, gk
        gb = g.sum(axis=tuple(range(g.ndim - 1))) if self.needs_input_grad[2] else None
        return gx, gk, gb


# ---------------------------------------------------------------------------- pooling


class MaxPool(Function):
    """Max pooling over windows of ``pool`` taps with ``strides``; ``pads`` are filled with -inf.

    The forward is a running maximum over the taps of the window (one strided view each)
    and keeps, per tap, where it beat every earlier tap; the backward walks the taps from
    the last and sends each gradient to the last tap that won, i.e. to the first maximum of
    its window (PyTorch's rule for ties). The native kernel does the forward in one pass and
    keeps the winning tap of each window (uint8) instead of the per-tap masks.

    Example:
        >>> import numpy as np
        >>> MaxPool.apply(Tensor(np.array([[[1.0], [3.0], [2.0], [0.0]]]))).data.ravel()
        array([3., 2.])
    """

    def forward(self, x, pool=(2,), strides=(2,), pads=((0, 0),), channels_first=False):
        xp = array_module(x)
        xl = _channels_last(x, channels_first)
        out_sp = _out_sizes(xl.shape[1:-1], pads, pool, strides)
        xpad = _pad(xl, pads, value=-xp.inf)
        taps = _tap_slices(pool, strides, (1,) * len(pool), out_sp)
        track = self.needs_input_grad is not None
        wins, arg = [], None
        fast = native.max_pool(xp.ascontiguousarray(xpad) if native.available() else xpad, pool, strides, out_sp)
        if fast is not None:  # one pass: the maxima and the winning tap of each window
            best, arg = fast
        else:
            best = xp.array(xpad[taps[0][1]], copy=True)  # contiguous (N, *out, C)
            buffers = self.__dict__.setdefault("buffers", {})
            for t, (_, index) in enumerate(taps[1:]):
                tap = xpad[index]
                if track:
                    wins.append(xp.greater(tap, best, out=_scratch(buffers, f"wins{t}", best.shape, bool, xp)))
                xp.maximum(best, tap, out=best)
        if track:
            self.wins, self.arg, self.taps, self.padded_shape = wins, arg, taps, xpad.shape
            self.pool, self.strides = pool, strides
            self.x_shape, self.pads, self.channels_first = xl.shape, pads, channels_first
            self.disjoint = all(s >= p for s, p in zip(strides, pool))
            # windows that tile the padded input exactly leave no position unwritten
            self.tiled = all(s == p and o * s == n for s, p, o, n in zip(strides, pool, out_sp, xpad.shape[1:-1]))
        return _channels_back(best, channels_first)

    def backward(self, g):
        xp = array_module(g)
        g = _channels_last(g, self.channels_first)
        if self.arg is not None:
            return (_channels_back(self._grad_from_arg(g)[_interior(self.x_shape, self.pads)], self.channels_first),)
        gpad = (xp.empty if self.tiled else xp.zeros)(self.padded_shape, dtype=g.dtype)
        taken = None
        buffers = self.buffers
        scratch = None if self.disjoint else _scratch(buffers, "g_tap", g.shape, g.dtype, xp)
        for t in range(len(self.taps) - 1, -1, -1):
            if t == 0:  # the first tap holds the maximum wherever no later tap won
                hit = xp.ones(g.shape, dtype=bool) if taken is None else xp.logical_not(taken, out=taken)
            else:
                won = self.wins[t - 1]
                if taken is None:
                    hit, taken = won, xp.copyto(_scratch(buffers, "taken", won.shape, bool, xp), won) or buffers["taken"]
                else:
                    hit = xp.greater(won, taken, out=_scratch(buffers, "hit", won.shape, bool, xp))  # won, not taken later
                    xp.logical_or(taken, won, out=taken)
            index = self.taps[t][1]
            if self.disjoint:  # each input position belongs to one window: write, do not add
                xp.multiply(g, hit, out=gpad[index])
            else:
                gpad[index] += xp.multiply(g, hit, out=scratch)
        return (_channels_back(gpad[_interior(self.x_shape, self.pads)], self.channels_first),)

    def _grad_from_arg(self, g):
        """The padded input gradient from the native forward's winning taps: native, or NumPy's same operations."""
        xp = array_module(g)
        gpad = native.max_pool_grad(
            xp.ascontiguousarray(g), self.arg, self.padded_shape, self.pool, self.strides, self.disjoint
        )
        if gpad is not None:
            return gpad
        gpad = xp.zeros(self.padded_shape, dtype=g.dtype)
        for t in range(len(self.taps) - 1, -1, -1):
            hit = self.arg == t
            index = self.taps[t][1]
            if self.disjoint:
                xp.multiply(g, hit, out=gpad[index])
            else:
                gpad[index] += g * hit
        return gpad


def _window_counts(sizes, pads, pool, strides, out_sp, xp, dtype):
    """How many taps of each window lie inside the unpadded input: a (1, *out, 1) array (the average's divisor)."""
    count = None
    for axis, (n, (lo, _), p, s, o) in enumerate(zip(sizes, pads, pool, strides, out_sp)):
        start = xp.arange(o) * s - lo
        inside = xp.minimum(start + p, n) - xp.maximum(start, 0)
        shape = [1] * (len(sizes) + 2)
        shape[axis + 1] = o
        inside = inside.reshape(shape).astype(dtype)
        count = inside if count is None else count * inside
    return count


class AveragePool(Function):
    """Average pooling over windows of ``pool`` taps with ``strides``; padded positions are not counted.

    Example:
        >>> import numpy as np
        >>> AveragePool.apply(Tensor(np.array([[[1.0], [3.0], [2.0], [0.0]]]))).data.ravel()
        array([2., 1.])
    """

    def forward(self, x, pool=(2,), strides=(2,), pads=((0, 0),), channels_first=False):
        xp = array_module(x)
        xl = _channels_last(x, channels_first)
        out_sp = _out_sizes(xl.shape[1:-1], pads, pool, strides)
        xpad = _pad(xl, pads)
        taps = _tap_slices(pool, strides, (1,) * len(pool), out_sp)
        total = xp.array(xpad[taps[0][1]], copy=True)
        for _, index in taps[1:]:
            total += xpad[index]
        if any(lo or hi for lo, hi in pads):
            count = _window_counts(xl.shape[1:-1], pads, pool, strides, out_sp, xp, x.dtype)
            total /= count
        else:
            count = None
            total *= x.dtype.type(1.0 / math.prod(pool))
        if self.needs_input_grad is not None:
            self.count, self.taps, self.padded_shape, self.pool = count, taps, xpad.shape, pool
            self.x_shape, self.pads, self.channels_first = xl.shape, pads, channels_first
            self.disjoint = all(s >= p for s, p in zip(strides, pool))
        return _channels_back(total, channels_first)

    def backward(self, g):
        xp = array_module(g)
        g = _channels_last(g, self.channels_first)
        share = g / self.count if self.count is not None else g * g.dtype.type(1.0 / math.prod(self.pool))
        gpad = xp.zeros(self.padded_shape, dtype=g.dtype)
        for _, index in self.taps:
            if self.disjoint:
                gpad[index] = share
            else:
                gpad[index] += share
        return (_channels_back(gpad[_interior(self.x_shape, self.pads)], self.channels_first),)


# ---------------------------------------------------------------------------- the functions


def _check_input(x, rank_options, op: str) -> int:
    if x.ndim not in rank_options:
        raise ValueError(
            f"{op}: inputs must have rank {' or '.join(map(str, rank_options))} (batch, *spatial, channels), "
            f"got shape {tuple(x.shape)}"
        )
    return x.ndim - 2


def conv_nd(
    inputs,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    data_format=None,
    dilation_rate=1,
    groups: int | None = None,
    activation: str = "linear",
    op: str = "conv",
) -> Tensor:
    """``activation(conv(inputs, kernel) + bias)`` in one node: what the convolution layers call.

    ``groups`` defaults to the input channels over ``kernel.shape[-2]``; ``padding`` may also
    be ``"causal"`` (1-D). ``activation`` is linear, relu or tanh; ``op`` names the caller in errors.

    Example:
        >>> import numpy as np
        >>> conv_nd(np.ones((1, 5, 2)), np.ones((3, 2, 1)), np.ones(1), padding="causal", activation="relu").data.ravel()
        array([3., 5., 7., 7., 7.])
    """
    x = as_tensor(inputs)
    k = as_tensor(kernel, x)
    rank = _check_input(x, (3, 4, 5), op)
    fmt = _data_format(data_format, op)
    pad = _padding(padding, op, causal=rank == 1)
    if activation not in _FUSED_ACTIVATIONS:
        raise ValueError(f"{op}: activation must be one of {_FUSED_ACTIVATIONS}, got {activation!r}")
    if k.ndim != rank + 2:
        raise ValueError(f"{op}: kernel must have rank {rank + 2} (*kernel_size, in_channels, filters), got shape {k.shape}")
    strides = _tuple(strides, rank, "strides", op)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", op)
    channels = x.shape[1] if fmt == "channels_first" else x.shape[-1]
    if groups is None:
        if channels % k.shape[-2]:
            raise ValueError(
                f"{op}: the input's {channels} channels must be a multiple of the kernel's {k.shape[-2]} input channels "
                f"(kernel shape {k.shape}, input shape {x.shape})"
            )
        groups = channels // k.shape[-2]
    if channels != k.shape[-2] * groups or k.shape[-1] % groups:
        raise ValueError(
            f"{op}: expected {k.shape[-2] * groups} input channels (kernel shape {k.shape}, groups={groups}) "
            f"and filters divisible by groups, got input shape {x.shape}"
        )
    sizes = x.shape[2:] if fmt == "channels_first" else x.shape[1:-1]
    windows = [(n - 1) * d + 1 for n, d in zip(k.shape[:rank], dilation)]
    pads = tuple(padding_amounts(n, w, s, pad) for n, w, s in zip(sizes, windows, strides))
    for n, (lo, hi), w in zip(sizes, pads, windows):
        if n + lo + hi < w:
            raise ValueError(
                f"{op}: the kernel (size {tuple(k.shape[:rank])}, dilation {dilation}) is larger than the padded input: "
                f"input spatial shape {tuple(sizes)} with padding {pad!r}"
            )
    args = (x, k) if bias is None else (x, k, as_tensor(bias, x))
    return Conv.apply(
        *args,
        strides=strides,
        pads=pads,
        dilation=dilation,
        groups=int(groups),
        channels_first=fmt == "channels_first",
        activation=activation,
    )


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1) -> Tensor:
    """General N-d convolution (Keras's ``ops.conv``): inputs (batch, *spatial, channels), kernel (*size, in, out).

    Grouped when the input has a multiple of ``kernel.shape[-2]`` channels.

    Example:
        >>> import numpy as np
        >>> conv(np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1))).data[0, :, :, 0]
        array([[4., 4.],
               [4., 4.]])
    """
    return conv_nd(inputs, kernel, None, strides, padding, data_format, dilation_rate, op="conv")


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1) -> Tensor:
    """Depthwise convolution (Keras's ``ops.depthwise_conv``): kernel (*size, channels, multiplier), a bank per channel.

    Example:
        >>> import numpy as np
        >>> depthwise_conv(np.ones((1, 3, 3, 2)), np.ones((3, 3, 2, 2))).shape
        (1, 1, 1, 4)
    """
    k = as_tensor(kernel)
    rank = k.ndim - 2
    from .primitives import reshape  # noqa: PLC0415

    flat = reshape(k, (*k.shape[:rank], 1, k.shape[-2] * k.shape[-1]))
    return conv_nd(inputs, flat, None, strides, padding, data_format, dilation_rate, groups=k.shape[-2], op="depthwise_conv")


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
) -> Tensor:
    """Depthwise then pointwise (1x1) convolution (Keras's ``ops.separable_conv``).

    Example:
        >>> import numpy as np
        >>> separable_conv(np.ones((1, 4, 4, 2)), np.ones((3, 3, 2, 1)), np.ones((1, 1, 2, 5))).shape
        (1, 2, 2, 5)
    """
    depth = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv_nd(depth, pointwise_kernel, None, 1, "valid", data_format, 1, op="separable_conv")


def conv_transpose_crops(kernel: int, stride: int, padding: str, output_padding, dilation: int) -> tuple[int, int]:
    """(left, right) that Keras's ``conv_transpose`` crops from the full ``(size - 1) * stride + kernel`` result.

    A negative amount adds zeros instead. ``output_padding`` None is Keras's default (output
    ``size * stride`` for ``same``, ``(size - 1) * stride + max(kernel, stride)`` for ``valid``).

    Example:
        >>> conv_transpose_crops(3, 2, "same", None, 1), conv_transpose_crops(1, 2, "valid", None, 1)
        ((0, 1), (0, -1))
    """
    window = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(window, stride) - window if output_padding is None else output_padding
        left, right = window - 1, window - 1 + extra
    else:
        total = stride + window - 2 if output_padding is None else window + window % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, window - 1)
        right = total - left
    return (window - 1 - left, window - 1 - right)


def conv_transpose_nd(
    inputs,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    output_padding=None,
    data_format=None,
    dilation_rate=1,
    activation: str = "linear",
    op: str = "conv_transpose",
) -> Tensor:
    """``activation(conv_transpose(inputs, kernel) + bias)`` in one node (the transposed-convolution layers' op).

    Example:
        >>> import numpy as np
        >>> conv_transpose_nd(np.ones((1, 2, 1)), np.ones((2, 3, 1)), np.zeros(3), strides=2).shape
        (1, 4, 3)
    """
    x = as_tensor(inputs)
    k = as_tensor(kernel, x)
    rank = _check_input(x, (3, 4, 5), op)
    fmt = _data_format(data_format, op)
    pad = _padding(padding, op)
    if activation not in _FUSED_ACTIVATIONS:
        raise ValueError(f"{op}: activation must be one of {_FUSED_ACTIVATIONS}, got {activation!r}")
    if k.ndim != rank + 2:
        raise ValueError(f"{op}: kernel must have rank {rank + 2} (*kernel_size, filters, in_channels), got shape {k.shape}")
    channels = x.shape[1] if fmt == "channels_first" else x.shape[-1]
    if channels != k.shape[-1]:
        raise ValueError(f"{op}: expected {k.shape[-1]} input channels (kernel shape {k.shape}), got input shape {x.shape}")
    strides = _tuple(strides, rank, "strides", op)
    dilation = _tuple(dilation_rate, rank, "dilation_rate", op)
    outs = (None,) * rank if output_padding is None else _tuple_nonneg(output_padding, rank, op)
    for o, s, d in zip(outs, strides, dilation):
        if o is not None and o >= max(s, d):
            raise ValueError(f"{op}: output_padding must be smaller than the stride or the dilation, got {output_padding!r}")
    crops = tuple(conv_transpose_crops(kk, s, pad, o, d) for kk, s, o, d in zip(k.shape[:rank], strides, outs, dilation))
    args = (x, k) if bias is None else (x, k, as_tensor(bias, x))
    return ConvTranspose.apply(
        *args, strides=strides, crops=crops, dilation=dilation, channels_first=fmt == "channels_first", activation=activation
    )


def _tuple_nonneg(value, rank: int, op: str) -> tuple[int, ...]:
    vals = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(vals) != rank or any(isinstance(v, bool) or int(v) < 0 for v in vals):
        raise ValueError(f"{op}: output_padding must be a non-negative integer or {rank} of them, got {value!r}")
    return tuple(int(v) for v in vals)


def conv_transpose(
    inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1
) -> Tensor:
    """Transposed convolution (Keras's ``ops.conv_transpose``): kernel (*size, filters, in_channels).

    Example:
        >>> import numpy as np
        >>> conv_transpose(np.ones((1, 2, 2, 1)), np.ones((2, 2, 1, 1)), strides=2).data[0, :, :, 0]
        array([[1., 1., 1., 1.],
               [1., 1., 1., 1.],
               [1., 1., 1., 1.],
               [1., 1., 1., 1.]])
    """
    return conv_transpose_nd(inputs, kernel, None, strides, padding, output_padding, data_format, dilation_rate)


def _pool(cls, inputs, pool_size, strides, padding, data_format, op):
    x = as_tensor(inputs)
    rank = _check_input(x, (3, 4, 5), op)
    fmt = _data_format(data_format, op)
    pad = _padding(padding, op)
    pool = _tuple(pool_size, rank, "pool_size", op)
    strides = pool if strides is None else _tuple(strides, rank, "strides", op)
    sizes = x.shape[2:] if fmt == "channels_first" else x.shape[1:-1]
    pads = tuple(padding_amounts(n, p, s, pad) for n, p, s in zip(sizes, pool, strides))
    for n, (lo, hi), p in zip(sizes, pads, pool):
        if n + lo + hi < p:
            raise ValueError(
                f"{op}: pool_size {pool} is larger than the input's spatial shape {tuple(sizes)} (padding {pad!r})"
            )
    return cls.apply(x, pool=pool, strides=strides, pads=pads, channels_first=fmt == "channels_first")


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None) -> Tensor:
    """Max pooling (Keras's ``ops.max_pool``); ``strides`` default to ``pool_size``.

    Example:
        >>> import numpy as np
        >>> max_pool(np.arange(16.0).reshape(1, 4, 4, 1), 2).data[0, :, :, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    return _pool(MaxPool, inputs, pool_size, strides, padding, data_format, "max_pool")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None) -> Tensor:
    """Average pooling (Keras's ``ops.average_pool``); with ``same`` padding the zeros added are not counted.

    Example:
        >>> import numpy as np
        >>> average_pool(np.arange(16.0).reshape(1, 4, 4, 1), 2).data[0, :, :, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    return _pool(AveragePool, inputs, pool_size, strides, padding, data_format, "average_pool")


__all__ = [
    "AveragePool",
    "Conv",
    "ConvTranspose",
    "MaxPool",
    "average_pool",
    "conv",
    "conv_nd",
    "conv_transpose",
    "conv_transpose_crops",
    "conv_transpose_nd",
    "depthwise_conv",
    "max_pool",
    "padding_amounts",
    "separable_conv",
]
