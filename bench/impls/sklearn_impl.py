"""scikit-learn's ``MLPClassifier``: one ``partial_fit`` per epoch (Adam, shuffled mini-batches), then validation."""

from __future__ import annotations

import time

import numpy as np
import sklearn
from sklearn.neural_network import MLPClassifier


def configure(threads: int) -> None:
    if not threads:  # 0: the BLAS's own default
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:  # OPENBLAS_NUM_THREADS from the environment already applies
        pass


def versions() -> dict:
    return {"scikit-learn": sklearn.__version__, "numpy": np.__version__}


class Trainer:
    """No L2 penalty (``alpha=0``), so it trains the same objective as the others; float32 data stays float32."""

    def __init__(self, sizes, lr: float, seed: int):
        self.model = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]),
            activation="relu",
            solver="adam",
            alpha=0.0,
            learning_rate_init=lr,
            shuffle=True,
            random_state=seed,
        )
        self.classes = np.arange(sizes[-1])
        self.started = False

    def fit(self, data, batch: int, epochs: int):
        self.model.set_params(batch_size=batch)
        x_train, y_train = data.x_train, data.y_train
        seconds, logs = [], {}
        for _ in range(epochs):
            start = time.perf_counter()
            if self.started:
                self.model.partial_fit(x_train, y_train)
            else:
                self.model.partial_fit(x_train, y_train, classes=self.classes)
                self.started = True
            logs = {"loss": float(self.model.loss_)}
            if len(data.y_val):
                p = self.model.predict_proba(data.x_val)  # sklearn predicts the whole set at once
                picked = p[np.arange(len(data.y_val)), data.y_val]
                logs["val_loss"] = float(-np.log(np.maximum(picked, 1e-7)).mean())
                logs["val_accuracy"] = float((p.argmax(1) == data.y_val).mean())
            seconds.append(time.perf_counter() - start)
        return seconds, logs

    def predict(self, x, batch: int):
        return self.model.predict_proba(x)


def make(variant: str, sizes, lr: float, seed: int) -> Trainer:
    return Trainer(sizes, lr, seed)
