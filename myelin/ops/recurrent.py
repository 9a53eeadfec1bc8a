"""Sequence primitives: embedding lookup, masks, and fused recurrent time loops.

The recurrent primitives take the input projection of every time step at once (``x @ kernel
+ bias``, computed before the loop by one matrix product, :func:`myelin.ops.dense`) and run
only the recurrent product inside the loop. Their forward runs every step; their backward is
one pass in reverse through time, and the recurrent kernel's gradient is one matrix product
over all steps after that pass. Each returns one packed array of shape (batch, steps + k,
units): the output of every step, then the final states (h for SimpleRNN and GRU, h and c for
LSTM); the layers slice it.

Masks (a boolean (batch, steps) array, True where the step is real) leave the states
unchanged at masked steps; the output there is the previous output (Keras's default) or
zero (``zero_output=True``, what ``Bidirectional`` asks for). Gate orders are Keras's: LSTM
i, f, c, o; GRU z, r, h.

Example:
    >>> import numpy as np
    >>> from myelin import Tensor, ops
    >>> xz = Tensor(np.zeros((2, 3, 8)), requires_grad=True)     # batch 2, 3 steps, 4 * units
    >>> rk = Tensor(np.zeros((2, 8)), requires_grad=True)
    >>> packed = ops.lstm_scan(xz, rk)
    >>> packed.shape                                               # 3 outputs, final h, final c
    (2, 5, 2)
"""

from __future__ import annotations

from .. import backend, native
from ..backend import array_module
from ..tensor import Function, Tensor
from .primitives import as_tensor

# ---------------------------------------------------------------------------- embedding and masks


class EmbeddingLookup(Function):
    """``table[ids]``: rows of a (vocabulary, dim) table; ids arrive as any numeric array.

    The backward scatters the output gradient into a table-shaped gradient (rows of repeated
    ids add up). An id outside [0, vocabulary) raises, naming ``layer``.
    """

    def forward(self, ids, table, layer="embedding"):
        xp = array_module(table)
        idx = ids.astype("int64") if ids.dtype.kind != "i" else ids
        if ids.dtype.kind == "f" and bool((idx != ids).any()):
            raise ValueError(f"Embedding layer {layer!r}: token ids must be whole numbers, got {ids[idx != ids].ravel()[0]!r}")
        n = table.shape[0]
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
            bad = idx[(idx < 0) | (idx >= n)].ravel()[0]
            raise ValueError(f"Embedding layer {layer!r}: token ids must lie in [0, {n}) (input_dim={n}), got id {int(bad)}")
        self.idx, self.table_shape = idx, table.shape
        self.xp = xp
        return table[idx]

    def backward(self, g):
        if not self.needs_input_grad[1]:
            return None, None
        xp = self.xp
        grad = xp.zeros(self.table_shape, dtype=g.dtype)
        flat, rows = self.idx.reshape(-1), g.reshape(-1, self.table_shape[1])
        if xp.__name__ != "numpy" or flat.size == 0:
            xp.add.at(grad, flat, rows)
            return None, grad
        if native.index_add(grad, xp.ascontiguousarray(flat, dtype="int64"), xp.ascontiguousarray(rows)):
            return None, grad  # add.at's adds in one native pass
        # Sorted ids: the first row of each run of equal ids copied, only the repeats added (add.at on few rows), in
        # their original order: add.at's adds, with + 0 turning a total of -0 into add.at's +0.
        order = xp.argsort(flat, kind="stable")
        ids, sorted_rows = flat[order], rows[order]
        first = xp.concatenate([xp.ones(1, dtype=bool), ids[1:] != ids[:-1]])
        sums = sorted_rows[first]
        repeats = ~first
        if repeats.any():
            run = xp.cumsum(first) - 1
            xp.add.at(sums, run[repeats], sorted_rows[repeats])
        grad[ids[first]] = sums + 0.0
        return None, grad


class NotEqualMask(Function):
    """``x != value`` as a boolean mask (not differentiable): ``Embedding(mask_zero=True)``'s mask."""

    def forward(self, x, value=0):
        return x != value

    def backward(self, g):
        return (None,)


