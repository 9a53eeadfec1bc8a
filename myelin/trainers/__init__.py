"""The training half of ``myelin.Model``: the loops, the step, the compiled loss and metrics, the data.

``trainer``: ``Trainer`` with ``compile``, ``fit``, ``evaluate``, ``predict`` and the recorded
steps; ``compile_utils``: the compiled loss and metrics; ``data_adapters``: each kind of input.
Nothing here imports :mod:`myelin.models`: the models depend on the trainer, not the reverse.
"""

from .trainer import INFERENCE_BATCH, Trainer  # noqa: F401
