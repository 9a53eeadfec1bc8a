"""Level 3: weight initializers with Keras's names and defaults.

An initializer is called with a shape and a dtype and returns a new array. Random ones draw
from the library generator (``myelin.utils.set_random_seed``) unless given their own ``seed``.

Example:
    >>> from myelin import initializers
    >>> init = initializers.get("glorot_uniform")
    >>> init((4, 3)).shape
    (4, 3)
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from .registry import Registry

REGISTRY = Registry("initializer")


def compute_fans(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) as Keras computes them: receptive field times channels.

    Example:
        >>> compute_fans((784, 64))
        (784, 64)
    """
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``__call__(shape, dtype=None) -> array``; ``get_config`` for saving.

    Example:
        >>> Zeros()((2,)).tolist()
        [0.0, 0.0]
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Initializer:
        """Rebuild from :meth:`get_config`'s dict (Keras's counterpart)."""
        return cls(**config)

    def _generator(self) -> np.random.Generator:
        seed = getattr(self, "seed", None)
        if seed is None:
            return backend.rng()
        # A seeded initializer gives the same values on every call, as Keras's does.
        return np.random.default_rng(seed)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _dtype(dtype):
    return np.dtype(dtype or backend.floatx())


@REGISTRY.register("zeros")
class Zeros(Initializer):
    """All zeros (Keras's default bias initializer).

    Example:
        >>> Zeros()((1, 2)).tolist()
        [[0.0, 0.0]]
    """

    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=_dtype(dtype))


@REGISTRY.register("ones")
class Ones(Initializer):
    """All ones.

    Example:
        >>> Ones()((2,)).tolist()
        [1.0, 1.0]
    """

    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=_dtype(dtype))


@REGISTRY.register("constant")
class Constant(Initializer):
    """Every element equal to ``value``.

    Example:
        >>> Constant(0.5)((2,)).tolist()
        [0.5, 0.5]
    """

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"value": self.value}


@REGISTRY.register("random_normal")
class RandomNormal(Initializer):
    """Normal draws with ``mean`` and ``stddev`` (default 0.05).

    Example:
        >>> bool(RandomNormal(seed=1)((1000,)).std() < 0.06)
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        values = self._generator().standard_normal(shape, dtype=np.float64)
        return (values * self.stddev + self.mean).astype(dtype)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@REGISTRY.register("random_uniform", aliases=("uniform",))
class RandomUniform(Initializer):
    """Uniform draws in [minval, maxval) (default ±0.05).

    Example:
        >>> bool(abs(RandomUniform(seed=1)((100,))).max() <= 0.05)
        True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, shape, dtype=None):
        return self._generator().uniform(self.minval, self.maxval, size=shape).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


@REGISTRY.register("orthogonal")
class Orthogonal(Initializer):
    """A (scaled) orthogonal matrix, Keras's default for recurrent kernels (Saxe et al., 2014).

    The last axis is the columns; the other axes are flattened into rows. Drawn as the Q of
    a QR decomposition of a normal matrix, its signs fixed by R's diagonal.

    Example:
        >>> q = Orthogonal(seed=0)((4, 4))
        >>> bool(np.allclose(q @ q.T, np.eye(4), atol=1e-6))
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain, self.seed = float(gain), seed

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have at least two axes, got {tuple(shape)}")
        rows, cols = int(np.prod(shape[:-1])), int(shape[-1])
        flat = self._generator().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return np.ascontiguousarray((self.gain * q[:rows, :cols]).reshape(shape), dtype=_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


def _truncated_normal(gen: np.random.Generator, shape, stddev: float):
    """Normal draws with |value| <= 2 stddev, out-of-range draws redrawn (as TensorFlow does)."""
    values = gen.standard_normal(shape)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(values) > 2.0
    return values * stddev


@REGISTRY.register("truncated_normal")
class TruncatedNormal(Initializer):
    """Normal draws cut at two standard deviations and redrawn.

    Example:
        >>> bool(abs(TruncatedNormal(seed=1)((1000,))).max() <= 0.1)
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype=None):
        return (_truncated_normal(self._generator(), shape, self.stddev) + self.mean).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


@REGISTRY.register("variance_scaling")
class VarianceScaling(Initializer):
    """Draws with variance ``scale / n``, n the fan-in, fan-out or their mean (``mode``).

    ``distribution`` is "truncated_normal" (stddev corrected for the truncation, as Keras),
    "untruncated_normal" or "uniform" (limit sqrt(3 * scale / n)).

    Example:
        >>> bool(VarianceScaling(2.0, "fan_in", "uniform", seed=0)((100, 10)).max() <= (6 / 100) ** 0.5)
        True
    """

    _TRUNCATION_CORRECTION = 0.87962566103423978  # stddev of a unit normal cut at +-2

    def __init__(
        self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal", seed: int | None = None
    ):
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                f"VarianceScaling: distribution must be truncated_normal, untruncated_normal or uniform, got {distribution!r}"
            )
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        gen = self._generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = gen.uniform(-limit, limit, size=shape)
        elif self.distribution == "truncated_normal":
            values = _truncated_normal(gen, shape, math.sqrt(variance) / self._TRUNCATION_CORRECTION)
        else:
            values = gen.standard_normal(shape) * math.sqrt(variance)
        return values.astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _variance_scaling_preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    class Preset(VarianceScaling):
        def __init__(self, seed: int | None = None):
            super().__init__(scale, mode, distribution, seed)

        def get_config(self) -> dict:
            return {"seed": self.seed}

    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = doc
    return Preset


