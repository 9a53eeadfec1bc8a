"""``clone_model``: the same architecture with fresh weights (Keras's ``keras.models.clone_model``).

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
    >>> clone_model(m).count_params()
    9
"""

from __future__ import annotations

from .model import Model
from .sequential import Sequential


def clone_model(model: Model) -> Model:
    """A new model with the same architecture and freshly initialised weights.

    Sequential models get fresh layer names; functional models keep theirs (the graph is
    described by them). The clone is rebuilt from ``get_config`` as a saved file would be.

    Example:
        >>> from myelin import layers
        >>> m = Sequential([layers.Input(shape=(2,)), layers.Dense(3)])
        >>> clone_model(m).count_params()
        9
    """
    if isinstance(model, Sequential):
        entries = []
        for entry in model.get_config()["layers"]:
            config = dict(entry["config"])
            config.pop("name", None)
            entries.append({**entry, "config": config})
        return Sequential.from_config({"layers": entries})
    if model._functional:
        return type(model).from_config(model.get_config())
    raise TypeError(
        "clone_model: a subclassed model is rebuilt by its own code: call its constructor again "
        "(or register it and use myelin.saving)"
    )
