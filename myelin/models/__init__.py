"""``Model`` and ``Sequential`` (Keras 3's ``keras.models``): the model and its graph.

``model``: ``Model`` (functional and subclassed); ``functional``: a functional graph's
building, running and config; ``sequential``: ``Sequential``; ``cloning``: ``clone_model``;
``summary_utils``: ``summary()``'s table. The training loop is in :mod:`myelin.trainers`.

Three ways to make a model, as in Keras:

Example:
    >>> import myelin
    >>> from myelin import layers
    >>> seq = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    >>> x = layers.Input(shape=(4,))
    >>> functional = myelin.Model(x, layers.Dense(3)(x))
    >>> class Subclassed(myelin.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = layers.Dense(8, activation="relu")
    ...         self.out = layers.Dense(3)
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
"""

from .cloning import clone_model
from .model import Model, load_model
from .sequential import Sequential


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Keras's ``keras.models.save_model``: ``model.save(filepath)`` (see ``myelin.saving.save_model``).

    Example:
        >>> save_model(model, "model.myelin")  # doctest: +SKIP
    """
    from .. import saving  # noqa: PLC0415

    saving.save_model(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer)


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A new, untrained model from ``Model.to_json()``'s string (or Keras's ``{"class_name", "config"}`` JSON).

    Names resolve only through myelin's registries and ``custom_objects``.

    Example:
        >>> import myelin
        >>> m = myelin.Sequential([myelin.Input(shape=(3,)), myelin.layers.Dense(2)])
        >>> model_from_json(m.to_json()).output_shape
        (None, 2)
    """
    import json  # noqa: PLC0415

    from .. import saving  # noqa: PLC0415

    try:
        entry = json.loads(json_string)
    except (TypeError, ValueError) as err:
        raise ValueError(f"model_from_json: not a JSON string: {err}") from None
    with saving.custom_object_scope(custom_objects):
        return saving.deserialize_layer(entry)


__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
