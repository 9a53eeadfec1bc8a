"""Level 4: model files you can trust: safe to load from a stranger, written atomically.

A ``.myelin`` file is a zip archive with exactly two members:

- ``config.json``: the format name and version, what the file holds (``"model"``,
  ``"weights"`` or ``"checkpoint"``), the architecture (each layer's registered class name
  and ``get_config()``), the compile settings, which tensors belong to which layer, the
  optimizer's state layout, and the dtype, shape and SHA-256 of every tensor;
- ``model.safetensors``: the tensors (weights, then optimizer state) in the safetensors
  format, read with the ``safetensors`` package's NumPy API.

Loading never runs code from the file and never imports a module named in it: every class
or function name is looked up in one of myelin's registries (layers, activations, losses,
metrics, optimizers, learning-rate schedules, initializers, regularizers), where your own
classes and functions go with :func:`register_serializable`. Every malformed file is refused
with one exception type, :class:`ModelFileError` (a ``ValueError``), whose message says what
is wrong. Writes go to a temporary file in the same folder, are flushed and fsynced, and
then replace the target atomically, so a crash or a full disk never destroys the last good
file. The format is described in ``docs/saving.md``.

Example:
    >>> import numpy as np, myelin
    >>> from myelin import layers, saving
    >>> model = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation="softmax")])
    >>> model.compile(optimizer="adam", loss="categorical_crossentropy")
    >>> model.save("classifier.myelin")  # doctest: +SKIP
    >>> again = saving.load_model("classifier.myelin")  # doctest: +SKIP
"""

# Over 800 lines because the file format's reader and its validation of untrusted input are one unit, audited together.
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import inspect
import io
import json
import math
import os
import sys
import tempfile
import time

import numpy as np

from . import activations, backend, initializers, losses, metrics, regularizers
from .layers import base as layers_base
from .optimizers import REGISTRY as OPTIMIZERS
from .optimizers import Optimizer, schedules
from .registry import Registry

FORMAT = "myelin"
FORMAT_VERSION = 1  # the version this myelin writes; it reads every version from 1 up to this
CONFIG_MEMBER = "config.json"
DATA_MEMBER = "model.safetensors"
KINDS = ("model", "weights", "checkpoint")
TEMP_MARKER = ".myelin-tmp-"  # temporary files are named ".<target>.myelin-tmp-<pid>-<random>"
_DTYPES = {"float16": "F16", "float32": "F32", "float64": "F64"}  # what a tensor in a file may be


class ModelFileError(ValueError):
    """A file that is not a valid myelin file: its message says what is wrong with it.

    Raised for every malformed file: not a zip, a missing, duplicated, unexpected or
    oversized member, a truncated member, bad JSON, an unknown format version, an unknown
    layer or function name, a shape or dtype mismatch, a checksum mismatch, a member name
    that tries path traversal.

    Example:
        >>> try:
        ...     raise ModelFileError("config.json is not valid JSON")
        ... except ValueError as err:
        ...     print(err)
        config.json is not valid JSON
    """


@dataclasses.dataclass(frozen=True)
class Limits:
    """Size limits a file must respect to be read (checked before anything is allocated).

    Replace ``myelin.saving.LIMITS`` to change them, e.g. for a model of more than 16 GiB:
    ``saving.LIMITS = saving.Limits(max_data_bytes=64 * 2**30)``.

    Example:
        >>> Limits().max_compression_ratio
        100.0
    """

    max_config_bytes: int = 16 * 2**20  # config.json, uncompressed
    max_data_bytes: int = 16 * 2**30  # model.safetensors, uncompressed
    max_total_bytes: int = 16 * 2**30 + 16 * 2**20  # both members together, uncompressed
    max_header_bytes: int = 16 * 2**20  # the JSON header inside model.safetensors
    max_compression_ratio: float = 100.0  # uncompressed / compressed size of a deflated member
    max_input_values: int = 2**27  # values in one sample of a model input (shape product)


LIMITS = Limits()


