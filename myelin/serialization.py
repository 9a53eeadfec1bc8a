"""Keras's object-serialization API (``keras.saving``'s and ``keras.utils``'s names).

``register_keras_serializable`` registers a class or function by ``"package>name"`` (it is
:func:`myelin.saving.register_serializable`); ``get_custom_objects`` is the global dict of
custom objects that loading consults (add entries to it, as in Keras);
``CustomObjectScope`` / ``custom_object_scope`` add objects for a ``with`` block;
``serialize_keras_object`` / ``deserialize_keras_object`` turn any registered object into
Keras's ``{"module", "class_name", "config", "registered_name"}`` dict and back, resolving
names only through myelin's registries and the custom objects (never importing a module named
in the dict); ``get_registered_name`` / ``get_registered_object`` look names up.

Example:
    >>> import myelin
    >>> spec = serialize_keras_object(myelin.losses.Huber(delta=2.0))
    >>> spec["class_name"], spec["config"]["delta"]
    ('Huber', 2.0)
    >>> deserialize_keras_object(spec).delta
    2.0
"""

from __future__ import annotations

from . import activations, constraints, initializers, losses, metrics, regularizers, saving
from .layers import base as layers_base
from .optimizers import REGISTRY as OPTIMIZERS
from .optimizers import Optimizer, schedules
from .saving import CustomObjectScope, custom_object_scope, register_serializable


def _registries() -> list:
    """Every family's registry, in the order a bare name is looked up."""
    return [
        layers_base.REGISTRY,
        losses.REGISTRY,
        metrics.REGISTRY,
        OPTIMIZERS,
        schedules.REGISTRY,
        initializers.REGISTRY,
        regularizers.REGISTRY,
        constraints.REGISTRY,
        activations.REGISTRY,
    ]


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Keras's decorator: register a class or function as ``"package>name"`` so that files can name it.

    Example:
        >>> @register_keras_serializable(package="Docs")
        ... def cube(x):
        ...     return x * x * x
        >>> get_registered_name(cube), get_registered_object("Docs>cube") is cube
        ('Docs>cube', True)
    """
    return register_serializable(package, name)


def get_custom_objects() -> dict:
    """The global dict of custom objects (``"package>name"`` -> object); loading consults it.

    Every ``register_keras_serializable`` adds its object here; entries you add yourself are
    found by name when a file or a config is read.

    Example:
        >>> get_custom_objects()["Docs>twice"] = lambda x: 2 * x
        >>> get_registered_object("Docs>twice")(3)
        6
        >>> del get_custom_objects()["Docs>twice"]
    """
    return saving._GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under: ``"package>name"`` for a custom object, else its ``__name__``.

    Example:
        >>> import myelin
        >>> get_registered_name(myelin.losses.Huber)
        'Huber'
    """
    for name, value in saving._GLOBAL_CUSTOM_OBJECTS.items():
        if value is obj:
            return name
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict | None = None, module_objects: dict | None = None):
    """The object registered as ``name``: the active scopes, the global custom objects, then
    ``custom_objects`` and ``module_objects``; None when none has it (as Keras).

    Example:
        >>> get_registered_object("nothing_by_this_name") is None
        True
    """
    for scope in reversed(saving._CUSTOM_OBJECTS):
        if name in scope:
            return scope[name]
    for table in (custom_objects, module_objects):
        if table and name in table:
            return table[name]
    return None


