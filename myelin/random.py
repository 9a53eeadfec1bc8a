"""``myelin.random``: Keras 3's random ops and ``SeedGenerator``, with Keras's seeding rules.

``seed=None`` draws from myelin's generator (``myelin.backend.rng()``, reseeded by
``myelin.utils.set_random_seed``); an integer seed gives the same values on every call with
that seed; a ``SeedGenerator`` gives a new, reproducible draw on each call, its state
advancing by one each time.

Example:
    >>> from myelin import random
    >>> a = random.normal((2,), seed=7).data
    >>> bool((a == random.normal((2,), seed=7).data).all())
    True
    >>> gen = random.SeedGenerator(42)
    >>> bool((random.uniform((2,), seed=gen).data == random.uniform((2,), seed=gen).data).all())
    False
"""

from __future__ import annotations

import numbers

import numpy as np

from . import backend
from .ops import numpy as knp
from .ops import primitives as prim
from .ops.core import _standard_dtype, convert_to_tensor
from .tensor import Tensor

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]


class SeedGenerator:
    """A seed whose state advances by one on every draw, so each draw differs yet the sequence repeats.

    ``seed=None`` takes the initial seed from myelin's generator. ``state`` is the pair
    (seed, counter) as an int64 tensor; ``next()`` returns a NumPy generator for the next draw.

    Example:
        >>> gen = SeedGenerator(3)
        >>> gen.state.data.tolist()
        [3, 0]
        >>> _ = gen.next(); gen.state.data.tolist()
        [3, 1]
    """

    def __init__(self, seed=None, name: str | None = None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator: unexpected argument(s) {', '.join(sorted(kwargs))}")
        if seed is None:
            seed = int(backend.rng().integers(0, 2**31 - 1))
        if not isinstance(seed, (numbers.Integral,)) or isinstance(seed, bool):
            raise ValueError(f"SeedGenerator: seed must be an integer or None, got {seed!r}")
        self.initial_seed = int(seed)
        self.name = name or "seed_generator"
        self.state = Tensor._wrap(np.array([int(seed), 0], dtype="int64"), False)

    def next(self, ordered: bool = True) -> np.random.Generator:
        """A generator for the next draw; advances the state.

        ``ordered`` is Keras's switch for JAX's ordering of random side effects; draws here are
        always made in call order, which both of its values allow.

        Example:
            >>> SeedGenerator(0).next().random() == SeedGenerator(0).next().random()
            True
        """
        seed, counter = (int(v) for v in self.state.data)
        self.state.data[1] = counter + 1
        return np.random.default_rng([seed % 2**63, counter])

    def get_config(self) -> dict:
        """The seed it was created with."""
        return {"seed": self.initial_seed}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        return cls(**config)


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return backend.rng()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed) % 2**63)
    if isinstance(seed, Tensor):
        return np.random.default_rng([int(v) % 2**63 for v in seed.numpy().reshape(-1)])
    raise ValueError(f"myelin.random: seed must be None, an integer or a SeedGenerator, got {seed!r}")


def _float_dtype(dtype) -> np.dtype:
    dt = _standard_dtype(dtype or backend.floatx())
    if dt.kind != "f":
        raise ValueError(f"myelin.random: dtype must be a floating type, got {dt}")
    return dt