# ---------------------------------------------------------------------------- registration
def _families() -> list[tuple[type, Registry]]:
    return [
        (layers_base.Layer, layers_base.REGISTRY),
        (losses.Loss, losses.REGISTRY),
        (metrics.Metric, metrics.REGISTRY),
        (Optimizer, OPTIMIZERS),
        (schedules.LearningRateSchedule, schedules.REGISTRY),
        (initializers.Initializer, initializers.REGISTRY),
        (regularizers.Regularizer, regularizers.REGISTRY),
    ]


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator: make your class or function savable and loadable by name (Keras's decorator).

    It is registered as ``"<package>><name>"`` (name defaults to ``__name__``) in the registry
    of its family: a ``Layer`` or ``Model`` subclass in the layers', a ``Loss`` subclass in the
    losses', likewise for ``Metric``, ``Optimizer``, ``LearningRateSchedule``, ``Initializer``
    and ``Regularizer``. A plain function can serve as an activation, a loss or a metric, and
    is registered in those three. Loading a file resolves names only through these
    registries, so run the decorated definition before loading a file that uses it.

    Example:
        >>> import myelin
        >>> @register_serializable(package="Docs")
        ... def scaled_tanh(x):
        ...     return myelin.ops.tanh(x) * 2.0
        >>> myelin.activations.serialize(scaled_tanh)
        'Docs>scaled_tanh'
    """
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: package must be a non-empty string without '>', got {package!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"register_serializable: name must be a non-empty string, got {name!r}")

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type):
            registries = [reg for base, reg in _families() if issubclass(obj, base)][:1]
            if not registries:
                raise TypeError(
                    f"register_serializable: {obj.__name__} is not a Layer, Model, Loss, Metric, Optimizer, "
                    "LearningRateSchedule, Initializer or Regularizer subclass"
                )
        elif callable(obj):
            registries = [activations.REGISTRY, losses.REGISTRY, metrics.REGISTRY]
        else:
            raise TypeError(f"register_serializable: expected a class or a function, got {obj!r}")
        for registry in registries:
            registry.add(registered, obj)
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        return obj

    return decorator


# Keras's global custom objects (myelin.saving.get_custom_objects()): every registered custom
# object, and what a program adds itself; the stack's bottom, under the active scopes.
_GLOBAL_CUSTOM_OBJECTS: dict = {}
_CUSTOM_OBJECTS: list[dict] = [_GLOBAL_CUSTOM_OBJECTS]


class CustomObjectScope:
    """Inside ``with CustomObjectScope(objects):``, names in ``objects`` resolve to the given
    objects before the registries are asked (Keras's class; ``custom_object_scope`` is the same).

    ``load_model(path, custom_objects=...)`` uses it. The objects come from your code, not
    from the file, so this is as safe as registering them. Several dicts may be given.

    Example:
        >>> with CustomObjectScope({"Twice": lambda x: 2 * x}):
        ...     pass
    """

    def __init__(self, *custom_objects):
        merged = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"CustomObjectScope: expected dicts of name -> object, got {type(objects).__name__}")
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self):
        _CUSTOM_OBJECTS.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        for i in range(len(_CUSTOM_OBJECTS) - 1, 0, -1):
            if _CUSTOM_OBJECTS[i] is self.custom_objects:
                del _CUSTOM_OBJECTS[i]
                break
        return False


custom_object_scope = CustomObjectScope


def _lookup(registry: Registry, name):
    if not isinstance(name, str):
        raise ModelFileError(f"a {registry.family} name must be a string, got {name!r}")
    for scope in reversed(_CUSTOM_OBJECTS):
        if name in scope:
            return scope[name]
    try:
        return registry.lookup(name)
    except ValueError as err:
        hint = ""
        if ">" in name:
            hint = (
                " It is a registered custom object: run the code that defines it (decorated with "
                "@myelin.saving.register_serializable) before loading, or pass custom_objects."
            )
        raise ModelFileError(f"{err}{hint}") from None


# ---------------------------------------------------------------------------- configs of objects
def _json_ready(value, where: str):
    """``value`` checked to be plain JSON (dicts with string keys, lists, strings, finite numbers, None)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{where} cannot be saved: it holds something that is not plain JSON data ({err}); "
            "configs may hold numbers, strings, booleans, None, lists and dicts"
        ) from None
    return json.loads(text)


def _registered_name(registry: Registry, obj_type: type, what: str) -> str:
    name = registry.name_of(obj_type)
    if name is None:
        raise ValueError(
            f"{what} is of class {obj_type.__name__}, which is not registered: decorate the class with "
            "@myelin.saving.register_serializable() so that a file can name it"
        )
    return name


def _check_config_covers_init(layer, config: dict) -> None:
    """A user's layer must return every constructor argument from ``get_config`` to be rebuilt as it was."""
    cls = type(layer)
    rebuilder = next(k for k in cls.__mro__ if "from_config" in vars(k))
    if cls.__module__.startswith("myelin.") or not rebuilder.__module__.startswith("myelin."):
        return  # myelin's own layers are tested; a class with its own from_config rebuilds itself
    missing = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.name in config:
            continue
        missing.append(p.name)
    if missing:
        raise ValueError(
            f"layer {layer.name!r} ({cls.__name__}) cannot be saved: its constructor takes "
            f"{', '.join(repr(m) for m in missing)} but get_config() does not return "
            f"{'it' if len(missing) == 1 else 'them'}. Override get_config() to return "
            "{**super().get_config(), 'argument': value, ...} (or from_config to rebuild it yourself)"
        )


def serialize_layer(layer) -> dict:
    """``{"class_name", "config", "build_config"}`` for a layer or a model (nested models included).

    Example:
        >>> from myelin.layers import Dense
        >>> entry = serialize_layer(Dense(2, name="out"))
        >>> entry["class_name"], entry["config"]["units"]
        ('Dense', 2)
    """
    class_name = _registered_name(layers_base.REGISTRY, type(layer), f"layer {layer.name!r}")
    config = _json_ready(layer.get_config(), f"the config of layer {layer.name!r}")
    _check_config_covers_init(layer, config)
    entry = {"class_name": class_name, "config": config}
    is_model = callable(getattr(layer, "compile", None))
    if is_model and layer.built and layer._build_input_shape is not None:
        # A model built on data (no Input) or a subclassed model is built from this; the layers
        # inside a model are built by the model, from its Input, so that a file cannot give a
        # layer a shape its model does not.
        entry["build_config"] = {"input_shape": _json_ready(list(layer._build_input_shape), "an input shape")}
    return entry


def _check_shape_value(value, where: str, batch_axis: bool = True) -> tuple:
    limit = LIMITS.max_input_values
    if isinstance(value, (list, tuple)) and not batch_axis:
        value = [None, *value]
    if not isinstance(value, (list, tuple)) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in value
    ):
        raise ModelFileError(f"{where} must be a list of positive integers (or null), got {value!r}")
    size = math.prod(d for d in value[1:] if d is not None)
    if size > limit:
        raise ModelFileError(f"{where} {value!r} has {size:,} values per sample, more than the limit of {limit:,}")
    return tuple(value)


