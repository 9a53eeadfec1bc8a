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

__all__ = ["Model", "Sequential", "clone_model", "load_model"]
