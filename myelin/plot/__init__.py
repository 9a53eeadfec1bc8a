"""Level 6: plots with matplotlib (``pip install 'myelin[plot]'``), imported only when drawing.

- :func:`history`: loss and each metric against epochs, training and validation together.
- :func:`model`: the network as circles and weighted lines when it is small enough to see,
  a block diagram of its layers and shapes otherwise.
- :func:`confusion_matrix`: counts (or fractions) of true against predicted classes.

Each returns the matplotlib ``Figure`` and, given ``path=``, saves it as PNG, SVG or PDF
(from the suffix). The drawing of a network, :func:`myelin.plot.network.draw_network`,
works on any ``Axes`` and can colour neurons by values.

Example:
    >>> import myelin.plot  # doctest: +SKIP
    >>> fig = myelin.plot.history(model.fit(x, y, validation_split=0.2, epochs=20), path="history.png")  # doctest: +SKIP
"""

from __future__ import annotations

from .architecture import model
from .evaluation import confusion_matrix
from .training import history

__all__ = ["confusion_matrix", "history", "model"]