def _build_shapes(value, where: str):
    """A model's build shape from a file: one shape, or a list of shapes (a model with several inputs)."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        if len(value) > MAX_MODEL_INPUTS:
            raise ModelFileError(f"{where} lists {len(value):,} inputs, more than the limit of {MAX_MODEL_INPUTS}")
        shapes = [_check_shape_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        size = sum(math.prod(d for d in s[1:] if d is not None) for s in shapes)
        if size > LIMITS.max_input_values:
            raise ModelFileError(f"{where} has {size:,} values per sample, more than the limit of {LIMITS.max_input_values:,}")
        return shapes
    return _check_shape_value(value, where)


MAX_MODEL_INPUTS = 1024  # inputs of one model read from a file


def deserialize_layer(entry: dict):
    """Rebuild a layer (or model) from :func:`serialize_layer`'s dict; names resolve through the registries only.

    Example:
        >>> layer = deserialize_layer({"class_name": "Dense", "config": {"units": 3, "name": "d"}})
        >>> layer.units, layer.name
        (3, 'd')
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ModelFileError(f"a layer entry must be a dict with 'class_name' and 'config', got {_short(entry)}")
    class_name = entry.get("class_name")
    cls = _lookup(layers_base.REGISTRY, class_name)
    if not (isinstance(cls, type) and issubclass(cls, layers_base.Layer)):
        raise ModelFileError(f"{class_name!r} is not a layer class")
    config = entry["config"]
    label = f"layer {config.get('name')!r} ({class_name})"
    if not all(isinstance(k, str) for k in config):
        raise ModelFileError(f"{label}: config keys must be strings")
    for key in ("batch_shape", "batch_input_shape"):
        if config.get(key) is not None:
            _check_shape_value(config[key], f"{label}: {key}")
    if config.get("input_shape") is not None:
        _check_shape_value(config["input_shape"], f"{label}: input_shape", batch_axis=False)
    build = entry.get("build_config")
    shape = None
    if build is not None:
        if not isinstance(build, dict):
            raise ModelFileError(f"{label}: build_config must be a dict, got {_short(build)}")
        shape = _build_shapes(build.get("input_shape"), f"{label}: build_config input_shape")
    try:
        layer = cls.from_config(dict(config))
        if shape is not None and not layer.built and callable(getattr(layer, "compile", None)):
            layer._maybe_build(shape)  # only models: their layers are built by them
    except ModelFileError:
        raise
    except Exception as err:  # constructors and build run on numbers from the file: any failure means a bad config
        raise ModelFileError(f"{label} cannot be rebuilt from its config: {type(err).__name__}: {err}") from None
    return layer


def _family_registry(family: str) -> Registry:
    return {
        "loss": losses.REGISTRY,
        "metric": metrics.REGISTRY,
        "optimizer": OPTIMIZERS,
        "activation": activations.REGISTRY,
    }[family]


def serialize_object(obj, family: str):
    """A loss, metric or optimizer specification as JSON: names stay names, objects become configs.

    ``family`` is "loss", "metric" or "optimizer". Lists and dicts (one entry per model
    output) are kept as lists and dicts. A function is saved by its registered name; an
    instance of a registered class as ``{"class_name", "config"}``.

    Example:
        >>> from myelin import losses
        >>> serialize_object(losses.Huber(delta=2.0), "loss")["config"]["delta"]
        2.0
        >>> serialize_object(["mse", losses.mean_absolute_error], "loss")
        ['mse', 'mean_absolute_error']
    """
    registry = _family_registry(family)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_object(o, family) for o in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_object(v, family) for k, v in obj.items()}
    if isinstance(obj, losses.LossFunctionWrapper) and not obj.kwargs and obj.reduction == "sum_over_batch_size":
        return serialize_object(obj.fn, family)
    if isinstance(obj, metrics.MeanMetricWrapper) and type(obj) is metrics.MeanMetricWrapper and not obj.kwargs:
        return serialize_object(obj.fn, family)
    if isinstance(obj, type):
        return _registered_name(registry, obj, f"the {family} class")
    name = registry.name_of(type(obj))
    if name is not None and hasattr(obj, "get_config"):
        return {"class_name": name, "config": _json_ready(obj.get_config(), f"the config of {family} {name!r}")}
    if callable(obj) and not hasattr(obj, "get_config"):
        fn_name = registry.name_of(obj)
        if fn_name is None:
            raise ValueError(
                f"the {family} {getattr(obj, '__name__', obj)!r} is not registered: decorate it with "
                "@myelin.saving.register_serializable() so that a file can name it"
            )
        return fn_name
    return _registered_name(registry, type(obj), f"the {family} {obj!r}")


def deserialize_object(spec, family: str):
    """The inverse of :func:`serialize_object`: names stay names (``compile`` resolves them), configs become objects.

    Example:
        >>> deserialize_object({"class_name": "Huber", "config": {"delta": 2.0}}, "loss").delta
        2.0
    """
    registry = _family_registry(family)
    if spec is None or isinstance(spec, (int, float, bool)):
        return spec
    if isinstance(spec, str):
        if spec not in ("accuracy", "acc"):  # the one name compile resolves itself
            _lookup(registry, spec)
        return spec
    if isinstance(spec, list):
        return [deserialize_object(s, family) for s in spec]
    if isinstance(spec, dict) and "class_name" in spec:
        cls = _lookup(registry, spec["class_name"])
        if not isinstance(cls, type):
            raise ModelFileError(f"{family} {spec['class_name']!r} is a function, not a class: it takes no config")
        args = spec.get("config") or {}
        if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
            raise ModelFileError(f"{family} {spec['class_name']!r}: config must be a dict, got {_short(args)}")
        try:
            return cls.from_config(args) if hasattr(cls, "from_config") else cls(**args)
        except Exception as err:  # the constructor ran on values from a file
            raise ModelFileError(f"{family} {spec['class_name']!r} cannot be rebuilt from its config: {err}") from None
    if isinstance(spec, dict):
        return {k: deserialize_object(v, family) for k, v in spec.items()}
    raise ModelFileError(f"a {family} entry must be a name, a config or a list or dict of them, got {_short(spec)}")


# ---------------------------------------------------------------------------- atomic writes
def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _open_for_writing(fd: int):
    """The file object a save writes into (a seam for tests that simulate a full disk)."""
    return os.fdopen(fd, "wb")