class AnyNotEqualMask(Function):
    """``any(x != value, axis=-1)``: ``Masking``'s mask of the time steps (not differentiable)."""

    def forward(self, x, value=0.0):
        return (x != value).any(axis=-1)

    def backward(self, g):
        return (None,)


class ApplyMask(Function):
    """``x * mask[..., None]``: zero the features of masked steps (``Masking``'s output)."""

    def forward(self, x, mask):
        self.keep = mask[..., None].astype(x.dtype)
        return x * self.keep

    def backward(self, g):
        return g * self.keep, None


class MaskedSelect(Function):
    """``where(mask[:, None], new, old)`` for (batch, features) states; the mask (batch,) is not differentiated."""

    def forward(self, new, old, mask):
        xp = array_module(new)
        self.keep = mask.reshape(-1, *([1] * (new.ndim - 1))).astype(new.dtype)
        return xp.where(self.keep > 0, new, old)

    def backward(self, g):
        return g * self.keep, g * (1 - self.keep), None


class DropoutMask(Function):
    """A (batch, size) keep-mask scaled by 1 / (1 - rate), drawn once per call (not differentiable).

    ``like``'s first axis gives the batch; the recurrent layers draw it once per sequence,
    as Keras does, from ``generator`` or the library generator at call time.
    """

    def forward(self, like, size=1, rate=0.5, generator=None):
        from .. import backend  # noqa: PLC0415

        xp = array_module(like)
        keep = (generator or backend.rng()).random((like.shape[0], size), dtype="float32") >= rate
        mask = keep.astype(like.dtype)
        mask *= 1.0 / (1.0 - rate)
        return xp.asarray(mask)

    def backward(self, g):
        return (None,)


def embedding_lookup(ids, table, layer: str = "embedding") -> Tensor:
    """Rows of ``table`` picked by integer ``ids`` (any shape); the result has shape ids.shape + (dim,).

    Example:
        >>> import numpy as np
        >>> embedding_lookup(np.array([[2, 0]]), Tensor(np.arange(6.0).reshape(3, 2))).data.tolist()
        [[[4.0, 5.0], [0.0, 1.0]]]
    """
    ids = ids if isinstance(ids, Tensor) else Tensor(ids)
    return EmbeddingLookup.apply(ids, as_tensor(table), layer=layer)


def not_equal_mask(x, value=0) -> Tensor:
    """A boolean tensor, True where ``x != value`` (recorded, so a replayed step recomputes it).

    Example:
        >>> import numpy as np
        >>> not_equal_mask(np.array([[3, 0]])).data.tolist()
        [[True, False]]
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return NotEqualMask.apply(x, value=value)


def any_not_equal_mask(x, value=0.0) -> Tensor:
    """True for the steps (all axes but the last) where some feature differs from ``value``.

    Example:
        >>> import numpy as np
        >>> any_not_equal_mask(np.array([[[0.0, 1.0], [0.0, 0.0]]])).data.tolist()
        [[True, False]]
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return AnyNotEqualMask.apply(x, value=value)


def apply_mask(x, mask) -> Tensor:
    """``x`` with the features of masked steps set to zero.

    Example:
        >>> import numpy as np
        >>> apply_mask(Tensor(np.ones((1, 2, 1))), Tensor(np.array([[True, False]]))).data.ravel().tolist()
        [1.0, 0.0]
    """
    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    return ApplyMask.apply(as_tensor(x), mask)


def masked_select(new, old, mask) -> Tensor:
    """Per sample: ``new`` where ``mask`` (batch,) is True, else ``old``.

    Example:
        >>> import numpy as np
        >>> masked_select(Tensor([[1.0], [2.0]]), Tensor([[0.0], [0.0]]), np.array([True, False])).data.ravel().tolist()
        [1.0, 0.0]
    """
    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    new, old = as_tensor(new), as_tensor(old)
    return MaskedSelect.apply(new, old, mask)


def dropout_mask(like, size: int, rate: float, generator=None) -> Tensor:
    """A (batch, size) dropout keep-mask (0 or 1 / (1 - rate)) for ``like``'s batch.

    Example:
        >>> import numpy as np
        >>> m = dropout_mask(Tensor(np.zeros((4, 3))), 5, 0.5, np.random.default_rng(0)).data
        >>> m.shape, sorted(set(m.ravel().tolist()))
        ((4, 5), [0.0, 2.0])
    """
    like = like if isinstance(like, Tensor) else Tensor(like)
    return DropoutMask.apply(like, size=int(size), rate=float(rate), generator=generator)


