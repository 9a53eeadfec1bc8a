"""Level 3: Keras's CTC and Circle losses (``myelin.losses.CTC``, ``ctc``, ``Circle``, ``circle``).

They live beside :mod:`myelin.losses` (which imports them into its namespace and registry):
``ctc`` reads a padded integer target and logits (batch, time, classes) and calls
:func:`myelin.ops.ctc_loss`; ``circle`` is Sun et al.'s Circle loss on L2-normalised
embeddings, with Keras's mask: samples whose loss is 0 (no positive pair) are left out of
the mean, as Keras's loss reduction leaves out masked entries.

Example:
    >>> import numpy as np
    >>> from myelin import losses
    >>> x = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    >>> round(losses.Circle(gamma=2.0)([0, 0, 1], x).item(), 4)
    0.6141
"""

from __future__ import annotations

import numpy as np

from . import ops
from .backend import array_module
from .losses import REGISTRY, Loss, reduce_weighted
from .tensor import Tensor


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


@REGISTRY.register()
def ctc(y_true, y_pred) -> Tensor:
    """CTC loss per sample: ``y_true`` (batch, max_length) labels padded with 0 (the blank), logits ``y_pred``.

    The label length of a row is its count of nonzero entries; every sample uses all of
    ``y_pred``'s time steps (Keras's ``keras.losses.ctc``).

    Example:
        >>> import numpy as np
        >>> round(float(ctc([[1, 0]], np.zeros((1, 2, 2), np.float32)).data[0]), 4)
        0.2877
    """
    y_pred = ops.as_tensor(y_pred)
    xp = array_module(y_pred.data)
    labels = xp.asarray(_raw(y_true))
    if labels.ndim != 2:
        raise ValueError(f"ctc: y_true must be integer labels of shape (batch_size, max_length), got shape {labels.shape}")
    if y_pred.ndim != 3:
        raise ValueError(
            f"ctc: y_pred must be logits of shape (batch_size, max_length, num_classes), got shape {y_pred.shape}"
        )
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    label_length = (labels != 0).sum(axis=-1).astype("int32")
    output_length = xp.full((batch,), steps, dtype="int32")
    return ops.ctc_loss(labels.astype("int64"), y_pred, label_length, output_length, mask_index=0)


@REGISTRY.register("CTC")
class CTC(Loss):
    """CTC (connectionist temporal classification) loss between padded integer labels and logits.

    Example:
        >>> import numpy as np
        >>> round(CTC()([[1, 0]], np.zeros((1, 2, 2), np.float32)).item(), 4)
        0.2877
    """

    def __init__(self, reduction="sum_over_batch_size", name: str = "ctc"):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)


def _pos_neg_masks(labels, ref_labels, remove_diagonal: bool, xp):
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    if remove_diagonal:
        positive = positive & ~xp.eye(positive.shape[0], positive.shape[1], dtype=bool)
    return positive, ~(labels.reshape(-1, 1) == ref_labels.reshape(1, -1))


def _masked_logsumexp(values: Tensor, mask, xp) -> Tensor:
    """log-sum-exp over axis 1 of the entries where ``mask`` holds; a row with none gives a very negative number.

    Keras writes -inf there (its softplus then gives 0); a finite stand-in keeps the gradient
    free of inf - inf while giving the same loss (softplus of it is exactly 0).
    """
    fill = float(np.finfo(np.dtype(values.dtype)).min) / 4
    return ops.logsumexp(ops.where(mask, values, fill), axis=1)