GlorotUniform = _variance_scaling_preset(
    "GlorotUniform",
    1.0,
    "fan_avg",
    "uniform",
    """Uniform in ±sqrt(6 / (fan_in + fan_out)): Dense's default kernel initializer.

    Example:
        >>> GlorotUniform(seed=0)((784, 64)).shape
        (784, 64)
    """,
)
GlorotNormal = _variance_scaling_preset(
    "GlorotNormal",
    1.0,
    "fan_avg",
    "truncated_normal",
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out)).

    Example:
        >>> GlorotNormal(seed=0)((4, 4)).shape
        (4, 4)
    """,
)
HeUniform = _variance_scaling_preset(
    "HeUniform",
    2.0,
    "fan_in",
    "uniform",
    """Uniform in ±sqrt(6 / fan_in), suited to relu layers.

    Example:
        >>> HeUniform(seed=0)((4, 4)).shape
        (4, 4)
    """,
)
HeNormal = _variance_scaling_preset(
    "HeNormal",
    2.0,
    "fan_in",
    "truncated_normal",
    """Truncated normal with stddev sqrt(2 / fan_in), suited to relu layers.

    Example:
        >>> HeNormal(seed=0)((4, 4)).shape
        (4, 4)
    """,
)
LecunNormal = _variance_scaling_preset(
    "LecunNormal",
    1.0,
    "fan_in",
    "truncated_normal",
    """Truncated normal with stddev sqrt(1 / fan_in), for selu networks.

    Example:
        >>> LecunNormal(seed=0)((4, 4)).shape
        (4, 4)
    """,
)
LecunUniform = _variance_scaling_preset(
    "LecunUniform",
    1.0,
    "fan_in",
    "uniform",
    """Uniform in ±sqrt(3 / fan_in).

    Example:
        >>> LecunUniform(seed=0)((4, 4)).shape
        (4, 4)
    """,
)
for _name, _cls in [
    ("glorot_uniform", GlorotUniform),
    ("glorot_normal", GlorotNormal),
    ("he_uniform", HeUniform),
    ("he_normal", HeNormal),
    ("lecun_normal", LecunNormal),
    ("lecun_uniform", LecunUniform),
]:
    REGISTRY.add(_name, _cls)
for _cls in list({id(c): c for c in REGISTRY._items.values()}.values()):
    REGISTRY.add(_cls.__name__, _cls)


@REGISTRY.register("Identity", aliases=("identity", "IdentityInitializer"))
class Identity(Initializer):
    """``gain`` times the identity matrix (a 2-D shape; rectangular shapes get ones on the diagonal).

    Example:
        >>> Identity(gain=2.0)((2, 3)).tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity: the shape must be 2-D, got {tuple(shape)}")
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


def _window(name: str, length: int, periodic: bool) -> np.ndarray:
    """A named window of ``length`` samples, as ``scipy.signal.get_window(name, length, fftbins=periodic)``."""
    n = length + 1 if periodic and length > 1 else length
    if n == 1:
        values = np.ones(1)
    else:
        k = np.arange(n) / (n - 1)
        formulas = {
            "hann": lambda: 0.5 - 0.5 * np.cos(2 * np.pi * k),
            "hamming": lambda: 0.54 - 0.46 * np.cos(2 * np.pi * k),
            "blackman": lambda: 0.42 - 0.5 * np.cos(2 * np.pi * k) + 0.08 * np.cos(4 * np.pi * k),
            "bartlett": lambda: 1.0 - np.abs(2 * k - 1.0),
            "boxcar": lambda: np.ones(n),
        }
        if name in formulas:
            values = formulas[name]()
        else:
            try:
                from scipy.signal import get_window  # noqa: PLC0415  (other windows: SciPy's, as Keras)
            except ImportError:
                raise ValueError(
                    f"STFT: window {name!r} needs SciPy; without it the windows are {_WINDOWS} or an array"
                ) from None
            return np.asarray(get_window(name, length, periodic), dtype=np.float64)
    return values[:length]


_WINDOWS = ("hann", "hamming", "blackman", "bartlett", "boxcar")