# ---------------------------------------------------------------------------- fused time loops


def _sigmoid(xp, z):
    """1 / (1 + e^-z) as 0.5 + 0.5 tanh(z / 2): one transcendental, never overflows."""
    out = xp.multiply(z, 0.5)
    xp.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _split_extra(extra, flags):
    """The optional inputs, in the order of ``flags`` (name, present)."""
    got, k = {}, 0
    for name, present in flags:
        if present:
            got[name] = extra[k]
            k += 1
        else:
            got[name] = None
    return got


def _step_product(xp, flops: float):
    """The product of a time loop's steps, of ``flops`` each, with the BLAS thread count set for it: pooled over the
    native threads when ``fit`` pools products this large (the pool's threads stay awake from step to step), else the
    array module's own."""
    backend.blas_threads_for(flops)
    if backend.pool_products() and flops >= native.POOL_GEMM_FLOPS:
        return native.matmul
    return xp.matmul


def _masked_step(dh, gout, m, zero_output: bool):
    """At a step with mask ``m``: (the gradient reaching the step's new state, the one carried past it unchanged).

    ``dh`` arrives from the later steps, ``gout`` from this step's output: the previous
    output's (Keras's default) where the step is masked, or zero there (``zero_output``).
    """
    if zero_output:
        return m * (dh + gout), dh - m * dh
    total = dh + gout
    reached = m * total
    return reached, total - reached


def _steps(n: int, reverse: bool):
    return range(n - 1, -1, -1) if reverse else range(n)


class _Scan(Function):
    """Shared bookkeeping of the fused loops: the packed output and the optional inputs' gradients."""

    def _grads(self, dxz, drk, extra_grads):
        need = self.needs_input_grad or ()
        out = [dxz if need and need[0] else None, drk if need and need[1] else None]
        for k, g in enumerate(extra_grads):
            out.append(g if len(need) > 2 + k and need[2 + k] else None)
        return tuple(out)