def _process_alive(pid: int) -> bool:
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_temp_files(folder, target: str | None = None, max_age_s: float = 24 * 3600) -> list[str]:
    """Remove temporary files left in ``folder`` by saves that were killed; returns their names.

    A temporary file is ``.<target>.myelin-tmp-<pid>-<random>``. It is removed when the
    process that wrote it no longer exists (on POSIX) or when it is older than
    ``max_age_s``. Files of running saves are left alone. Every save calls this for its
    target; loading never reads these files.

    Example:
        >>> clean_temp_files(".")
        []
    """
    folder = os.fspath(folder)
    removed = []
    prefix = f".{target}{TEMP_MARKER}" if target is not None else "."
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        if not name.startswith(prefix) or TEMP_MARKER not in name:
            continue
        path = os.path.join(folder, name)
        pid_text = name.rsplit(TEMP_MARKER, 1)[1].split("-", 1)[0]
        try:
            dead = pid_text.isdigit() and int(pid_text) != os.getpid() and not _process_alive(int(pid_text))
            if dead or now - os.path.getmtime(path) > max_age_s:
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue
    return removed


def _fsync_folder(folder: str) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# The moments of a write at which a test can make a fault happen (tests/test_saving_atomic.py
# kills the process at each): the temporary file is created, the data written, the data on disk,
# the rename done. None, the default, does nothing.
FAULT_POINTS = ("opened", "written", "synced", "replaced")
_fault_hook = None


def _fault_point(name: str, path: str) -> None:
    if _fault_hook is not None:
        _fault_hook(name, path)


def _writes_files() -> bool:
    """False on every process but 0 of a data-parallel run (they hold the same model: one writes it)."""
    dp = sys.modules.get("myelin.distribution.data_parallel")
    return dp is None or dp.is_chief()


@contextlib.contextmanager
def atomic_write(filepath):
    """Write a file so that it is either the old file or the complete new one, whatever happens.

    The data goes to a temporary file in the same folder, which is flushed and fsynced and
    then renamed over ``filepath`` (``os.replace``, atomic), and the folder is fsynced so the
    rename itself survives a power cut. If anything fails before the rename (a full disk, an
    exception, Ctrl-C), the temporary file is removed and ``filepath`` is untouched; if the
    process is killed, the leftover temporary file is cleaned up by the next save.

    Example:
        >>> with atomic_write("notes.txt") as f:  # doctest: +SKIP
        ...     f.write(b"all or nothing")
    """
    path = os.path.abspath(os.fspath(filepath))
    folder, base = os.path.split(path)
    if not _writes_files():  # data-parallel training: process 0 writes, the others' bytes go nowhere
        yield io.BytesIO()
        return
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {os.fspath(filepath)!r}: the folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {os.fspath(filepath)!r}: it is a folder")
    clean_temp_files(folder, base)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}{TEMP_MARKER}{os.getpid()}-", dir=folder)
    try:
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with _open_for_writing(fd) as f:
            _fault_point("opened", path)
            yield f
            f.flush()
            _fault_point("written", path)
            os.fsync(f.fileno())
            _fault_point("synced", path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fault_point("replaced", path)
    _fsync_folder(folder)


# ---------------------------------------------------------------------------- writing
def _safetensors():
    try:
        import safetensors.numpy  # noqa: PLC0415  (optional dependency, imported when a file is read or written)
    except ImportError:
        raise ImportError(
            "saving and loading myelin files needs the safetensors package: pip install 'myelin[saving]' "
            "(or pip install safetensors)"
        ) from None
    return safetensors.numpy


def _weight_groups(model) -> list[tuple[str, str, list]]:
    """The model's weights, per layer in ``model.layers`` order (then the model's own), each weight once."""
    groups, seen = [], set()
    for layer in model.layers:
        ws = [w for w in layer.weights if id(w) not in seen]
        seen.update(id(w) for w in ws)
        if ws:
            groups.append((layer.name, type(layer).__name__, ws))
    rest = [w for w in model.weights if id(w) not in seen]
    if rest:
        groups.append((model.name, type(model).__name__, rest))
    return groups


def _weights_table(model) -> tuple[list, dict, dict]:
    """(groups for config.json, {tensor key: array}, {id(weight): key})."""
    groups, arrays, keys, used = [], {}, {}, set()
    for layer_name, class_name, ws in _weight_groups(model):
        names = []
        for j, w in enumerate(ws):
            key = w.name or f"{layer_name}/{j}"
            if key in used or key.startswith("optimizer/"):
                n = 1
                while f"{key}#{n}" in used:
                    n += 1
                key = f"{key}#{n}"
            used.add(key)
            keys[id(w)] = key
            arrays[key] = np.asarray(w.numpy())
            names.append(key)
        groups.append({"layer": layer_name, "class_name": class_name, "tensors": names})
    return groups, arrays, keys


def _optimizer_table(model, keys: dict) -> tuple[dict | None, dict]:
    opt = getattr(model, "optimizer", None)
    if opt is None or not opt.built:
        return None, {}
    arrays, order = {}, []
    for v in opt.variables:
        if id(v) not in keys:
            raise ValueError(
                f"the optimizer updates a variable {v.name or tuple(v.shape)} that is not a weight of model "
                f"{model.name!r}; it cannot be saved with it"
            )
        key = keys[id(v)]
        order.append(key)
        for slot, value in opt.get_variable_state(v).items():
            arrays[f"optimizer/{key}/{slot}"] = np.asarray(value)
    state = {"iterations": int(opt._iterations), "variables": order}  # the calls (with gradient accumulation, not updates)
    # callbacks such as ReduceLROnPlateau change it during training (a MultiOptimizer has none of its own: its
    # learning_rate_schedule raises AttributeError, and getattr gives the default)
    if getattr(opt, "learning_rate_schedule", True) is None:
        state["learning_rate"] = float(opt.learning_rate)
    if callable(getattr(opt, "get_scale_state", None)):  # LossScaleOptimizer: its dynamic scale and counter
        state["loss_scale"] = opt.get_scale_state()
    decay_excluded = [keys[i] for i in getattr(opt, "_exclude_ids", ()) if i in keys]
    excluded_names = list(getattr(opt, "_exclude_names", ()))
    if decay_excluded or excluded_names:
        state["exclude_from_weight_decay"] = {"variables": decay_excluded, "var_names": excluded_names}
    return state, arrays


def _version_string() -> str:
    return getattr(sys.modules.get("myelin"), "__version__", "unknown")


def _little_endian(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))


