"""SwapEMAWeights (against evaluating the optimizer's averages by hand) and RemoteMonitor
(against an http.server on 127.0.0.1)."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.parse
from typing import ClassVar

import numpy as np
import pytest

import myelin
from myelin import callbacks, layers

RNG = np.random.default_rng(4)
X = RNG.normal(size=(64, 3)).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)


def _model(use_ema=True):
    myelin.utils.set_random_seed(1)
    model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=myelin.optimizers.SGD(0.05, use_ema=use_ema, ema_momentum=0.9), loss="mse")
    return model


class _Record(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.at_epoch_end = []

    def on_epoch_end(self, epoch, logs=None):
        self.at_epoch_end.append(self.model.get_weights()[0].copy())


def test_validation_uses_the_moving_averages_and_training_the_raw_weights():
    model = _model()
    record = _Record()
    history = model.fit(
        X, Y, epochs=3, batch_size=16, verbose=0, validation_data=(X, Y), callbacks=[callbacks.SwapEMAWeights(), record]
    )
    opt = model.optimizer
    # after fit the variables hold the averages (finalize_variable_values); evaluating them gives the last val_loss
    np.testing.assert_allclose(model.evaluate(X, Y, verbose=0), history.history["val_loss"][-1], rtol=1e-5)
    # during the epochs the model held raw weights at epoch end (no swap_on_epoch): they differ from the averages
    assert not np.allclose(record.at_epoch_end[-1], model.get_weights()[0])
    assert opt.use_ema


def test_swap_on_epoch_lets_later_callbacks_see_the_averages():
    plain = _model()
    plain.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    ema_after = plain.get_weights()[0]  # finalize_variable_values: the averages
    model = _model()
    record = _Record()
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True), record])
    np.testing.assert_allclose(record.at_epoch_end[-1], ema_after, rtol=1e-6)
    np.testing.assert_allclose(model.get_weights()[0], ema_after, rtol=1e-6)


def test_predict_swaps_and_swaps_back():
    model = _model()
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    raw = model.get_weights()[0].copy()
    opt = model.optimizer
    ema = np.concatenate([g.state["ema"] for g in opt._groups]).copy()
    cb = callbacks.SwapEMAWeights()
    cb.set_model(model)
    cb.on_predict_begin()
    assert np.allclose(np.concatenate([g.params for g in opt._groups]), ema)
    cb.on_predict_end()
    np.testing.assert_array_equal(model.get_weights()[0], raw)


def test_without_use_ema_it_says_so():
    model = _model(use_ema=False)
    with pytest.raises(ValueError, match="SwapEMAWeights must be used with an optimizer that has use_ema=True"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.SwapEMAWeights()])


class _Handler(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Handler.received.append((self.path, self.headers.get("Content-Type"), self.headers.get("X-Token"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_remote_monitor_posts_each_epoch_as_a_form_field(server):
    model = _model(use_ema=False)
    history = model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.RemoteMonitor(root=server, headers={"X-Token": "t"})])
    assert len(_Handler.received) == 2
    path, kind, token, body = _Handler.received[1]
    assert (path, kind, token) == ("/publish/epoch/end/", "application/x-www-form-urlencoded", "t")
    data = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert data["epoch"] == 1 and data["loss"] == pytest.approx(history.history["loss"][1])


def test_remote_monitor_as_json(server):
    monitor = callbacks.RemoteMonitor(root=server, path="/logs", send_as_json=True)
    monitor.on_epoch_end(3, {"loss": np.float32(0.5), "acc": np.array(0.25)})
    path, kind, _, body = _Handler.received[0]
    assert (path, kind) == ("/logs", "application/json")
    assert json.loads(body) == {"epoch": 3, "loss": 0.5, "acc": 0.25}


def test_remote_monitor_warns_when_nobody_listens():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    with pytest.raises(ValueError, match="root must be an http"):
        callbacks.RemoteMonitor(root="file:///etc")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        callbacks.RemoteMonitor(root=f"http://127.0.0.1:{port}").on_epoch_end(0, {"loss": 1.0})