class LSTMScan(_Scan):
    """The LSTM time loop (Keras's formulas, gates i, f, c, o; tanh and sigmoid).

    Inputs: ``xz`` (batch, steps, 4 units), the input projection with the bias; ``rk``
    (units, 4 units); then, as flagged, ``h0``, ``c0`` (batch, units), ``mask`` (batch,
    steps) and ``rdrop`` (batch, units), the recurrent-dropout mask multiplying h before the
    recurrent product. Output: (batch, steps + 2, units), the outputs then the final h and c.

    Inside the loop: one recurrent product, one tanh over all four gates (sigmoid(z) = 0.5 +
    0.5 tanh(z / 2), the halving folded into the kernel and the projection before the loop),
    written into preallocated buffers. The backward computes every step's gate derivatives
    in a few whole-sequence operations before its reverse sweep, which then does five small
    operations and one product per step.
    """

    def forward(self, xz, rk, *extra, has_state=False, has_mask=False, has_rdrop=False, reverse=False, zero_output=False):
        xp = array_module(xz)
        got = _split_extra(extra, (("h0", has_state), ("c0", has_state), ("mask", has_mask), ("rdrop", has_rdrop)))
        b, n, four = xz.shape
        u = four // 4
        dtype = xz.dtype
        rdrop = got["rdrop"]
        keep = None if got["mask"] is None else got["mask"].astype(dtype)
        scale = xp.full(four, 0.5, dtype=dtype)
        scale[2 * u : 3 * u] = 1.0
        shift = xp.full(four, 0.5, dtype=dtype)
        shift[2 * u : 3 * u] = 0.0
        xz_s = xp.empty((n, b, four), dtype=dtype)  # the scaled projection, time-major: each step's rows contiguous
        xp.multiply(xz.transpose(1, 0, 2), scale, out=xz_s)
        rk_s = rk * scale
        gates = xp.empty((n, b, four), dtype=dtype)  # activations i, f, g, o of every step
        cells = xp.empty((n + 1, b, u), dtype=dtype)  # cells[k]: the cell carried into step k
        hs = xp.empty((n + 1, b, u), dtype=dtype)  # hs[k]: the state carried into step k
        tanh_c = xp.empty((n, b, u), dtype=dtype)  # tanh of each step's new cell
        hin = hs if rdrop is None else xp.empty((n, b, u), dtype=dtype)  # h fed to the product
        hs[0] = got["h0"] if has_state else 0.0
        cells[0] = got["c0"] if has_state else 0.0
        emitted = xp.empty((n, b, u), dtype=dtype) if keep is not None and zero_output else None
        product = _step_product(xp, 2.0 * b * u * four)  # the per-step products: one thread unless large
        kernels = native.lstm_step_kernels(gates, cells, scale, shift)
        if kernels is not None:
            cell_kernel, step = kernels[0], gates.itemsize * b * u
            z_at, c_at, scale_at, shift_at = gates.ctypes.data, cells.ctypes.data, scale.ctypes.data, shift.ctypes.data
        for s, t in enumerate(_steps(n, reverse)):
            h, c = hs[s], cells[s]
            if rdrop is not None:
                xp.multiply(h, rdrop, out=hin[s])
            z = gates[s]
            product(hin[s], rk_s, out=z)
            z += xz_s[t]
            xp.tanh(z, out=z)
            i, f, g, o = z[:, :u], z[:, u : 2 * u], z[:, 2 * u : 3 * u], z[:, 3 * u :]
            c_new, h_new, tc = cells[s + 1], hs[s + 1], tanh_c[s]
            if kernels is not None:  # the four operations below in one pass
                cell_kernel(z_at + 4 * s * step, scale_at, shift_at, c_at + s * step, c_at + (s + 1) * step, b, u)
            else:
                z *= scale
                z += shift
                xp.multiply(f, c, out=c_new)
                c_new += i * g
            xp.tanh(c_new, out=tc)
            xp.multiply(o, tc, out=h_new)
            if keep is not None:
                m = keep[:, t, None]
                h_new -= h
                h_new *= m
                h_new += h
                c_new -= c
                c_new *= m
                c_new += c
                if emitted is not None:
                    xp.multiply(h_new, m, out=emitted[s])
        packed = xp.empty((b, n + 2, u), dtype=dtype)
        packed[:, :n] = (emitted if emitted is not None else hs[1:]).transpose(1, 0, 2)
        packed[:, n] = hs[n]
        packed[:, n + 1] = cells[n]
        self.saved = (gates, cells, tanh_c, hin, rk, keep, rdrop, reverse, zero_output)
        self.flags = (has_state, has_mask, has_rdrop)
        return packed

    def backward(self, grad):
        gates, cells, tanh_c, hin, rk, keep, rdrop, reverse, zero_output = self.saved
        has_state, has_mask, has_rdrop = self.flags
        xp = array_module(grad)
        n, b, four = gates.shape
        u = four // 4
        # Whole-sequence factors: d(activation)/d(pre-activation) of the gates, times what each gate multiplies.
        i, f, g, o = gates[..., :u], gates[..., u : 2 * u], gates[..., 2 * u : 3 * u], gates[..., 3 * u :]
        factors = xp.empty_like(gates)
        to_cell = xp.empty_like(tanh_c)  # d c from d h
        if not native.lstm_factors(gates, cells[:n], tanh_c, factors, to_cell):
            factors[..., :u] = g * i * (1 - i)
            factors[..., u : 2 * u] = cells[:n] * f * (1 - f)
            factors[..., 2 * u : 3 * u] = i * (1 - g * g)
            factors[..., 3 * u :] = tanh_c * o * (1 - o)
            xp.multiply(o, 1 - tanh_c * tanh_c, out=to_cell)
        factors4 = factors.reshape(n, b, 4, u)
        # The gate gradients time-major, each step's rows contiguous (rows n * 4u apart would share cache sets).
        dz_tm = xp.empty((n, b, four), dtype=grad.dtype)
        dz4 = dz_tm.reshape(n, b, 4, u)
        dh = grad[:, n].copy()
        dc = grad[:, n + 1].copy()
        rkt = rk.T
        product = _step_product(xp, 2.0 * b * u * four)
        kernels = None if keep is not None else native.lstm_step_kernels(grad, dh, dc, to_cell, factors, gates, dz_tm)
        if kernels is not None:  # the sweep's elementwise operations in one native call per step
            back_step, size = kernels[1], grad.itemsize
            g_at, dh_at, dc_at, dz_at = grad.ctypes.data, dh.ctypes.data, dc.ctypes.data, dz_tm.ctypes.data
            tc_at, fa_at, z_at = to_cell.ctypes.data, factors.ctypes.data, gates.ctypes.data
            for s, t in reversed(list(enumerate(_steps(n, reverse)))):
                row = s * b * u * size
                back_step(
                    g_at + s * u * size,
                    (n + 2) * u,
                    dh_at,
                    dc_at,
                    tc_at + row,
                    fa_at + 4 * row,
                    z_at + 4 * row,
                    dz_at + t * b * four * size,
                    four,
                    b,
                    u,
                )
                product(dz_tm[t], rkt, out=dh)
                if rdrop is not None:
                    dh *= rdrop
        else:
            for s, t in reversed(list(enumerate(_steps(n, reverse)))):
                gout = grad[:, s]
                if keep is not None:
                    m = keep[:, t, None]
                    dh_c, dh = _masked_step(dh, gout, m, zero_output)
                    dc_c = m * dc
                    dc = dc - dc_c
                    dc_c += dh_c * to_cell[s]
                else:
                    dh_c = dh + gout
                    dc_c = dh_c * to_cell[s]
                    dc_c += dc
                    dh = dc = None
                xp.multiply(factors4[s, :, :3], dc_c[:, None, :], out=dz4[t, :, :3])
                xp.multiply(factors4[s, :, 3], dh_c, out=dz4[t, :, 3])
                dc_prev = dc_c * f[s]
                dh_prev = product(dz_tm[t], rkt)
                if rdrop is not None:
                    dh_prev *= rdrop
                dh = dh_prev if dh is None else dh + dh_prev
                dc = dc_prev if dc is None else dc + dc_prev
        drk = None
        if self.needs_input_grad[1]:
            h_in_time = hin[n - 1 :: -1] if reverse else hin[:n]  # (steps, batch, units), in time order
            drk = native.matmul(h_in_time.reshape(n * b, u).T, dz_tm.reshape(n * b, four))
        extra = []
        if has_state:
            extra += [dh, dc]
        if has_mask:
            extra.append(None)
        if has_rdrop:
            extra.append(None)
        return self._grads(dz_tm.transpose(1, 0, 2), drk, extra)