def _family_of(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    bases = [
        (layers_base.Layer, layers_base.REGISTRY),
        (losses.Loss, losses.REGISTRY),
        (metrics.Metric, metrics.REGISTRY),
        (Optimizer, OPTIMIZERS),
        (schedules.LearningRateSchedule, schedules.REGISTRY),
        (initializers.Initializer, initializers.REGISTRY),
        (regularizers.Regularizer, regularizers.REGISTRY),
        (constraints.Constraint, constraints.REGISTRY),
    ]
    return next((reg for base, reg in bases if issubclass(cls, base)), None)


def serialize_keras_object(obj):
    """Keras's serialized form of ``obj``: plain values and lists as they are, a registered
    function as ``{"class_name": "function", "config": name}``, an instance of a registered
    class as ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> import myelin
        >>> serialize_keras_object(myelin.activations.relu)["config"]
        'relu'
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, type):
        registry = _family_of(obj)
        name = registry.name_of(obj) if registry is not None else None
        if name is None:
            raise ValueError(f"serialize_keras_object: the class {obj.__name__} is not registered")
        return name
    registry = _family_of(obj)
    if registry is not None:
        name = registry.name_of(type(obj))
        if name is None:
            raise ValueError(
                f"serialize_keras_object: {type(obj).__name__} is not registered: decorate it with "
                "@myelin.saving.register_keras_serializable()"
            )
        config = obj.get_config()
        custom = ">" in name
        return {
            "module": None if custom else type(obj).__module__,
            "class_name": name,
            "config": serialize_keras_object(config),
            "registered_name": name if custom else None,
        }
    if callable(obj):
        for registry in _registries():
            name = registry.name_of(obj)
            if name is not None:
                return {
                    "module": getattr(obj, "__module__", None),
                    "class_name": "function",
                    "config": name,
                    "registered_name": "function",
                }
        raise ValueError(
            f"serialize_keras_object: the function {getattr(obj, '__name__', obj)!r} is not registered: decorate it with "
            "@myelin.saving.register_keras_serializable()"
        )
    raise TypeError(f"serialize_keras_object: cannot serialize {type(obj).__name__} {obj!r}")


def _resolve(name: str, custom_objects: dict | None):
    found = get_registered_object(name, custom_objects)
    if found is not None:
        return found
    for registry in _registries():
        if name in registry:
            return registry.lookup(name)
    raise ValueError(f"deserialize_keras_object: unknown object {name!r}: register it or pass it in custom_objects")


def deserialize_keras_object(config, custom_objects: dict | None = None, safe_mode: bool = True, **kwargs):
    """Rebuild what :func:`serialize_keras_object` (or Keras) wrote: a name gives the registered
    object, a dict gives a new instance from its config. Only registered and custom objects can
    be named: ``safe_mode=False`` (Keras's switch for lambdas) is refused.

    Example:
        >>> deserialize_keras_object({"class_name": "L2", "config": {"l2": 0.5}}).l2
        0.5
        >>> deserialize_keras_object("relu").__name__
        'relu'
    """
    if not safe_mode:
        raise ValueError(
            "deserialize_keras_object: safe_mode=False is not supported: myelin never runs code named in a config"
        )
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected argument(s) {', '.join(sorted(kwargs))}")
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        return _resolve(config, custom_objects)
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects) for c in config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize_keras_object: expected a name or a dict with 'class_name', got {config!r}")
    if config["class_name"] == "function":
        return _resolve(config["config"], custom_objects)
    cls = _resolve(config.get("registered_name") or config["class_name"], custom_objects)
    args = config.get("config") or {}
    if not isinstance(args, dict):
        raise ValueError(f"deserialize_keras_object: the config of {config['class_name']!r} must be a dict, got {args!r}")
    with custom_object_scope(custom_objects):
        return cls.from_config(dict(args)) if hasattr(cls, "from_config") else cls(**args)


def deserialize_in(registry, config, custom_objects: dict | None = None, instantiate_names: bool = False):
    """Like :func:`deserialize_keras_object`, with names looked up in one family's ``registry`` only
    (what ``losses.deserialize``, ``metrics.deserialize`` ... do). ``instantiate_names``: a name
    of a class gives an instance with its defaults (optimizers, regularizers), else the object.

    Example:
        >>> from myelin import losses
        >>> deserialize_in(losses.REGISTRY, "mse") is losses.mean_squared_error
        True
    """
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects) or registry.lookup(config)
        return found() if instantiate_names and isinstance(found, type) else found
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"deserialize: expected a name or a dict with 'class_name', got {config!r}")
    if config["class_name"] == "function":
        return deserialize_in(registry, config["config"], custom_objects)
    name = config.get("registered_name") or config["class_name"]
    cls = get_registered_object(name, custom_objects) or registry.lookup(name)
    args = config.get("config") or {}
    if not isinstance(args, dict):
        raise ValueError(f"deserialize: the config of {name!r} must be a dict, got {args!r}")
    with custom_object_scope(custom_objects):
        return cls.from_config(dict(args)) if hasattr(cls, "from_config") else cls(**args)


__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "serialize_keras_object",
]
