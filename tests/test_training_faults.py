"""Ctrl-C during fit, and a NaN or infinite loss: stop cleanly, say where and why."""

from __future__ import annotations

import io
import math
import os
import signal

import numpy as np
import pytest

import myelin
from myelin import Sequential, callbacks, layers, ops
from myelin.debugging import AnomalyError, NonFiniteLossError

RNG = np.random.default_rng(4)
X = RNG.normal(size=(64, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)


def model(**dense) -> Sequential:
    m = Sequential(
        [layers.Input(shape=(4,)), layers.Dense(8, activation="relu", **dense), layers.Dense(2, activation="softmax")]
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


class Recorder(callbacks.Callback):
    def __init__(self, ctrl_c_at=None):
        super().__init__()
        self.ctrl_c_at, self.batches, self.ended = ctrl_c_at, [], False

    def on_train_batch_begin(self, batch, logs=None):
        self.batches.append((self.epoch, batch))
        if (self.epoch, batch) == self.ctrl_c_at:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives in the middle of this batch

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_end(self, logs=None):
        self.ended = True


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_ctrl_c_stops_at_the_end_of_the_batch_and_reraises(monkeypatch):
    m = model()
    rec = Recorder(ctrl_c_at=(1, 2))
    screen = FakeTerminal()
    monkeypatch.setattr("sys.stdout", screen)
    with pytest.raises(KeyboardInterrupt, match=r"after batch 3/4 of epoch 2/5; the model keeps the weights"):
        m.fit(X, Y, epochs=5, batch_size=16, callbacks=[rec], verbose=1)
    assert rec.batches[-1] == (1, 2) and len(rec.batches) == 7  # the batch in flight finished, no more
    assert rec.ended and m.optimizer.iterations == 7  # its update was applied: a batch boundary
    assert isinstance(m.history, callbacks.History) and m.history.epoch == [0]
    assert len(m.history.history["loss"]) == 1
    assert screen.getvalue().endswith("\n")  # the progress line was closed
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back
    assert np.all(np.isfinite(m.predict(X, verbose=0)))  # a usable model
    m.fit(X, Y, epochs=1, verbose=0)  # and trainable again


def test_ctrl_c_while_not_in_a_batch_and_a_keyboard_interrupt_from_elsewhere():
    m = model()
    rec = Recorder()

    class Interrupt(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)  # during on_epoch_end: stop before the next epoch

    with pytest.raises(KeyboardInterrupt, match="after batch 4/4 of epoch 2/5"):
        m.fit(X, Y, epochs=5, batch_size=16, callbacks=[rec, Interrupt()], verbose=0)
    assert rec.ended and m.history.epoch == [0, 1]

    class Raise(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise KeyboardInterrupt  # not a signal: wherever it happens, on_train_end still runs

    rec = Recorder()
    with pytest.raises(KeyboardInterrupt):
        m.fit(X, Y, epochs=2, callbacks=[rec, Raise()], verbose=0)
    assert rec.ended and m.history.epoch == []


def test_a_second_ctrl_c_interrupts_at_once():
    m = model()

    class Twice(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 1:
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt) as info:
        m.fit(X, Y, epochs=1, batch_size=16, callbacks=[Twice()], verbose=0)
    assert "after batch" not in str(info.value)  # raised by the second signal, not at the batch end


@pytest.fixture
def quiet_numpy():
    with np.errstate(all="ignore"):
        yield


def test_a_forward_overflow_names_the_layer_and_the_batch(quiet_numpy):
    m = model(kernel_initializer="ones")
    x = X.copy()
    x[40:] = 3e38  # finite data, but its products overflow float32
    before = m.get_weights()
    with pytest.raises(NonFiniteLossError) as info:
        m.fit(x, Y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    message = str(info.value)
    assert message.startswith("The loss became nan at epoch 1/3, batch 3/4.")
    assert "the output of layer 'dense' (Dense) in the forward pass (primitive Dense produced" in message
    assert "unscaled inputs" in message and "The largest input value in this batch is" in message
    assert "inputs that are not scaled (standardise the features" in message and "<- most likely here" in message
    assert "on_nonfinite_loss='continue'" in message
    assert (info.value.epoch, info.value.batch) == (0, 2) and math.isnan(info.value.loss)
    assert m.optimizer.iterations == 2  # the failing batch was not applied
    after = m.get_weights()
    assert all(np.all(np.isfinite(w)) for w in after) and not np.array_equal(before[0], after[0])
    assert m.history.epoch == []


def test_a_log_of_zero_in_a_custom_loss_names_the_loss(quiet_numpy):
    def bad_loss(y_true, y_pred):
        return ops.mean(ops.log(y_pred * 0.0), axis=-1)

    m = model()
    m.compile(optimizer="sgd", loss=bad_loss)
    with pytest.raises(NonFiniteLossError, match=r"the loss, computed from finite model outputs \(primitive Log produced"):
        m.fit(X, Y, epochs=1, verbose=0)


def test_weights_made_non_finite_by_an_update_are_named(quiet_numpy):
    m = model()
    m.layers[1].kernel.data[0, 0] = np.inf
    with pytest.raises(
        NonFiniteLossError, match=r"the weights of 'dense_1' were already non-finite \(dense_1/kernel: 1 infinite"
    ):
        m.fit(X, Y, epochs=1, verbose=0)


def test_on_nonfinite_loss_stop_and_continue(quiet_numpy):
    x = X.copy()
    x[40:] = 3e38
    m = model(kernel_initializer="ones")
    with pytest.warns(UserWarning, match="The loss became nan at epoch 1/3, batch 3/4"):
        h = m.fit(x, Y, epochs=3, batch_size=16, shuffle=False, verbose=0, on_nonfinite_loss="stop")
    assert h.epoch == [0] and m.optimizer.iterations == 2
    m = model(kernel_initializer="ones")
    h = m.fit(x, Y, epochs=2, batch_size=16, shuffle=False, verbose=0, on_nonfinite_loss="continue")  # as Keras
    assert h.epoch == [0, 1] and math.isnan(h.history["loss"][-1])
    m = model(kernel_initializer="ones")
    h = m.fit(x, Y, epochs=3, batch_size=16, shuffle=False, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert h.epoch == [0]  # TerminateOnNaN decides, as in Keras
    with pytest.raises(ValueError, match="on_nonfinite_loss must be"):
        model().fit(X, Y, verbose=0, on_nonfinite_loss="ignore")


def test_detect_anomaly_names_the_primitive_forward_and_backward():
    with myelin.detect_anomaly(), pytest.raises(AnomalyError, match=r"forward of Div produced 1 infinite value") as info:
        ops.div(myelin.Tensor([1.0, 2.0]), myelin.Tensor([1.0, 0.0]))
    assert info.value.phase == "forward" and type(info.value.function).__name__ == "Div"
    w = myelin.Tensor([0.0, 4.0], requires_grad=True)
    with myelin.detect_anomaly(), pytest.raises(AnomalyError, match=r"backward of Sqrt produced 1 infinite value"):
        ops.sqrt(w).sum().backward()
    nan = myelin.Tensor([np.nan, 1.0])
    with myelin.detect_anomaly(), pytest.raises(AnomalyError, match="its input 0 already held non-finite values"):
        ops.exp(nan)
    assert myelin.tensor._anomaly_hook is None  # switched off again
    with np.errstate(divide="ignore"):
        ops.sqrt(w).sum().backward()  # outside: no checks, no error
    assert w.grad[0] == np.inf


def test_detect_anomaly_inside_fit_sees_every_primitive(quiet_numpy):
    m = model(kernel_initializer="ones")
    m.fit(X, Y, epochs=1, verbose=0)  # records a replayable step
    assert m.compile_status.startswith("compiled")
    x = np.full_like(X, 3e38)
    with myelin.detect_anomaly(), pytest.raises(AnomalyError, match="forward of Dense produced"):
        m.fit(x, Y, epochs=1, verbose=0)