class GRUScan(_Scan):
    """The GRU time loop (Keras's formulas, gates z, r, h; tanh and sigmoid).

    ``reset_after=True`` (Keras 3's default, cuDNN's form): ``hh = tanh(x_h + r * (h @ rk_h +
    rb_h))`` with the recurrent bias ``rb`` (3 units) flagged by ``has_rbias``;
    ``reset_after=False``: ``hh = tanh(x_h + (r * h) @ rk_h)``. Then ``h = z * h + (1 - z) *
    hh``. Inputs: ``xz`` (batch, steps, 3 units), ``rk`` (units, 3 units), then as flagged
    ``rb``, ``h0``, ``mask``, ``rdrop``. Output: (batch, steps + 1, units), the outputs then h.
    """

    def forward(
        self,
        xz,
        rk,
        *extra,
        has_rbias=False,
        has_state=False,
        has_mask=False,
        has_rdrop=False,
        reverse=False,
        zero_output=False,
        reset_after=True,
    ):
        xp = array_module(xz)
        got = _split_extra(extra, (("rb", has_rbias), ("h0", has_state), ("mask", has_mask), ("rdrop", has_rdrop)))
        b, n, three = xz.shape
        u = three // 3
        h = got["h0"] if has_state else xp.zeros((b, u), dtype=xz.dtype)
        rb, rdrop = got["rb"], got["rdrop"]
        keep = None if got["mask"] is None else got["mask"].astype(xz.dtype)
        packed = xp.empty((b, n + 1, u), dtype=xz.dtype)
        zr_all = xp.empty((n, b, 2 * u), dtype=xz.dtype)
        hh_all = xp.empty((n, b, u), dtype=xz.dtype)
        hprev = xp.empty((n, b, u), dtype=xz.dtype)
        hin = xp.empty((n, b, u), dtype=xz.dtype)  # h fed to the recurrent product (after dropout)
        rec_h = xp.empty((n, b, u), dtype=xz.dtype)  # reset_after: h @ rk_h + rb_h; else r * hd
        rk_zr, rk_h = rk[:, : 2 * u], rk[:, 2 * u :]
        product = _step_product(xp, 2.0 * b * u * three)
        for s, t in enumerate(_steps(n, reverse)):
            hprev[s] = h
            hd = h * rdrop if rdrop is not None else h
            hin[s] = hd
            x = xz[:, t]
            if reset_after:
                inner = product(hd, rk)
                if rb is not None:
                    inner += rb
                zr = inner[:, : 2 * u] + x[:, : 2 * u]
                zr = _sigmoid(xp, zr)
                r = zr[:, u:]
                rec_h[s] = inner[:, 2 * u :]
                hh = xp.tanh(x[:, 2 * u :] + r * inner[:, 2 * u :])
            else:
                zr = product(hd, rk_zr)
                zr += x[:, : 2 * u]
                zr = _sigmoid(xp, zr)
                r = zr[:, u:]
                rh = r * hd
                rec_h[s] = rh
                hh = xp.tanh(x[:, 2 * u :] + product(rh, rk_h))
            zr_all[s] = zr
            hh_all[s] = hh
            z = zr[:, :u]
            h_new = hh + z * (h - hh)
            if keep is not None:
                m = keep[:, t, None]
                h_new = h + m * (h_new - h)
                packed[:, s] = m * h_new if zero_output else h_new
            else:
                packed[:, s] = h_new
            h = h_new
        packed[:, n] = h
        self.saved = (zr_all, hh_all, hprev, hin, rec_h, rk, keep, rdrop, reverse, zero_output, reset_after)
        self.flags = (has_rbias, has_state, has_mask, has_rdrop)
        return packed

    def backward(self, grad):
        zr_all, hh_all, hprev, hin, rec_h, rk, keep, rdrop, reverse, zero_output, reset_after = self.saved
        has_rbias, has_state, has_mask, has_rdrop = self.flags
        xp = array_module(grad)
        n, b, u = hh_all.shape
        dh = grad[:, n].copy()
        dxz_tm = xp.empty((n, b, 3 * u), dtype=grad.dtype)  # time-major: each step's rows contiguous
        product = _step_product(xp, 2.0 * b * u * 3 * u)
        d_inner = xp.empty((n, b, 3 * u), dtype=grad.dtype)  # gradient of the recurrent product's output
        rkt = rk.T
        rk_zr_t, rk_h_t = rk[:, : 2 * u].T, rk[:, 2 * u :].T
        for s, t in reversed(list(enumerate(_steps(n, reverse)))):
            gout = grad[:, s]
            if keep is not None:
                dh_c, dh = _masked_step(dh, gout, keep[:, t, None], zero_output)
            else:
                dh_c = dh + gout
                dh = None
            zr = zr_all[s]
            z, r = zr[:, :u], zr[:, u:]
            hh = hh_all[s]
            h_old = hprev[s]
            dz = dh_c * (h_old - hh)
            dh_direct = dh_c * z
            da_h = dh_c * (1 - z) * (1 - hh * hh)
            dxs = dxz_tm[t]
            dxs[:, 2 * u :] = da_h
            di = d_inner[s]
            if reset_after:
                dr = da_h * rec_h[s]
                di[:, 2 * u :] = da_h * r
            else:
                d_rh = product(da_h, rk_h_t)
                dr = d_rh * hin[s]
                di[:, 2 * u :] = da_h  # paired with r * hd below, for rk_h's gradient
            dxs[:, :u] = dz * z * (1 - z)
            dxs[:, u : 2 * u] = dr * r * (1 - r)
            di[:, : 2 * u] = dxs[:, : 2 * u]
            if reset_after:
                dhd = product(di, rkt)
            else:
                dhd = product(di[:, : 2 * u], rk_zr_t) + d_rh * r
            if rdrop is not None:
                dhd *= rdrop
            dh_prev = dh_direct + dhd
            dh = dh_prev if dh is None else dh + dh_prev
        need = self.needs_input_grad
        drk = None
        if need[1]:
            flat = d_inner.reshape(n * b, 3 * u)
            if reset_after:
                drk = native.matmul(hin.reshape(n * b, u).T, flat)
            else:
                drk = xp.empty_like(rk)
                native.matmul(hin.reshape(n * b, u).T, flat[:, : 2 * u], out=drk[:, : 2 * u])
                native.matmul(rec_h.reshape(n * b, u).T, flat[:, 2 * u :], out=drk[:, 2 * u :])
        extra = []
        if has_rbias:
            extra.append(d_inner.reshape(n * b, 3 * u).sum(axis=0))  # only with reset_after (gru_scan checks)
        if has_state:
            extra.append(dh)
        if has_mask:
            extra.append(None)
        if has_rdrop:
            extra.append(None)
        return self._grads(dxz_tm.transpose(1, 0, 2), drk, extra)


