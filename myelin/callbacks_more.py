"""Two more of Keras's callbacks: ``SwapEMAWeights`` and ``RemoteMonitor`` (``myelin.callbacks`` names them).

Example:
    >>> import myelin
    >>> opt = myelin.optimizers.Adam(use_ema=True)
    >>> cb = SwapEMAWeights(swap_on_epoch=True)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .callback_base import Callback


def _swap_with_ema(optimizer) -> None:
    """Exchange the optimizer's variables with their moving averages, in place."""
    for group in optimizer._groups or ():
        ema = group.state["ema"]
        held = group.params.copy()
        group.params[...] = ema
        ema[...] = held


class SwapEMAWeights(Callback):
    """Evaluate and predict with the optimizer's moving averages of the weights (``use_ema=True``).

    The model's weights are exchanged with their averages when evaluation (validation
    included) or prediction begins, and back when it ends. With ``swap_on_epoch=True`` they
    are exchanged at the end of every epoch as well, so that callbacks after this one (a
    ``ModelCheckpoint``) see the averages, and back at the next epoch's start; put it before
    them in the list.

    Example:
        >>> import numpy as np, myelin
        >>> model = myelin.Sequential([myelin.Input(shape=(2,)), myelin.layers.Dense(1)])
        >>> model.compile(optimizer=myelin.optimizers.SGD(0.1, use_ema=True), loss="mse")
        >>> x, y = np.ones((8, 2), np.float32), np.ones((8, 1), np.float32)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[SwapEMAWeights()], validation_data=(x, y))
    """

    def __init__(self, swap_on_epoch: bool = False):
        super().__init__()
        self.swap_on_epoch = bool(swap_on_epoch)
        self._ema_weights_in_model = False

    def _optimizer(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not getattr(optimizer, "use_ema", False):
            raise ValueError(
                "SwapEMAWeights must be used with an optimizer that has use_ema=True; received "
                f"use_ema={getattr(optimizer, 'use_ema', None)}"
            )
        return optimizer

    def _swap(self, into_model: bool) -> None:
        if self._ema_weights_in_model == into_model:
            return
        optimizer = self._optimizer()
        if optimizer.built:
            _swap_with_ema(optimizer)
            self._ema_weights_in_model = into_model

    def on_train_begin(self, logs=None):
        self._optimizer()

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(into_model=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap(into_model=True)
            if epoch == self.params.get("epochs", 0) - 1 and self._ema_weights_in_model:
                # fit ends by copying the averages into the variables: they are there already
                for group in self.model.optimizer._groups:
                    group.state["ema"][...] = group.params

    def on_test_begin(self, logs=None):
        self._swap(into_model=True)

    def on_test_end(self, logs=None):
        self._swap(into_model=False)

    def on_predict_begin(self, logs=None):
        self._swap(into_model=True)

    def on_predict_end(self, logs=None):
        self._swap(into_model=False)


_TIMEOUT_S = 10.0  # a server that does not answer within this delays training no longer


class RemoteMonitor(Callback):
    """POST each epoch's logs to a server: ``root + path``, as a form field ``field`` holding JSON, or
    as a JSON body (``send_as_json=True``); ``headers`` are added. An unreachable server (or one
    silent for 10 s) warns and training goes on. Sent with the standard library (no ``requests``).

    Example:
        >>> monitor = RemoteMonitor(root="http://127.0.0.1:9000", send_as_json=True)
    """

    def __init__(
        self,
        root: str = "http://localhost:9000",
        path: str = "/publish/epoch/end/",
        field: str = "data",
        headers: dict | None = None,
        send_as_json: bool = False,
    ):
        super().__init__()
        if urllib.parse.urlsplit(str(root)).scheme not in ("http", "https"):
            raise ValueError(f"RemoteMonitor: root must be an http:// or https:// URL, got {root!r}")
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json = headers, bool(send_as_json)

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        url = self.root + self.path
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310  (http(s) only)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310  (the user's URL)
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as err:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}: {err}", stacklevel=2)