def _sha256(array: np.ndarray) -> str:
    """SHA-256 of a tensor's bytes as a file stores them (C order, little-endian)."""
    return hashlib.sha256(_little_endian(array).view(np.uint8).reshape(-1)).hexdigest()


def _safetensors_layout(arrays: dict) -> tuple[bytes, list]:
    """The safetensors header for ``arrays`` and the order their bytes follow it in.

    The same bytes ``safetensors.numpy.save`` writes (tested): tensors sorted by dtype (widest
    first) then name, the JSON header padded with spaces to a multiple of 8. Writing the
    tensors straight from the arrays saves the two full copies that building the file in
    memory costs.
    """
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header, offset = {"__metadata__": {"format": FORMAT}}, 0
    for key in order:
        size = arrays[key].nbytes
        header[key] = {
            "dtype": _DTYPES[arrays[key].dtype.name],
            "shape": list(arrays[key].shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text, order


def _write(filepath, kind: str, model, include_optimizer: bool, extra: dict) -> None:
    _safetensors()  # a clear ImportError now, rather than a file nobody can read later
    if not model.built:
        raise ValueError(
            f"model {model.name!r} has no weights yet: build it first (give it an Input, call it on data, "
            "or call model.build(input_shape)) before saving"
        )
    groups, arrays, keys = _weights_table(model)
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind, "myelin_version": _version_string()}
    config.update(extra)
    config["weights"] = groups
    if include_optimizer:
        state, opt_arrays = _optimizer_table(model, keys)
        if state is not None:
            config["optimizer_state"] = state
            arrays.update(opt_arrays)
    for key, arr in arrays.items():
        if arr.dtype.name not in _DTYPES:
            raise ValueError(f"tensor {key!r} has dtype {arr.dtype}; files hold float16, float32 or float64 tensors")
    arrays = {k: _little_endian(a) for k, a in arrays.items()}
    header, order = _safetensors_layout(arrays)
    size = len(header) + sum(a.nbytes for a in arrays.values())
    import zipfile  # noqa: PLC0415  (kept out of `import myelin`)
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    def member(name: str, length: int):
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type, info.external_attr, info.file_size = zipfile.ZIP_STORED, 0o644 << 16, length
        return info

    # The checksums are computed in threads (hashlib releases the GIL) while the tensors are
    # written; config.json, which records them, goes in after the data.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        digests = {k: pool.submit(_sha256, arrays[k]) for k in order}
        with atomic_write(filepath) as f, zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            with zf.open(member(DATA_MEMBER, size), "w", force_zip64=size > 2**31 - 2**20) as out:
                out.write(header)
                for key in order:
                    out.write(arrays[key].view(np.uint8).reshape(-1))
            config["tensors"] = {
                k: {"dtype": a.dtype.name, "shape": list(a.shape), "sha256": digests[k].result()} for k, a in arrays.items()
            }
            config_bytes = json.dumps(config, indent=1, allow_nan=False).encode("utf-8")
            zf.writestr(member(CONFIG_MEMBER, len(config_bytes)), config_bytes)


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Save architecture, compile settings, weights and optimizer state to one ``.myelin`` file, atomically.

    ``model.save(filepath)`` calls this. The random generator's state is not saved (a model
    file is a model, not a training run: see :func:`save_checkpoint`).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> model = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
        >>> save_model(model, "model.myelin")  # doctest: +SKIP
    """
    _check_overwrite(filepath, overwrite)
    extra = {"model": serialize_layer(model)}
    extra["compile"] = model.get_compile_config() if model.compiled else None
    _write(filepath, "model", model, include_optimizer and model.compiled, extra)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Save only the weights (per layer, in order), atomically; ``model.save_weights`` calls this.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> model = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
        >>> save_weights(model, "model.weights.myelin")  # doctest: +SKIP
    """
    _check_overwrite(filepath, overwrite)
    _write(filepath, "weights", model, False, {})


def save_checkpoint(model, filepath, state: dict | None = None) -> None:
    """Save what resuming training needs: weights, optimizer state, and your JSON-able ``state`` dict.

    ``BackupAndRestore`` stores the epoch, the step and the random generator's state in
    ``state``. :func:`load_checkpoint` restores the weights and the optimizer and returns it.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> model = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
        >>> save_checkpoint(model, "run.ckpt.myelin", {"epoch": 3})  # doctest: +SKIP
    """
    _write(filepath, "checkpoint", model, True, {"state": _json_ready(state or {}, "the checkpoint state")})


def _check_overwrite(filepath, overwrite: bool) -> None:
    if not overwrite and os.path.exists(os.fspath(filepath)):
        raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite=False")