class SimpleRNNScan(_Scan):
    """The SimpleRNN time loop: ``h = act(x_t + h @ rk)`` with act tanh, relu or linear.

    Inputs: ``xz`` (batch, steps, units), ``rk`` (units, units), then as flagged ``h0``,
    ``mask``, ``rdrop``. Output: (batch, steps + 1, units), the outputs then the final h.
    """

    def forward(
        self,
        xz,
        rk,
        *extra,
        has_state=False,
        has_mask=False,
        has_rdrop=False,
        reverse=False,
        zero_output=False,
        activation="tanh",
    ):
        xp = array_module(xz)
        got = _split_extra(extra, (("h0", has_state), ("mask", has_mask), ("rdrop", has_rdrop)))
        b, n, u = xz.shape
        h = got["h0"] if has_state else xp.zeros((b, u), dtype=xz.dtype)
        rdrop = got["rdrop"]
        keep = None if got["mask"] is None else got["mask"].astype(xz.dtype)
        packed = xp.empty((b, n + 1, u), dtype=xz.dtype)
        acts = xp.empty((n, b, u), dtype=xz.dtype)
        hin = xp.empty((n, b, u), dtype=xz.dtype)
        product = _step_product(xp, 2.0 * b * u * u)
        for s, t in enumerate(_steps(n, reverse)):
            hd = h * rdrop if rdrop is not None else h
            hin[s] = hd
            a = product(hd, rk)
            a += xz[:, t]
            if activation == "tanh":
                xp.tanh(a, out=a)
            elif activation == "relu":
                xp.maximum(a, 0, out=a)
            acts[s] = a
            if keep is not None:
                m = keep[:, t, None]
                a = h + m * (a - h)
                packed[:, s] = m * a if zero_output else a
            else:
                packed[:, s] = a
            h = a
        packed[:, n] = h
        self.saved = (acts, hin, rk, keep, rdrop, reverse, zero_output, activation)
        self.flags = (has_state, has_mask, has_rdrop)
        return packed

    def backward(self, grad):
        acts, hin, rk, keep, rdrop, reverse, zero_output, activation = self.saved
        has_state, has_mask, has_rdrop = self.flags
        xp = array_module(grad)
        n, b, u = acts.shape
        dh = grad[:, n].copy()
        dxz_tm = xp.empty((n, b, u), dtype=grad.dtype)  # time-major: each step's rows contiguous
        da_all = xp.empty((n, b, u), dtype=grad.dtype)
        rkt = rk.T
        product = _step_product(xp, 2.0 * b * u * u)
        for s, t in reversed(list(enumerate(_steps(n, reverse)))):
            gout = grad[:, s]
            if keep is not None:
                dh_c, dh = _masked_step(dh, gout, keep[:, t, None], zero_output)
            else:
                dh_c = dh + gout
                dh = None
            a = acts[s]
            if activation == "tanh":
                da = dh_c * (1 - a * a)
            elif activation == "relu":
                da = dh_c * (a > 0)
            else:
                da = dh_c
            da_all[s] = da
            dxz_tm[t] = da
            dh_prev = product(da, rkt)
            if rdrop is not None:
                dh_prev *= rdrop
            dh = dh_prev if dh is None else dh + dh_prev
        drk = native.matmul(hin.reshape(n * b, u).T, da_all.reshape(n * b, u)) if self.needs_input_grad[1] else None
        extra = []
        if has_state:
            extra.append(dh)
        if has_mask:
            extra.append(None)
        if has_rdrop:
            extra.append(None)
        return self._grads(dxz_tm.transpose(1, 0, 2), drk, extra)


