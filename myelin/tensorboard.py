"""Level 4: the ``TensorBoard`` callback (``myelin.callbacks.TensorBoard``).

Writes TensorBoard event files through ``tensorboardX`` (``pip install 'myelin[tensorboard]'``),
in Keras's layout, so ``tensorboard --logdir logs`` shows them as it shows a Keras run:

- ``<log_dir>/train``: ``epoch_loss``, ``epoch_<metric>``, ``epoch_learning_rate`` each epoch;
  with ``update_freq="batch"`` (or every N batches) also ``batch_loss`` and
  ``batch_<metric>`` against the global batch number; weight histograms
  (``<layer>/<weight>/histogram``) every ``histogram_freq`` epochs.
- ``<log_dir>/validation``: ``epoch_loss`` and ``epoch_<metric>`` from the ``val_`` logs.

Example:
    >>> from myelin.callbacks import TensorBoard
    >>> cb = TensorBoard(log_dir="logs/run1", histogram_freq=1, update_freq="epoch")
    >>> model.fit(x, y, epochs=10, validation_split=0.2, callbacks=[cb])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings

import numpy as np

from .callback_base import Callback
from .distribution.data_parallel import is_chief


class _NoWriter:
    """A writer that writes nothing (processes other than 0 of a data-parallel run)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _writer_class():
    try:
        from tensorboardX import SummaryWriter  # noqa: PLC0415  (optional extra, imported when training starts)
    except ModuleNotFoundError:
        raise ModuleNotFoundError("the TensorBoard callback needs tensorboardX: pip install 'myelin[tensorboard]'") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Log scalars, weight histograms (and the model graph) for TensorBoard.

    Arguments (Keras's):
        log_dir: folder of the run; ``train/`` and ``validation/`` are written inside it.
        histogram_freq: every this many epochs, a histogram of every weight (0: never).
        write_graph: write the model's graph for TensorBoard's Graphs tab. myelin writes it
            from the model's ONNX export (needs the ``onnx`` package); a model that cannot
            be exported, or a missing ``onnx``, gives a warning and no graph.
        write_images: with histograms, also write every 2-D weight (a Dense kernel) as a
            grayscale image, scaled to its own minimum and maximum.
        write_steps_per_second: log ``epoch_steps_per_second`` (training batches per second).
        update_freq: ``"epoch"`` (scalars once per epoch), ``"batch"`` (also after every
            batch) or an integer N (also after every N batches).
        profile_batch, embeddings_freq, embeddings_metadata: TensorFlow's profiler and
            embedding projector have no counterpart in myelin; they must keep their
            "off" values (0, 0, None).

    Example:
        >>> cb = TensorBoard(log_dir="logs", update_freq=10)
        >>> cb.update_freq
        10
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq: int = 0,
        embeddings_metadata=None,
    ):
        super().__init__()
        if not isinstance(histogram_freq, int) or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an integer >= 0, got {histogram_freq!r}")
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer, got {update_freq!r}")
        if profile_batch not in (0, None, (0, 0)):
            raise ValueError("TensorBoard: profile_batch needs TensorFlow's profiler, which myelin does not have; leave it 0")
        if embeddings_freq or embeddings_metadata is not None:
            raise ValueError("TensorBoard: myelin has no embedding layers to project; leave embeddings_freq=0")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph, self.write_images = histogram_freq, bool(write_graph), bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers: dict = {}
        self._global_batch = 0

    # -- writers
    def _writer(self, which: str):
        if which not in self._writers:
            if is_chief():
                self._writers[which] = _writer_class()(logdir=os.path.join(self.log_dir, which), flush_secs=10)
            else:  # data-parallel: process 0 writes the (reduced) logs
                self._writers[which] = _NoWriter()
        return self._writers[which]

    def _scalars(self, which: str, prefix: str, logs: dict, step: int) -> None:
        writer = self._writer(which)
        for name, value in logs.items():
            if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
                writer.add_scalar(f"{prefix}_{name}", float(value), step)

    # -- hooks
    def on_train_begin(self, logs=None):
        self._global_batch = 0
        self._writer("train")
        if self.write_graph:
            self._write_graph()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._epoch_batches = time.perf_counter(), 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_batch += 1
        self._epoch_batches += 1
        if self.update_freq != "epoch" and self._global_batch % self.update_freq == 0:
            self._scalars("train", "batch", logs or {}, self._global_batch)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if "learning_rate" not in train and optimizer is not None:
            train["learning_rate"] = optimizer.learning_rate
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            train["steps_per_second"] = self._epoch_batches / elapsed if elapsed > 0 else 0.0
        self._scalars("train", "epoch", train, epoch)
        if val:
            self._scalars("validation", "epoch", val, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- content
    def _histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        for w in self.model.weights:
            values = np.asarray(w.numpy(), dtype=np.float64)
            name = (w.name or "weight").replace(":", "_")
            writer.add_histogram(f"{name}/histogram", values, epoch)
            if self.write_images and values.ndim == 2:
                lo, hi = values.min(), values.max()
                image = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
                writer.add_image(f"{name}/image", image, epoch, dataformats="HW")

    def _write_graph(self) -> None:
        try:
            from . import onnx as myelin_onnx  # noqa: PLC0415  (level 6, only for the graph)

            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "model.onnx")
                myelin_onnx.export(self.model, path)
                self._writer("train").add_onnx_graph(path)
        except (ModuleNotFoundError, ValueError, TypeError) as err:
            warnings.warn(f"TensorBoard: no graph written ({err}); pass write_graph=False to silence this", stacklevel=2)


__all__ = ["TensorBoard"]