def _shape(shape) -> tuple:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Samples of the normal distribution N(mean, stddev**2).

    Example:
        >>> normal((3,), seed=1).shape
        (3,)
    """
    dt = _float_dtype(dtype)
    values = _generator(seed).normal(mean, stddev, size=_shape(shape))
    return Tensor._wrap(values.astype(dt), False)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    """Samples uniform in [minval, maxval).

    Example:
        >>> bool((uniform((100,), 2.0, 3.0, seed=1).data >= 2.0).all())
        True
    """
    dt = _float_dtype(dtype)
    values = _generator(seed).uniform(minval, maxval, size=_shape(shape))
    return Tensor._wrap(values.astype(dt), False)


def randint(shape, minval, maxval, dtype="int32", seed=None) -> Tensor:
    """Integers uniform in [minval, maxval).

    Example:
        >>> randint((5,), 0, 3, seed=1).data.max() < 3
        np.True_
    """
    dt = _standard_dtype(dtype)
    if dt.kind not in "iu":
        raise ValueError(f"randint: dtype must be an integer type, got {dt}")
    return Tensor._wrap(_generator(seed).integers(minval, maxval, size=_shape(shape)).astype(dt), False)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    """Normal samples, redrawn until within two standard deviations of the mean (Keras's rule).

    Example:
        >>> bool((abs(truncated_normal((1000,), seed=1).data) <= 2.0).all())
        True
    """
    dt = _float_dtype(dtype)
    gen = _generator(seed)
    size = _shape(shape)
    values = gen.standard_normal(size)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2.0
    return Tensor._wrap((values * stddev + mean).astype(dt), False)


def dropout(inputs, rate, noise_shape=None, seed=None) -> Tensor:
    """Zero a fraction ``rate`` of ``inputs`` and scale the rest by 1 / (1 - rate) (differentiable).

    Example:
        >>> out = dropout(np.ones(1000, dtype="float32"), 0.5, seed=0).data
        >>> sorted(set(out.tolist()))
        [0.0, 2.0]
    """
    if not 0 <= rate < 1:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    x = knp._float(inputs)
    gen = None if seed is None else _generator(seed)
    return prim.Dropout.apply(x, rate=rate, noise_shape=noise_shape, generator=gen)


def shuffle(x, axis=0, seed=None) -> Tensor:
    """``x`` with its slices along ``axis`` in a random order (the gradient follows each slice).

    Example:
        >>> sorted(shuffle([1, 2, 3], seed=0).data.tolist())
        [1, 2, 3]
    """
    x = convert_to_tensor(x)
    perm = _generator(seed).permutation(x.shape[axis])
    return knp.take(x, perm, axis=axis)


def categorical(logits, num_samples, dtype="int32", seed=None) -> Tensor:
    """``num_samples`` class indices per row of ``logits`` (batch, classes), drawn from softmax(logits).

    Example:
        >>> categorical([[0.0, 100.0]], 3, seed=0).data
        array([[1, 1, 1]], dtype=int32)
    """
    z = knp._float(logits).numpy().astype("float64")
    if z.ndim != 2:
        raise ValueError(f"categorical: logits must have shape (batch, classes), got {z.shape}")
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gen = _generator(seed)
    u = gen.random((z.shape[0], int(num_samples)))
    cdf = np.cumsum(p, axis=1)
    idx = np.minimum((u[:, :, None] > cdf[:, None, :]).sum(axis=2), z.shape[1] - 1)
    return Tensor._wrap(idx.astype(_standard_dtype(dtype)), False)


def gamma(shape, alpha, dtype=None, seed=None) -> Tensor:
    """Samples of the gamma distribution with shape ``alpha`` and scale 1.

    Example:
        >>> gamma((2,), 2.0, seed=0).shape
        (2,)
    """
    return Tensor._wrap(_generator(seed).gamma(alpha, size=_shape(shape)).astype(_float_dtype(dtype)), False)


def binomial(shape, counts, probabilities, dtype=None, seed=None) -> Tensor:
    """Samples of the binomial distribution (``counts`` trials of success ``probabilities``), as floats.

    Example:
        >>> binomial((3,), 5, 1.0, seed=0).data
        array([5., 5., 5.], dtype=float32)
    """
    values = _generator(seed).binomial(counts, probabilities, size=_shape(shape))
    return Tensor._wrap(values.astype(_float_dtype(dtype)), False)


def beta(shape, alpha, beta, dtype=None, seed=None) -> Tensor:
    """Samples of the beta distribution.

    Example:
        >>> b = beta((100,), 2.0, 2.0, seed=0).data
        >>> bool(((b > 0) & (b < 1)).all())
        True
    """
    return Tensor._wrap(_generator(seed).beta(alpha, beta, size=_shape(shape)).astype(_float_dtype(dtype)), False)
