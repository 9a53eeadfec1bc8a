"""Level 6: plots with matplotlib (``pip install 'myelin[plot]'``), imported only when drawing.

- :func:`history`: loss and each metric against epochs, training and validation together.
- :func:`model`: the network as circles and weighted lines when it is small enough to see,
  a block diagram of its layers and shapes otherwise.
- :func:`confusion_matrix`: counts (or fractions) of true against predicted classes.
- :func:`explain`: one sample's way through the network, neurons coloured by activation,
  and the probability of each class (``model.explain`` as a figure).
- :func:`diagnostics`: what ``fit(..., diagnostics=True)`` recorded, per layer and epoch.
- :func:`lr_finder`: the learning-rate range test's curve and its suggestion.
- :func:`feature_maps`, :func:`attention`, :func:`hidden_states`: inside convolutional and
  sequence networks: each conv/pooling layer's maps (strongest channels first), each
  attention layer's scores per head, each recurrent layer's hidden state over time.

Each returns the matplotlib ``Figure`` and, given ``path=``, saves it as PNG, SVG or PDF
(from the suffix). The drawing of a network, :func:`myelin.plot.network.draw_network`,
works on any ``Axes`` and can colour neurons by values.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> fig = myelin.plot.history(model.fit(x, y, validation_split=0.2, epochs=20), path="history.png")  # doctest: +SKIP
"""

from __future__ import annotations

from .architecture import model
from .diagnosis import diagnostics
from .evaluation import confusion_matrix
from .explanation import explain
from .maps import attention, feature_maps, hidden_states
from .training import history
from .tuning import lr_finder

__all__ = [
    "attention",
    "confusion_matrix",
    "diagnostics",
    "explain",
    "feature_maps",
    "hidden_states",
    "history",
    "lr_finder",
    "model",
]