@REGISTRY.register("STFT", aliases=("stft", "STFTInitializer"))
class STFT(Initializer):
    """Keras's STFT kernel: the real (cosine) or imaginary (sine) DFT part times a window, shape (frame, channels, bins).

    For frame position t and frequency bin f of ``fft_length = 2 (bins - 1)``, the value is
    cos(-2 pi t f / fft_length) (``side="real"``) or sin(...) (``side="imag"``), times the
    window (a name: "hann", "hamming", "blackman", "bartlett", "boxcar" and, with SciPy,
    SciPy's others; an array of ``frame`` values; or None) divided by its ``scaling``:
    "density" sqrt(sum w^2), "spectrum" sum |w|, or None. ``periodic`` takes the window of
    ``frame + 1`` samples without its last (SciPy's ``fftbins``). Every value is real.

    Example:
        >>> STFT(window=None)((2, 1, 2))[:, 0, :].tolist()
        [[1.0, 1.0], [1.0, -1.0]]
    """

    def __init__(self, side: str = "real", window="hann", scaling: str | None = "density", periodic: bool = False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side must be 'real' or 'imag', got {side!r}")
        if isinstance(window, str):
            _window(window, 1, False)  # an unknown name fails here, as Keras's constructor does
        if scaling not in ("density", "spectrum", None):
            raise ValueError(f"STFT: scaling must be 'density', 'spectrum' or None, got {scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, bool(periodic)

    def __call__(self, shape, dtype=None):
        if len(shape) != 3:
            raise ValueError(f"STFT: the shape must be (frame_length, input_channels, fft_bins), got {tuple(shape)}")
        frame, _, bins = (int(d) for d in shape)
        dtype = _dtype(dtype)
        t = np.arange(frame, dtype=dtype).reshape(frame, 1, 1)
        f = np.arange(bins, dtype=dtype).reshape(1, 1, bins) / dtype.type((bins - 1) * 2)
        angle = (-2 * t * f) * dtype.type(np.pi)
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            win = _window(self.window, frame, self.periodic) if isinstance(self.window, str) else np.asarray(self.window)
            if win.shape != (frame,):
                raise ValueError(f"STFT: the window must have shape ({frame},) (the frame length), got {win.shape}")
            win = win.astype(dtype).reshape(frame, 1, 1)
            scale = 1.0
            if self.scaling == "density":
                scale = np.sqrt(np.sum(win * win))
            elif self.scaling == "spectrum":
                scale = np.sum(np.abs(win))
            kernel = kernel * win / scale
        return np.broadcast_to(kernel, (frame, shape[1], bins)).astype(dtype)

    def get_config(self) -> dict:
        window = self.window if self.window is None or isinstance(self.window, str) else np.asarray(self.window).tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}


STFTInitializer = stft = STFT


# Keras's other names for the same classes.
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
REGISTRY.add("OrthogonalInitializer", Orthogonal)
constant, zeros, ones = Constant, Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity = VarianceScaling, Orthogonal, Identity
glorot_normal, glorot_uniform, he_normal, he_uniform = GlorotNormal, GlorotUniform, HeNormal, HeUniform
lecun_normal, lecun_uniform = LecunNormal, LecunUniform


def serialize(initializer: Initializer) -> dict:
    """Keras's dict for an initializer: ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(HeNormal(seed=1))["config"]
        {'seed': 1}
    """
    if not isinstance(initializer, Initializer):
        raise TypeError(f"initializers.serialize: expected an Initializer, got {type(initializer).__name__}")
    name = REGISTRY.name_of(type(initializer))
    if name is None:
        raise ValueError(f"initializers.serialize: {type(initializer).__name__} is not registered")
    if ">" not in name:
        name = type(initializer).__name__ if type(initializer).__name__ in REGISTRY else name
    custom = ">" in name
    return {
        "module": None if custom else __name__,
        "class_name": name,
        "config": initializer.get_config(),
        "registered_name": name if custom else None,
    }


def deserialize(config, custom_objects: dict | None = None) -> Initializer:
    """An initializer from :func:`serialize`'s dict (or Keras's), or from a name.

    Example:
        >>> deserialize({"class_name": "Identity", "config": {"gain": 3.0}}).gain
        3.0
    """
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"initializers.deserialize: expected a name or a dict with 'class_name', got {config!r}")
    name = config.get("registered_name") or config["class_name"]
    cls = (custom_objects or {}).get(name) or REGISTRY.lookup(name)
    return cls(**(config.get("config") or {}))


def get(identifier) -> Initializer:
    """Resolve an initializer: a name (Keras's snake_case or class name), a config dict, an instance or a callable.

    Example:
        >>> isinstance(get("he_normal"), HeNormal)
        True
    """
    if isinstance(identifier, str):
        return REGISTRY.lookup(identifier)()
    if isinstance(identifier, dict):  # a saved config: {"class_name": ..., "config": {...}}
        return REGISTRY.deserialize(identifier)
    if isinstance(identifier, Initializer) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    raise TypeError(f"initializer must be a name, an Initializer or a callable, got {identifier!r}")