def _optional(values):
    return [v if isinstance(v, Tensor) else Tensor(v) for v in values if v is not None]


def lstm_scan(xz, rk, h0=None, c0=None, mask=None, rdrop=None, reverse: bool = False, zero_output: bool = False) -> Tensor:
    """Run the LSTM loop over a projected sequence; returns (batch, steps + 2, units) (outputs, h, c).

    Example:
        >>> import numpy as np
        >>> out = lstm_scan(Tensor(np.ones((1, 2, 4))), Tensor(np.zeros((1, 4))))
        >>> round(float(out.data[0, -1, 0]), 4)   # the final cell after two steps
        0.9638
    """
    xz, rk = as_tensor(xz), as_tensor(rk)
    if (h0 is None) != (c0 is None):
        raise ValueError("lstm_scan: give both initial states h0 and c0, or neither")
    extra = _optional([h0, c0, mask, rdrop])
    return LSTMScan.apply(
        xz,
        rk,
        *extra,
        has_state=h0 is not None,
        has_mask=mask is not None,
        has_rdrop=rdrop is not None,
        reverse=bool(reverse),
        zero_output=bool(zero_output),
    )


def gru_scan(
    xz,
    rk,
    rb=None,
    h0=None,
    mask=None,
    rdrop=None,
    reverse: bool = False,
    zero_output: bool = False,
    reset_after: bool = True,
) -> Tensor:
    """Run the GRU loop over a projected sequence; returns (batch, steps + 1, units) (outputs, h).

    Example:
        >>> import numpy as np
        >>> out = gru_scan(Tensor(np.ones((1, 2, 3))), Tensor(np.zeros((1, 3))))
        >>> out.shape
        (1, 3, 1)
    """
    xz, rk = as_tensor(xz), as_tensor(rk)
    if rb is not None and not reset_after:
        raise ValueError("gru_scan: a recurrent bias rb exists only with reset_after=True")
    extra = _optional([rb, h0, mask, rdrop])
    return GRUScan.apply(
        xz,
        rk,
        *extra,
        has_rbias=rb is not None,
        has_state=h0 is not None,
        has_mask=mask is not None,
        has_rdrop=rdrop is not None,
        reverse=bool(reverse),
        zero_output=bool(zero_output),
        reset_after=bool(reset_after),
    )