# ---------------------------------------------------------------------------- reading
def _short(value, n: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _check_member_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or "\\" in name or "\x00" in name or (len(name) > 1 and name[1] == ":"):
        raise ModelFileError(f"member name {name!r} is not allowed: absolute paths and '..' (path traversal) are refused")


def _read_members(path: str) -> dict[str, bytes]:
    import zipfile  # noqa: PLC0415

    limits = LIMITS
    with open(path, "rb") as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except Exception as err:  # zipfile raises several types on garbage
            raise ModelFileError(
                f"{path!r} is not a myelin file: it is not a zip archive, or a truncated one ({type(err).__name__}: {err})"
            ) from None
        with zf:
            infos = zf.infolist()
            seen = set()
            for info in infos:
                _check_member_name(info.filename)
                if info.filename in seen:
                    raise ModelFileError(f"member {info.filename!r} appears more than once")
                seen.add(info.filename)
            unexpected = sorted(seen - {CONFIG_MEMBER, DATA_MEMBER})
            if unexpected:
                raise ModelFileError(
                    f"unexpected member(s) {unexpected}: a myelin file holds only {CONFIG_MEMBER} and {DATA_MEMBER}"
                )
            for required in (CONFIG_MEMBER, DATA_MEMBER):
                if required not in seen:
                    raise ModelFileError(f"missing member {required!r}")
            total = 0
            out = {}
            for info in infos:
                limit = limits.max_config_bytes if info.filename == CONFIG_MEMBER else limits.max_data_bytes
                if info.flag_bits & 0x1:
                    raise ModelFileError(f"member {info.filename!r} is encrypted")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ModelFileError(
                        f"member {info.filename!r} uses compression method {info.compress_type}; only stored (0) and "
                        "deflated (8) members are read"
                    )
                if info.file_size > limit:
                    raise ModelFileError(
                        f"member {info.filename!r} declares {info.file_size:,} bytes, over the limit of {limit:,} "
                        "(myelin.saving.LIMITS)"
                    )
                total += info.file_size
                if total > limits.max_total_bytes:
                    raise ModelFileError(
                        f"the members declare {total:,} bytes in all, over the limit of {limits.max_total_bytes:,}"
                    )
                if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                    raise ModelFileError(
                        f"member {info.filename!r} is stored uncompressed but its sizes disagree "
                        f"({info.compress_size:,} stored, {info.file_size:,} declared)"
                    )
                if (
                    info.compress_type == zipfile.ZIP_DEFLATED
                    and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
                    and info.file_size > 4096
                ):
                    raise ModelFileError(
                        f"member {info.filename!r} would expand {info.file_size / max(info.compress_size, 1):,.0f} times "
                        f"(over the limit of {limits.max_compression_ratio:g}): a zip bomb?"
                    )
                try:
                    with zf.open(info) as member:
                        payload = member.read(info.file_size)
                except Exception as err:  # CRC errors, bad deflate streams, truncated local headers, ...
                    raise ModelFileError(
                        f"member {info.filename!r} is corrupt or truncated ({type(err).__name__}: {err})"
                    ) from None
                if len(payload) != info.file_size:
                    raise ModelFileError(
                        f"member {info.filename!r} is truncated: {len(payload):,} of {info.file_size:,} bytes"
                    )
                out[info.filename] = payload
    return out


def _require(mapping: dict, key: str, types, where: str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise ModelFileError(f"{where}: missing {key!r}")
    value = mapping[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = " or ".join(t.__name__ for t in _as_tuple(types))
        raise ModelFileError(f"{where}: {key!r} must be a {names}, got {_short(value)}")
    return value


def _as_tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _parse_config(raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(f"{CONFIG_MEMBER} is not UTF-8 text ({err})") from None
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ModelFileError(f"{CONFIG_MEMBER} is not valid JSON ({err})") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{CONFIG_MEMBER} must hold a JSON object, got {type(config).__name__}")
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{CONFIG_MEMBER}: 'format' is {_short(config.get('format'))}, expected {FORMAT!r}")
    version = _require(config, "format_version", int, CONFIG_MEMBER)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"the file has format version {version}, written by a newer myelin; this myelin "
            f"({_version_string()}) reads format versions 1 to {FORMAT_VERSION}: upgrade myelin"
        )
    if version < 1:
        raise ModelFileError(f"unknown format version {version}")
    kind = _require(config, "kind", str, CONFIG_MEMBER)
    if kind not in KINDS:
        raise ModelFileError(f"{CONFIG_MEMBER}: 'kind' is {kind!r}, expected one of {KINDS}")
    tensors = _require(config, "tensors", dict, CONFIG_MEMBER)
    for key, meta in tensors.items():
        where = f"{CONFIG_MEMBER}: tensor {key!r}"
        dtype = _require(meta, "dtype", str, where)
        if dtype not in _DTYPES:
            raise ModelFileError(f"{where}: dtype {dtype!r} is not one of {sorted(_DTYPES)}")
        shape = _require(meta, "shape", list, where)
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ModelFileError(f"{where}: shape must be a list of non-negative integers, got {_short(shape)}")
        digest = _require(meta, "sha256", str, where)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ModelFileError(f"{where}: sha256 must be 64 lowercase hex digits")
    groups = _require(config, "weights", list, CONFIG_MEMBER)
    claimed = set()
    for i, group in enumerate(groups):
        where = f"{CONFIG_MEMBER}: weights[{i}]"
        _require(group, "layer", str, where)
        _require(group, "class_name", str, where)
        for key in _require(group, "tensors", list, where):
            if not isinstance(key, str) or key not in tensors:
                raise ModelFileError(f"{where}: tensor {_short(key)} is not in the tensor table")
            if key in claimed:
                raise ModelFileError(f"{where}: tensor {key!r} is listed twice")
            claimed.add(key)
    return config


def _parse_data(raw: bytes, table: dict) -> dict[str, np.ndarray]:
    limits = LIMITS
    if len(raw) < 8:
        raise ModelFileError(f"{DATA_MEMBER} is truncated: {len(raw)} bytes, shorter than its 8-byte header length")
    n = int.from_bytes(raw[:8], "little")
    if n > limits.max_header_bytes:
        raise ModelFileError(f"{DATA_MEMBER}: its header declares {n:,} bytes, over the limit of {limits.max_header_bytes:,}")
    if 8 + n > len(raw):
        raise ModelFileError(f"{DATA_MEMBER} is truncated: its header needs {n:,} bytes, {len(raw) - 8:,} are there")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    except (ValueError, RecursionError) as err:
        raise ModelFileError(f"{DATA_MEMBER}: its header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{DATA_MEMBER}: its header must be a JSON object")
    names = set(header) - {"__metadata__"}
    missing, extra = sorted(set(table) - names), sorted(names - set(table))
    if missing or extra:
        raise ModelFileError(
            f"{DATA_MEMBER} and {CONFIG_MEMBER} disagree: "
            + "; ".join(
                part
                for part in (
                    f"tensor(s) {missing[:5]} are missing from the data" if missing else "",
                    f"tensor(s) {extra[:5]} are not described in the config" if extra else "",
                )
                if part
            )
        )
    for key in table:
        entry = header[key]
        expected_dtype, expected_shape = _DTYPES[table[key]["dtype"]], table[key]["shape"]
        if not isinstance(entry, dict) or entry.get("dtype") != expected_dtype:
            got = entry.get("dtype") if isinstance(entry, dict) else entry
            raise ModelFileError(f"tensor {key!r}: dtype mismatch: the data says {_short(got)}, the config {expected_dtype}")
        if entry.get("shape") != expected_shape:
            raise ModelFileError(
                f"tensor {key!r}: shape mismatch: the data says {_short(entry.get('shape'))}, the config {expected_shape}"
            )
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    # Checksums of the stored bytes are computed in threads while safetensors decodes them.
    start, view = 8 + n, memoryview(raw)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        digests = {}
        for key in table:
            offsets = header[key].get("data_offsets")
            if isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets):
                lo, hi = start + offsets[0], start + offsets[1]
                if start <= lo <= hi <= len(raw):
                    digests[key] = pool.submit(lambda b: hashlib.sha256(b).hexdigest(), view[lo:hi])
        try:
            arrays = _safetensors().load(raw)
        except ImportError:
            raise
        except Exception as err:  # the safetensors parser refuses bad offsets, overlaps, sizes
            raise ModelFileError(f"{DATA_MEMBER} is corrupt: {type(err).__name__}: {err}") from None
        digests = {k: d.result() for k, d in digests.items()}
    for key, arr in arrays.items():
        meta = table[key]
        if arr.dtype.name != meta["dtype"] or list(arr.shape) != meta["shape"]:
            raise ModelFileError(f"tensor {key!r}: {arr.dtype}{list(arr.shape)} does not match the config")
        digest = digests.get(key) or _sha256(arr)
        if digest != meta["sha256"]:
            raise ModelFileError(
                f"tensor {key!r}: checksum mismatch (SHA-256 {digest[:12]}... but the file records "
                f"{meta['sha256'][:12]}...): the data is corrupt"
            )
    return arrays


def read_file(filepath) -> tuple[dict, dict[str, np.ndarray]]:
    """Check a myelin file and return ``(config, tensors)``; :class:`ModelFileError` when it is malformed.

    Every check that needs only the file runs here: zip structure, members, sizes,
    JSON, format version, the tensor table, dtypes, shapes and SHA-256 checksums.

    Example:
        >>> config, tensors = read_file("model.myelin")  # doctest: +SKIP
        >>> config["kind"], sorted(tensors)[:2]  # doctest: +SKIP
        ('model', ['dense/bias', 'dense/kernel'])
    """
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path!r}")
    members = _read_members(path)
    config = _parse_config(members[CONFIG_MEMBER])
    arrays = _parse_data(members[DATA_MEMBER], config["tensors"])
    return config, arrays


def _plan_weights(model, config: dict, arrays: dict, error: type, skip_mismatch: bool = False) -> list:
    """Pairs (weight, array) matched by layer order and shape; nothing is written yet."""
    groups = config["weights"]
    model_groups = _weight_groups(model)
    if len(groups) != len(model_groups):
        raise error(
            f"the file holds weights for {len(groups)} layer(s) "
            f"({', '.join(repr(g['layer']) for g in groups[:8])}{', ...' if len(groups) > 8 else ''}) but model "
            f"{model.name!r} has {len(model_groups)} layer(s) with weights "
            f"({', '.join(repr(g[0]) for g in model_groups[:8])}{', ...' if len(model_groups) > 8 else ''})"
        )
    plan = []
    for i, ((name, cls, weights), group) in enumerate(zip(model_groups, groups)):
        stored = [arrays[k] for k in group["tensors"]]
        model_shapes = [tuple(w.shape) for w in weights]
        file_shapes = [tuple(a.shape) for a in stored]
        if model_shapes != file_shapes:
            message = (
                f"layer #{i} of the model, {name!r} ({cls}), has weights of shapes {model_shapes}, but layer #{i} "
                f"in the file, {group['layer']!r} ({group['class_name']}), has {file_shapes}"
            )
            if skip_mismatch:
                import warnings  # noqa: PLC0415

                warnings.warn(f"load_weights: skipping: {message}", UserWarning, stacklevel=4)
                continue
            raise error(message)
        plan.extend(zip(weights, stored))
    return plan


def _apply_weights(plan: list) -> None:
    for w, arr in plan:
        w.data[...] = backend.array_module(w.data).asarray(arr, dtype=w.dtype)


def _restore_optimizer(model, config: dict, arrays: dict, plan: list, error: type) -> None:
    state = config.get("optimizer_state")
    opt = getattr(model, "optimizer", None)
    if state is None or opt is None:
        return
    where = f"{CONFIG_MEMBER}: optimizer_state"
    iterations = _require(state, "iterations", int, where)
    order = _require(state, "variables", list, where)
    keys_in_order = [k for g in config["weights"] for k in g["tensors"]]
    by_key = {key: weight for key, (weight, _) in zip(keys_in_order, plan)}  # the plan follows the file's order
    variables = []
    for key in order:
        if not isinstance(key, str) or key not in by_key:
            raise error(f"{where}: variable {_short(key)} is not one of the model's weights")
        variables.append(by_key[key])
    if len({id(v) for v in variables}) != len(variables):
        raise error(f"{where}: a variable is listed twice")
    slot_arrays = {}
    for key, v in zip(order, variables):
        prefix = f"optimizer/{key}/"
        slot_arrays[id(v)] = {k[len(prefix) :]: a for k, a in arrays.items() if k.startswith(prefix)}
    opt.build(variables)
    try:
        for v in variables:
            opt.set_variable_state(v, slot_arrays[id(v)])
    except ValueError as err:
        opt.build(variables)  # back to a fresh state rather than a half-restored one
        raise error(f"the optimizer state in the file does not fit {type(opt).__name__}: {err}") from None
    opt._iterations = iterations
    scale = state.get("loss_scale")
    if scale is not None and callable(getattr(opt, "set_scale_state", None)):
        if not isinstance(scale, dict):
            raise error(f"{where}: loss_scale must be an object, got {type(scale).__name__}")
        try:
            opt.set_scale_state(scale)
        except ValueError as err:
            raise error(f"{where}: {err}") from None
    lr = state.get("learning_rate")
    valid = isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr >= 0
    if valid and getattr(opt, "learning_rate_schedule", True) is None:  # (a MultiOptimizer has no learning rate)
        opt.learning_rate = float(lr)
    excluded = state.get("exclude_from_weight_decay")
    if isinstance(excluded, dict):
        names, keys = excluded.get("var_names"), excluded.get("variables")
        names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        weights = [by_key[k] for k in keys if isinstance(k, str) and k in by_key] if isinstance(keys, list) else []
        opt.exclude_from_weight_decay(var_list=weights, var_names=names)


def load_model(filepath, custom_objects: dict | None = None, compile: bool = True):  # noqa: A002  (Keras's name)
    """Load a model saved with ``model.save``: architecture, weights, compile settings and optimizer state.

    The loaded model predicts exactly as the saved one, and continues training exactly as
    it would have (given the same random generator state). Names in the file resolve only
    through myelin's registries (and ``custom_objects``); nothing in the file can run code.
    A malformed file raises :class:`ModelFileError`. Loading does not move the library's
    random generator.

    Example:
        >>> model = load_model("classifier.myelin")  # doctest: +SKIP
        >>> model.predict(x_new)  # doctest: +SKIP
    """
    config, arrays = read_file(filepath)
    if config["kind"] != "model":
        raise ModelFileError(
            f"{os.fspath(filepath)!r} holds {config['kind']} only, not a model: build the model in code and "
            "call model.load_weights(path)"
        )
    architecture = _require(config, "model", dict, CONFIG_MEMBER)
    weight_keys = [k for g in config["weights"] for k in g["tensors"]]
    budget = sum(math.prod(config["tensors"][k]["shape"]) for k in weight_keys)
    rng_state = backend.rng_state()
    try:
        with custom_object_scope(custom_objects), layers_base.weights_from_file(budget):
            model = deserialize_layer(architecture)
    finally:
        backend.set_rng_state(rng_state)
    if not callable(getattr(model, "compile", None)) or not callable(getattr(model, "predict", None)):
        raise ModelFileError(f"the architecture is a {type(model).__name__} layer, not a model")
    if not model.built:
        raise ModelFileError(f"the model {model.name!r} in the file has no input shape to build it from")
    plan = _plan_weights(model, config, arrays, ModelFileError)
    compile_config = config.get("compile")
    if compile and compile_config is not None:
        with custom_object_scope(custom_objects):
            try:
                model.compile_from_config(compile_config)
            except ModelFileError:
                raise
            except Exception as err:  # constructors ran on values from the file
                raise ModelFileError(f"the compile settings cannot be restored: {type(err).__name__}: {err}") from None
        _restore_optimizer(model, config, arrays, plan, ModelFileError)
    _apply_weights(plan)
    return model


def load_weights(model, filepath, skip_mismatch: bool = False) -> None:
    """Load weights into ``model``, matched by layer order and shape (any myelin file holds weights).

    Layers with weights are matched in ``model.layers`` order; every weight must have the
    shape the file records, or a ``ValueError`` names the layer, both shapes and the file's
    layer. With ``skip_mismatch=True``, layers whose shapes differ are skipped with a warning.
    The model's weights change only when every check has passed.

    Example:
        >>> model.load_weights("model.weights.myelin")  # doctest: +SKIP
    """
    config, arrays = read_file(filepath)
    if not model.built:
        raise ValueError(
            f"model {model.name!r} has no weights yet: build it first (give it an Input or call "
            "model.build(input_shape)) so that load_weights can match the file's shapes"
        )
    _apply_weights(_plan_weights(model, config, arrays, ValueError, skip_mismatch))


def load_checkpoint(model, filepath) -> dict:
    """Restore weights and optimizer state saved by :func:`save_checkpoint`; returns its ``state`` dict.

    The model must be compiled with the same optimizer class; its weights are matched as
    in :func:`load_weights`.

    Example:
        >>> state = load_checkpoint(model, "run.ckpt.myelin")  # doctest: +SKIP
        >>> state["epoch"]  # doctest: +SKIP
        3
    """
    config, arrays = read_file(filepath)
    if config["kind"] != "checkpoint":
        raise ModelFileError(f"{os.fspath(filepath)!r} holds a {config['kind']}, not a training checkpoint")
    state = _require(config, "state", dict, CONFIG_MEMBER)
    if not model.built:
        raise ValueError(f"model {model.name!r} has no weights yet: build it before restoring a checkpoint")
    plan = _plan_weights(model, config, arrays, ValueError)
    if model.optimizer is None and config.get("optimizer_state") is not None:
        raise ValueError(f"model {model.name!r} is not compiled: compile it before restoring a checkpoint")
    _restore_optimizer(model, config, arrays, plan, ValueError)
    _apply_weights(plan)
    return state


__all__ = [
    "FORMAT_VERSION",
    "LIMITS",
    "CustomObjectScope",
    "Limits",
    "ModelFileError",
    "atomic_write",
    "clean_temp_files",
    "custom_object_scope",
    "deserialize_layer",
    "deserialize_object",
    "load_checkpoint",
    "load_model",
    "load_weights",
    "read_file",
    "register_serializable",
    "save_checkpoint",
    "save_model",
    "save_weights",
    "serialize_layer",
    "serialize_object",
]


# Keras's names for the serialization API (myelin/serialization.py), loaded on first use.
_KERAS_API = (
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
)


def __getattr__(name: str):
    if name in _KERAS_API:
        from . import serialization  # noqa: PLC0415  (it imports this module)

        return getattr(serialization, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
