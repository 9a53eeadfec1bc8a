"""Connectionist temporal classification: Keras's ``ops.ctc_loss`` and ``ops.ctc_decode``.

``ctc_loss`` is one primitive: the forward runs the CTC forward (alpha) recursion in log
space over the time steps, vectorised over the batch and the extended label sequence
(blank, l1, blank, l2, ..., blank); the backward runs the backward (beta) recursion and
returns ``softmax(logits) - occupancy``, the posterior probability of each class at each
step, times the incoming gradient (Graves et al., 2006). The logits are normalised by
``log_softmax`` inside, as Keras's ``ctc_loss`` does on every backend.

``ctc_decode`` returns Keras's outputs: greedy (best path, repeats merged, blanks dropped) or
prefix beam search with separate "ends in blank" and "ends in a label" scores per prefix, the
prefixes reached along several paths merged by log-sum-exp, ``beam_width`` kept at each step.
Decoding runs on the host (it is a discrete search) and has no gradient.

Example:
    >>> import numpy as np
    >>> from myelin import ops
    >>> logits = np.log(np.array([[[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]], dtype=np.float32))
    >>> round(float(ops.ctc_loss([[1, 2]], logits, [2], [3]).data[0]), 4)
    0.4095
    >>> paths, scores = ops.ctc_decode(logits, [3])
    >>> paths.data.tolist()
    [[[1, 2, -1]]]
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from ..tensor import Function, Tensor
from .core import convert_to_tensor

_STRATEGIES = ("greedy", "beam_search")


def _host(x, what: str, kind: str) -> np.ndarray:
    data = x.data if isinstance(x, Tensor) else x
    data = np.asarray(data.get() if hasattr(data, "get") else data)
    if kind == "int":
        if data.dtype.kind == "f":
            if not np.all(data == np.round(data)):
                raise ValueError(f"ctc: {what} must hold integers, got non-integer values")
        elif data.dtype.kind not in "iub":
            raise TypeError(f"ctc: {what} must be integers, got dtype {data.dtype}")
        data = data.astype(np.int64)
    return data


def _logsumexp3(xp, a, b, c):
    """log(exp(a) + exp(b) + exp(c)) elementwise, exact where every term is -inf (gives -inf)."""
    top = xp.maximum(xp.maximum(a, b), c)
    safe = xp.where(xp.isfinite(top), top, 0)
    total = xp.exp(a - safe) + xp.exp(b - safe) + xp.exp(c - safe)
    with np.errstate(divide="ignore"):
        return xp.log(total) + safe


class CTCLoss(Function):
    """-log p(target | logits) per sample, p summed over every alignment (CTC), in log space.

    Inputs: ``logits`` (batch, time, classes); options: ``labels`` (batch, max_label) int,
    ``label_lengths`` and ``logit_lengths`` (batch,), ``blank``. The backward gives
    ``softmax(logits) - posterior(class | step)`` inside each sample's length, 0 beyond.
    An infeasible sample (a target that no alignment of its length can produce) has loss inf
    and gradient 0 (PyTorch's ``zero_infinity`` for the gradient; the loss stays inf).
    """

    def forward(self, logits, labels=None, label_lengths=None, logit_lengths=None, blank=0):
        xp = array_module(logits)
        batch, steps, _ = logits.shape
        top = logits.max(axis=-1, keepdims=True)
        shifted = logits - top
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))  # log_softmax
        max_label = labels.shape[1]
        width = 2 * max_label + 1
        s = xp.arange(width)
        lengths_ext = 2 * label_lengths + 1  # (batch,)
        # The extended sequence: blank at even positions, label (s - 1) / 2 at odd ones.
        label_at = xp.full((batch, width), blank, dtype=labels.dtype)
        if max_label:
            label_at[:, 1::2] = labels
        valid = s[None, :] < lengths_ext[:, None]
        label_at = xp.where(valid, label_at, blank)
        # A skip from s - 2 to s is allowed onto a label that differs from the one two back.
        skip = xp.zeros((batch, width), dtype=bool)
        if width > 2:
            skip[:, 2:] = (label_at[:, 2:] != blank) & (label_at[:, 2:] != label_at[:, :-2])
        neg_inf = xp.asarray(-np.inf, dtype=logits.dtype)
        rows = xp.arange(batch)[:, None]
        emit = log_p[rows, :, label_at].transpose(0, 2, 1) if width else None  # (batch, time, width)
        emit = xp.where(valid[:, None, :], emit, neg_inf)
        alpha = xp.full((batch, steps, width), -np.inf, dtype=logits.dtype)
        alpha[:, 0, 0] = emit[:, 0, 0]
        if width > 1:
            alpha[:, 0, 1] = emit[:, 0, 1]
        for t in range(1, steps):
            prev = alpha[:, t - 1]
            one_back = xp.concatenate([xp.full((batch, 1), neg_inf), prev[:, :-1]], axis=1)
            two_back = xp.concatenate([xp.full((batch, 2), neg_inf), prev[:, :-2]], axis=1)[:, :width]
            two_back = xp.where(skip, two_back, neg_inf)
            alpha[:, t] = _logsumexp3(xp, prev, one_back, two_back) + emit[:, t]
        last_t = logit_lengths - 1
        final = alpha[xp.arange(batch), last_t]  # (batch, width)
        end = final[xp.arange(batch), lengths_ext - 1]
        before = xp.where(label_lengths > 0, final[xp.arange(batch), xp.maximum(lengths_ext - 2, 0)], neg_inf)
        log_likelihood = xp.logaddexp(end, before)
        self.saved = (log_p, emit, alpha, skip, valid, lengths_ext, logit_lengths, label_at, log_likelihood)
        return -log_likelihood

    def backward(self, g):
        log_p, emit, alpha, skip, valid, lengths_ext, logit_lengths, label_at, log_likelihood = self.saved
        xp = array_module(log_p)
        batch, steps, classes = log_p.shape
        width = emit.shape[2]
        neg_inf = xp.asarray(-np.inf, dtype=log_p.dtype)
        beta = xp.full((batch, steps, width), -np.inf, dtype=log_p.dtype)
        idx = xp.arange(batch)
        start = xp.full((batch, width), -np.inf, dtype=log_p.dtype)  # beta at each sample's last step
        start[idx, lengths_ext - 1] = 0.0
        start[idx, xp.maximum(lengths_ext - 2, 0)] = xp.where(lengths_ext > 1, 0.0, start[idx, 0])
        skip_next = xp.zeros_like(skip)  # a skip from s to s + 2 is allowed where one onto s + 2 is
        if width > 2:
            skip_next[:, :-2] = skip[:, 2:]
        nxt = xp.full((batch, width), -np.inf, dtype=log_p.dtype)
        for t in range(steps - 1, -1, -1):
            one_on = xp.concatenate([nxt[:, 1:], xp.full((batch, 1), neg_inf)], axis=1)
            two_on = xp.concatenate([nxt[:, 2:], xp.full((batch, 2), neg_inf)], axis=1)[:, :width]
            two_on = xp.where(skip_next, two_on, neg_inf)
            inner = _logsumexp3(xp, nxt, one_on, two_on)
            here = (t == logit_lengths - 1)[:, None]
            inner = xp.where(here, start, inner)
            inner = xp.where((t < logit_lengths)[:, None] & valid, inner + emit[:, t], neg_inf)
            beta[:, t] = inner
            nxt = inner
        feasible = xp.isfinite(log_likelihood)
        ll = xp.where(feasible, log_likelihood, 0.0)
        # Occupancy of each extended position at each step, then summed per class.
        with np.errstate(invalid="ignore"):
            log_occ = alpha + beta - emit - ll[:, None, None]
        occ = xp.where(xp.isfinite(log_occ), xp.exp(xp.where(xp.isfinite(log_occ), log_occ, 0.0)), 0.0)
        onehot = (label_at[:, :, None] == xp.arange(classes)[None, None, :]).astype(log_p.dtype)  # (batch, width, classes)
        posterior = xp.matmul(occ, onehot)  # (batch, time, classes)
        inside = (xp.arange(steps)[None, :] < logit_lengths[:, None])[:, :, None]
        grad = xp.where(inside, xp.exp(log_p) - posterior, 0.0)
        grad = grad * xp.where(feasible, g, 0.0)[:, None, None]
        return (grad.astype(log_p.dtype, copy=False),)


def _lengths(value, batch: int, what: str, high: int, low: int) -> np.ndarray:
    lengths = _host(value, what, "int").reshape(-1)
    if lengths.shape != (batch,):
        raise ValueError(f"ctc_loss: {what} must have shape ({batch},) (one length per sample), got {lengths.shape}")
    if lengths.size and (lengths.min() < low or lengths.max() > high):
        raise ValueError(f"ctc_loss: {what} must lie in [{low}, {high}], got values from {lengths.min()} to {lengths.max()}")
    return lengths


def ctc_loss(target, output, target_length, output_length, mask_index: int = 0) -> Tensor:
    """CTC loss per sample: -log of the probability of ``target`` summed over all alignments.

    ``target`` (batch, max_length) integer labels (the first ``target_length[b]`` of row b are
    used), ``output`` (batch, time, classes) logits (normalised inside by ``log_softmax``),
    ``target_length`` and ``output_length`` (batch,), ``mask_index`` the blank class.
    Returns a tensor of shape (batch,), differentiable in ``output``. Keras's
    ``keras.ops.ctc_loss`` (and ``ops.nn.ctc_loss``); PyTorch's ``F.ctc_loss`` with
    ``reduction="none"`` on the log-softmax.

    Example:
        >>> import numpy as np
        >>> round(float(ctc_loss([[1]], np.zeros((1, 2, 2), np.float32), [1], [2]).data[0]), 4)
        0.2877
    """
    output = convert_to_tensor(output)
    if output.dtype.kind != "f":
        output = Tensor(output.data.astype("float32"))
    if output.ndim != 3:
        raise ValueError(f"ctc_loss: output must be logits of shape (batch, time, classes), got shape {output.shape}")
    batch, steps, classes = output.shape
    labels = _host(target, "target", "int")
    if labels.ndim != 2 or labels.shape[0] != batch:
        raise ValueError(f"ctc_loss: target must have shape ({batch}, max_length), got shape {labels.shape}")
    if isinstance(mask_index, bool) or not isinstance(mask_index, (int, np.integer)) or not 0 <= mask_index < classes:
        raise ValueError(f"ctc_loss: mask_index must be a class index in [0, {classes}), got {mask_index!r}")
    label_lengths = _lengths(target_length, batch, "target_length", labels.shape[1], 0)
    logit_lengths = _lengths(output_length, batch, "output_length", steps, 1)
    for b in range(batch):
        used = labels[b, : label_lengths[b]]
        if used.size and (used.min() < 0 or used.max() >= classes):
            raise ValueError(f"ctc_loss: target row {b} holds labels outside [0, {classes}): {used.tolist()}")
    xp = array_module(output.data)
    labels = np.where(np.arange(labels.shape[1])[None, :] < label_lengths[:, None], labels, mask_index)
    return CTCLoss.apply(
        output,
        labels=xp.asarray(labels),
        label_lengths=xp.asarray(label_lengths),
        logit_lengths=xp.asarray(logit_lengths),
        blank=int(mask_index),
    )


def _greedy(x: np.ndarray, lengths: np.ndarray, merge_repeated: bool, blank: int) -> tuple:
    batch, steps, _ = x.shape
    best = x.argmax(axis=-1)
    scores = x.max(axis=-1)
    beyond = np.arange(steps)[None, :] >= lengths[:, None]
    best = np.where(beyond, blank, best)
    scores = np.where(beyond, 0.0, scores)
    if merge_repeated:
        repeat = np.zeros_like(best, dtype=bool)
        repeat[:, 1:] = best[:, 1:] == best[:, :-1]
        best = np.where(repeat, blank, best)
    paths = np.full((batch, steps), -1, dtype=np.int32)
    for b in range(batch):
        kept = best[b][best[b] != blank]
        paths[b, : kept.size] = kept
    total = -scores.sum(axis=1, keepdims=True)
    return paths[None], total.astype(x.dtype)


def _log_add(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


def _beam(x: np.ndarray, length: int, beam_width: int, top_paths: int, blank: int) -> tuple:
    """Prefix beam search over one sample's log-probabilities ``x`` (time, classes)."""
    classes = x.shape[1]
    first = np.argsort(x[0], kind="stable")[-min(classes, beam_width) :]
    beams: dict[tuple, list] = {}  # prefix -> [log p(ends in a label), log p(ends in blank)]
    for c in first.tolist():
        key = () if c == blank else (c,)
        entry = beams.setdefault(key, [-math.inf, -math.inf])
        entry[1 if c == blank else 0] = _log_add(entry[1 if c == blank else 0], float(x[0, c]))
    for t in range(1, length):
        row = x[t].tolist()
        grown: dict[tuple, list] = {}
        for prefix, (e, bl) in beams.items():
            both = _log_add(e, bl)
            for c in range(classes):
                p = row[c]
                if c == blank:
                    entry = grown.setdefault(prefix, [-math.inf, -math.inf])
                    entry[1] = _log_add(entry[1], both + p)
                elif prefix and prefix[-1] == c:
                    entry = grown.setdefault(prefix, [-math.inf, -math.inf])
                    entry[0] = _log_add(entry[0], e + p)  # the repeat merges into the same label
                    entry = grown.setdefault(prefix + (c,), [-math.inf, -math.inf])
                    entry[0] = _log_add(entry[0], bl + p)  # after a blank the label repeats
                else:
                    entry = grown.setdefault(prefix + (c,), [-math.inf, -math.inf])
                    entry[0] = _log_add(entry[0], both + p)
        ranked = sorted(grown.items(), key=lambda kv: _log_add(*kv[1]), reverse=True)
        beams = dict(ranked[:beam_width])
    ranked = sorted(((k, _log_add(*v)) for k, v in beams.items()), key=lambda kv: kv[1], reverse=True)
    ranked = [kv for kv in ranked if kv[1] > -math.inf][:top_paths]
    return ranked


def ctc_decode(
    inputs,
    sequence_lengths,
    strategy: str = "greedy",
    beam_width: int = 100,
    top_paths: int = 1,
    merge_repeated: bool = True,
    mask_index: int | None = 0,
) -> tuple[Tensor, Tensor]:
    """Decode CTC logits (batch, time, classes): Keras's ``keras.ops.ctc_decode``.

    Returns ``(paths, scores)``. ``strategy="greedy"``: paths (1, batch, time) int32, the
    best class per step with repeats merged (``merge_repeated``) and blanks dropped, padded
    with -1; scores (batch, 1), minus the sum of the best logits over each sample's steps.
    ``strategy="beam_search"``: paths (top_paths, batch, time) and scores (batch, top_paths),
    the log-probabilities of the ``top_paths`` best label sequences under ``log_softmax(inputs)``,
    found by prefix beam search with ``beam_width`` prefixes (repeats always merge, as CTC
    defines). Where fewer than ``top_paths`` sequences have a nonzero probability the rest are
    -1 rows with score -inf. ``mask_index`` is the blank class (None: the last class).
    Computed on the host, no gradient.

    Example:
        >>> import numpy as np
        >>> x = np.log(np.array([[[0.6, 0.4], [0.6, 0.4]]], dtype=np.float32))
        >>> paths, scores = ctc_decode(x, [2], strategy="beam_search", top_paths=2)
        >>> paths.data[:, 0].tolist(), np.exp(scores.data.astype(float)).round(2).tolist()
        ([[1, -1], [-1, -1]], [[0.64, 0.36]])
    """
    x = _host(convert_to_tensor(inputs), "inputs", "float")
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    if x.ndim != 3:
        raise ValueError(f"ctc_decode: inputs must have shape (batch, time, classes), got shape {x.shape}")
    batch, steps, classes = x.shape
    lengths = _host(sequence_lengths, "sequence_lengths", "int").reshape(-1)
    if lengths.shape != (batch,) or (lengths.size and (lengths.min() < 0 or lengths.max() > steps)):
        raise ValueError(f"ctc_decode: sequence_lengths must hold {batch} lengths in [0, {steps}], got {lengths.tolist()}")
    if strategy not in _STRATEGIES:
        raise ValueError(f"ctc_decode: strategy must be one of {_STRATEGIES}, got {strategy!r}")
    blank = classes - 1 if mask_index is None else mask_index
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)) or not 0 <= blank < classes:
        raise ValueError(f"ctc_decode: mask_index must be None or a class index in [0, {classes}), got {mask_index!r}")
    if strategy == "greedy":
        paths, scores = _greedy(x, lengths, bool(merge_repeated), int(blank))
        return Tensor(paths), Tensor(scores)
    for arg, value in (("beam_width", beam_width), ("top_paths", top_paths)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"ctc_decode: {arg} must be a positive integer, got {value!r}")
    if top_paths > beam_width:
        raise ValueError(f"ctc_decode: top_paths ({top_paths}) cannot exceed beam_width ({beam_width})")
    shifted = x - x.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    paths = np.full((top_paths, batch, steps), -1, dtype=np.int32)
    scores = np.full((batch, top_paths), -np.inf, dtype=x.dtype)
    for b in range(batch):
        for k, (prefix, score) in enumerate(_beam(log_p[b], int(lengths[b]), int(beam_width), int(top_paths), int(blank))):
            paths[k, b, : len(prefix)] = prefix
            scores[b, k] = score
    return Tensor(paths), Tensor(scores)


__all__ = ["CTCLoss", "ctc_decode", "ctc_loss"]
