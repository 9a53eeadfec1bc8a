"""Level 0: name registries, the only way a string becomes a function or class.

Each family (activations, losses, metrics, layers, ...) keeps one ``Registry``. Resolving a
name never evaluates code and never imports a module named by the caller: a name that is not
registered is an error that lists the names that are. Saved model files rely on this for
their safety. The one import a lookup may trigger is of a module of myelin's own that the
library declared in its code with :meth:`Registry.add_lazy` (so that ``import myelin`` need
not load it).

Example:
    >>> reg = Registry("activation")
    >>> reg.add("double", lambda x: 2 * x)
    >>> reg.lookup("double")(3)
    6
"""

from __future__ import annotations

import difflib
import importlib


class Registry:
    """A case-sensitive map from Keras-style names to objects, with aliases.

    Example:
        >>> reg = Registry("loss")
        >>> reg.add("mse", object, aliases=("MSE",))
        >>> reg.lookup("MSE") is object
        True
    """

    def __init__(self, family: str):
        self.family = family
        self._items: dict[str, object] = {}
        self._names: dict[int, str] = {}
        self._lazy: dict[str, str] = {}  # name -> module of myelin's own that registers it when imported

    def add(self, name: str, obj, aliases: tuple = ()) -> None:
        self._items[name] = obj
        self._names.setdefault(id(obj), name)
        for alias in aliases:
            self._items[alias] = obj

    def add_lazy(self, name: str, module: str) -> None:
        """Declare that importing myelin's own ``module`` registers ``name`` (imported on first lookup).

        Example:
            >>> reg = Registry("layer")
            >>> reg.add_lazy("Decimal", "decimal")  # a module that registers nothing: the lookup still fails
            >>> "Decimal" in reg
            True
        """
        self._lazy[name] = module

    def register(self, name: str | None = None, aliases: tuple = ()):
        """Decorator form of :meth:`add`; the default name is the object's ``__name__``."""

        def wrap(obj):
            self.add(name or obj.__name__, obj, aliases)
            return obj

        return wrap

    def __contains__(self, name) -> bool:
        return name in self._items or name in self._lazy

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self._lazy))

    def lookup(self, name: str):
        """The object registered as ``name``; a ValueError naming close matches otherwise."""
        try:
            return self._items[name]
        except (KeyError, TypeError):
            pass
        module = self._lazy.get(name) if isinstance(name, str) else None
        if module is not None:
            importlib.import_module(module)  # a module of myelin's own, declared in code
            if name in self._items:
                return self._items[name]
        close = difflib.get_close_matches(str(name), self._items, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"Unknown {self.family} {name!r}.{hint} Known {self.family} names: {', '.join(self.names())}")

    def deserialize(self, config: dict):
        """Build an object from a Keras-style config ``{"class_name": name, "config": {arguments}}``.

        The class comes only from this registry, and its arguments only from ``config``: a
        config (for instance one read from a saved file) can name nothing else.

        Example:
            >>> reg = Registry("thing")
            >>> reg.add("Pair", lambda a, b: (a, b))
            >>> reg.deserialize({"class_name": "Pair", "config": {"a": 1, "b": 2}})
            (1, 2)
        """
        if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
            raise ValueError(f"{self.family} config must be a dict with a 'class_name' string, got {config!r}")
        args = config.get("config")
        args = {} if args is None else args
        if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
            raise ValueError(f"{self.family} {config['class_name']!r}: 'config' must be a dict of arguments, got {args!r}")
        return self.lookup(config["class_name"])(**args)

    def name_of(self, obj) -> str | None:
        """The canonical name under which ``obj`` was registered, or None."""
        return self._names.get(id(obj))