@REGISTRY.register()
def circle(
    y_true,
    y_pred,
    ref_labels=None,
    ref_embeddings=None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Tensor:
    """Circle loss (Sun et al., 2020) per sample, from integer labels and L2-normalised embeddings.

    With cosine distances d to the reference embeddings (default: the batch itself),
    positives weighted by relu(margin + d) around margin, negatives by relu(1 + margin - d)
    around 1 - margin: softplus(logsumexp(-gamma w_p (margin - d_p)) + logsumexp(gamma w_n (1 - margin - d_n))).
    A sample with no positive pair gets 0, and Keras's mask (``loss > 0``) on the result,
    which ``Circle`` leaves out of its mean.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
        >>> np.round(circle([0, 0, 1], x, gamma=2.0).data, 4)
        array([0.4518, 0.7763, 0.    ], dtype=float32)
    """
    y_pred = ops.as_tensor(y_pred)
    xp = array_module(y_pred.data)
    if y_pred.ndim != 2:
        raise ValueError(f"circle: y_pred must be embeddings of shape (batch_size, dim), got shape {y_pred.shape}")
    labels = xp.asarray(_raw(y_true)).astype("int32").reshape(-1)
    if labels.shape[0] != y_pred.shape[0]:
        raise ValueError(f"circle: y_true has {labels.shape[0]} labels for {y_pred.shape[0]} embeddings")
    ref = y_pred if ref_embeddings is None else ops.as_tensor(ref_embeddings)
    ref_lab = labels if ref_labels is None else xp.asarray(_raw(ref_labels)).astype("int32").reshape(-1)
    if ref.ndim != 2 or ref.shape[1] != y_pred.shape[1] or ref_lab.shape[0] != ref.shape[0]:
        raise ValueError(
            f"circle: ref_embeddings must have shape (n, {y_pred.shape[1]}) with n ref_labels, "
            f"got shape {ref.shape} and {ref_lab.shape[0]} labels"
        )
    positive, negative = _pos_neg_masks(labels, ref_lab, bool(remove_diagonal), xp)
    gamma, margin = float(gamma), float(margin)
    dist = ops.maximum(ops.sub(1.0, ops.matmul(y_pred, ops.transpose(ref))), 0.0)
    pos_w = ops.maximum(ops.mul(ops.add(dist, margin), positive.astype(dist.dtype)), 0.0)
    neg_w = ops.maximum(ops.mul(ops.sub(1.0 + margin, dist), negative.astype(dist.dtype)), 0.0)
    pos_terms = ops.mul(ops.mul(pos_w, ops.sub(margin, dist)), -gamma)
    neg_terms = ops.mul(ops.mul(neg_w, ops.sub(1.0 - margin, dist)), gamma)
    out = ops.softplus(ops.add(_masked_logsumexp(pos_terms, positive, xp), _masked_logsumexp(neg_terms, negative, xp)))
    out._keras_mask = out.data > 0
    return out


@REGISTRY.register("Circle")
class Circle(Loss):
    """Circle loss between integer labels and L2-normalised embeddings (Keras's ``keras.losses.Circle``).

    Samples whose loss is 0 (no positive pair in the batch) are masked out of the reduction,
    as Keras does: "sum_over_batch_size" divides by the number of unmasked samples.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
        >>> round(Circle(gamma=2.0, reduction="sum")([0, 0, 1], x).item(), 4)
        1.2282
    """

    def __init__(
        self,
        gamma: float = 80.0,
        margin: float = 0.4,
        remove_diagonal: bool = True,
        reduction="sum_over_batch_size",
        name: str = "circle",
    ):
        super().__init__(name, reduction)
        self.gamma, self.margin, self.remove_diagonal = float(gamma), float(margin), bool(remove_diagonal)

    def call(self, y_true, y_pred):
        return circle(y_true, y_pred, remove_diagonal=self.remove_diagonal, gamma=self.gamma, margin=self.margin)

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        values = self.call(y_true, y_pred)
        xp = array_module(values.data)
        mask = values._keras_mask
        in_mask = getattr(y_pred, "_keras_mask", None)
        if in_mask is not None:
            mask = mask & xp.asarray(in_mask, dtype=bool).reshape(mask.shape)
        # Keras's apply_mask: for the means, unmasked entries weigh total / valid (0 when none is valid).
        if self.reduction in ("sum_over_batch_size", "mean"):
            valid = int(mask.sum())
            weight = xp.where(mask, mask.size / valid if valid else 0.0, 0.0).astype(values.dtype)
        else:
            weight = mask.astype(values.dtype)
        if sample_weight is not None:
            sw = xp.asarray(_raw(sample_weight), dtype=values.dtype).reshape(-1)
            if sw.shape != weight.shape:
                raise ValueError(f"Circle: sample_weight must hold one weight per sample ({weight.shape[0]}), got {sw.shape}")
            weight = weight * sw
        return reduce_weighted(values, weight, self.reduction)

    def get_config(self) -> dict:
        return {**super().get_config(), "gamma": self.gamma, "margin": self.margin, "remove_diagonal": self.remove_diagonal}


__all__ = ["CTC", "Circle", "circle", "ctc"]
