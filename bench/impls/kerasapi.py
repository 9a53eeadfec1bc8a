"""The seed program's code for any library with Keras's API (myelin and Keras itself run the same lines)."""

from __future__ import annotations

import time
from types import SimpleNamespace


def epoch_timer(callback_base: type):
    """A callback class timing each epoch from ``on_epoch_begin`` to ``on_epoch_end`` (validation included).

    Timing inside ``fit`` leaves out what ``fit`` does once per call (Keras builds its tf.data
    pipeline there), which a 10-epoch program pays once.
    """

    class EpochTimer(callback_base):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self.final_logs: dict = {}
            self._start = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)
            self.final_logs = {k: float(v) for k, v in (logs or {}).items()}

    return EpochTimer


class Trainer:
    """A Sequential of Dense layers (relu, then softmax), Adam, categorical cross-entropy with accuracy.

    ``lib`` carries the library's ``layers``, ``models``, ``optimizers``, ``to_categorical``,
    ``set_random_seed`` and ``Callback``.
    """

    def __init__(self, lib: SimpleNamespace, sizes, lr: float, seed: int):
        self.lib = lib
        lib.set_random_seed(seed)
        stack = [lib.layers.Input(shape=(sizes[0],))]
        stack += [lib.layers.Dense(n, activation="relu") for n in sizes[1:-1]]
        stack.append(lib.layers.Dense(sizes[-1], activation="softmax"))
        self.model = lib.models.Sequential(stack)
        self.model.compile(
            optimizer=lib.optimizers.Adam(learning_rate=lr), loss="categorical_crossentropy", metrics=["accuracy"]
        )
        self._timer = epoch_timer(lib.Callback)
        self._onehot: tuple = (None, None)

    def _y(self, data):
        if self._onehot[0] is not data:  # the seed program one-hot encodes once, before fit
            self._onehot = (data, self.lib.to_categorical(data.y, data.classes).astype("float32"))
        return self._onehot[1]

    def fit(self, data, batch: int, epochs: int):
        y = self._y(data)
        timer = self._timer()
        common = {"batch_size": batch, "epochs": epochs, "verbose": 0, "callbacks": [timer]}
        if data.validation_split:  # the seed program: the last 20 % of the arrays validate
            self.model.fit(data.x, y, validation_split=data.validation_split, **common)
        elif len(data.x) == data.n_train:  # no validation samples
            self.model.fit(data.x, y, **common)
        else:
            n = data.n_train
            self.model.fit(data.x[:n], y[:n], validation_data=(data.x[n:], y[n:]), **common)
        return timer.seconds, timer.final_logs

    def predict(self, x, batch: int):
        return self.model.predict(x, batch_size=batch, verbose=0)