def simple_rnn_scan(
    xz, rk, h0=None, mask=None, rdrop=None, reverse: bool = False, zero_output: bool = False, activation: str = "tanh"
) -> Tensor:
    """Run the SimpleRNN loop over a projected sequence; returns (batch, steps + 1, units) (outputs, h).

    Example:
        >>> import numpy as np
        >>> simple_rnn_scan(Tensor(np.ones((1, 2, 1))), Tensor(np.zeros((1, 1))), activation="relu").data.ravel().tolist()
        [1.0, 1.0, 1.0]
    """
    if activation not in ("tanh", "relu", "linear"):
        raise ValueError(f"simple_rnn_scan: activation must be 'tanh', 'relu' or 'linear', got {activation!r}")
    xz, rk = as_tensor(xz), as_tensor(rk)
    extra = _optional([h0, mask, rdrop])
    return SimpleRNNScan.apply(
        xz,
        rk,
        *extra,
        has_state=h0 is not None,
        has_mask=mask is not None,
        has_rdrop=rdrop is not None,
        reverse=bool(reverse),
        zero_output=bool(zero_output),
        activation=activation,
    )


__all__ = [
    "AnyNotEqualMask",
    "ApplyMask",
    "DropoutMask",
    "EmbeddingLookup",
    "GRUScan",
    "LSTMScan",
    "MaskedSelect",
    "NotEqualMask",
    "SimpleRNNScan",
    "any_not_equal_mask",
    "apply_mask",
    "dropout_mask",
    "embedding_lookup",
    "gru_scan",
    "lstm_scan",
    "masked_select",
    "not_equal_mask",
    "simple_rnn_scan",
]
