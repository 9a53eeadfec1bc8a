"""Callbacks and the progress display."""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np
import pytest

import myelin
from myelin import Sequential, callbacks, layers


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def model(lr=0.01):
    m = Sequential([layers.Input(shape=(3,)), layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")])
    m.compile(optimizer=myelin.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_hooks_are_called_in_keras_order():
    calls = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_train_batch_begin(self, batch, logs=None):
            calls.append(f"batch_begin {batch}")

        def on_train_batch_end(self, batch, logs=None):
            calls.append(f"batch_end {batch} {sorted(logs)}")

        def on_test_begin(self, logs=None):
            calls.append("test_begin")

        def on_test_end(self, logs=None):
            calls.append("test_end")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    x, y = data(32)
    rec = Recorder()
    m = model()
    m.fit(x, y, batch_size=16, epochs=1, validation_split=0.5, callbacks=[rec], verbose=0)
    assert rec.model is m and rec.params["epochs"] == 1 and rec.params["steps"] == 1
    assert calls == [
        "train_begin",
        "epoch_begin 0",
        "batch_begin 0",
        "batch_end 0 ['accuracy', 'loss']",
        "test_begin",
        "test_end",
        "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']",
        "train_end",
    ]


def test_early_stopping_and_restore_best_weights():
    x, y = data()
    m = model()
    values = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])

    class Fake(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_score"] = next(values)
            if epoch == 1:
                self.best = [w.copy() for w in self.model.get_weights()]

    fake = Fake()
    stop = callbacks.EarlyStopping(monitor="val_score", mode="min", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=7, callbacks=[fake, stop], verbose=0)
    assert h.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best == 0.5
    for a, b in zip(m.get_weights(), fake.best):
        np.testing.assert_array_equal(a, b)
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert callbacks.EarlyStopping(monitor="val_loss").mode == "min"


def test_early_stopping_min_delta_and_baseline():
    stop = callbacks.EarlyStopping(monitor="loss", min_delta=0.1, patience=1)
    stop.set_model(model())
    stop.on_train_begin()
    for epoch, value in enumerate([1.0, 0.95, 0.93]):  # improvements smaller than min_delta do not count
        stop.on_epoch_end(epoch, {"loss": value})
    assert stop.model.stop_training
    with pytest.warns(RuntimeWarning, match="not available"):
        stop.on_epoch_end(3, {"accuracy": 1.0})


def test_terminate_on_nan():
    x, y = data()
    m = model(lr=1e30)
    m.layers[0].kernel.data[...] = np.nan
    h = m.fit(x, y, epochs=3, batch_size=8, callbacks=[callbacks.TerminateOnNaN()], verbose=0)
    assert len(h.epoch) == 1 and math.isnan(h.history["loss"][0])


def test_learning_rate_scheduler_and_reduce_on_plateau():
    x, y = data()
    m = model(lr=0.1)
    h = m.fit(x, y, epochs=3, callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))], verbose=0)
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    m = model(lr=0.1)
    plateau = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, min_lr=0.02)

    class Flat(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = 1.0

    h = m.fit(x, y, epochs=5, callbacks=[Flat(), plateau], verbose=0)
    assert m.optimizer.learning_rate == pytest.approx(0.02)
    assert h.history["learning_rate"][0] == pytest.approx(0.1)


def test_csv_logger(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model().fit(x, y, epochs=2, callbacks=[callbacks.CSVLogger(path)], verbose=0)
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert [r["epoch"] for r in rows] == ["0", "1"] and set(rows[0]) == {"epoch", "accuracy", "loss"}
    model().fit(x, y, epochs=1, callbacks=[callbacks.CSVLogger(path, append=True)], verbose=0)
    assert len(list(csv.DictReader(path.read_text().splitlines()))) == 3


def test_lambda_callback_and_bad_callbacks():
    x, y = data()
    ends = []
    model().fit(x, y, epochs=2, callbacks=[callbacks.LambdaCallback(on_epoch_end=lambda e, logs: ends.append(e))], verbose=0)
    assert ends == [0, 1]
    with pytest.raises(TypeError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="Callback instances"):
        model().fit(x, y, callbacks=[print], verbose=0)


def test_progress_when_not_a_terminal_is_one_clean_line_per_epoch(capsys):
    x, y = data()
    model().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=1)
    out = capsys.readouterr().out
    lines = out.strip().split("\n")
    assert len(lines) == 3
    assert not re.search(r"[\r\x1b\x08]", out)
    pattern = (
        r"Epoch 2/3 - 3/3 - \d+s - \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}"
        r" - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}"
    )
    assert re.fullmatch(pattern, lines[1]), lines[1]


def test_verbose_zero_prints_nothing_and_two_prints_lines(capsys):
    x, y = data()
    model().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model().fit(x, y, epochs=2, verbose=2)
    assert len(capsys.readouterr().out.strip().split("\n")) == 2
    m = model()
    m.evaluate(x, y, verbose=1)
    assert re.fullmatch(r"1/1 - \d+s \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}\n", capsys.readouterr().out)


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_in_a_terminal_uses_keras_layout():
    x, y = data()
    m = model()
    term = FakeTerminal()
    bar = callbacks.ProgbarLogger(stream=term)
    m.fit(x, y, epochs=2, batch_size=16, callbacks=[bar], verbose=0)
    # verbose=0 still allows an explicit progress callback; it draws nothing unless verbose=1
    assert term.getvalue() == ""
    bar.set_params({"verbose": 1, "epochs": 2, "steps": 4})
    bar.set_model(m)
    bar.on_epoch_begin(0)
    for step in range(4):
        bar.on_train_batch_end(step, {"loss": 0.5, "accuracy": 0.75})
    bar.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.4})
    text = term.getvalue()
    assert text.startswith("Epoch 1/2\n")
    final = text.split("\r")[-1].strip()
    assert re.fullmatch(r"4/4 ━{20} \d+s \d+(us|ms)/step - accuracy: 0\.7500 - loss: 0\.5000 - val_loss: 0\.4000", final), (
        final
    )


def test_format_logs():
    assert callbacks.format_logs({"loss": 1e-5, "acc": float("nan"), "x": "text"}) == " - acc: nan - loss: 1.0000e-05"


def test_a_real_terminal_shows_the_bar_and_a_zero_width_one_gets_plain_lines(tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    program = tmp_path / "fit.py"
    program.write_text(
        "import numpy as np, myelin\n"
        "from myelin import layers\n"
        "m = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation='softmax')])\n"
        "m.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "m.fit(np.zeros((64, 3)), np.zeros(64, int), epochs=2, batch_size=16, verbose=1)\n"
    )

    def run_in_terminal(columns):
        primary, secondary = pty.openpty()
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        proc = subprocess.Popen([sys.executable, str(program)], stdout=secondary, stderr=secondary, close_fds=True)
        os.close(secondary)
        out = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=60) == 0, out
        os.close(primary)
        return out.decode()

    wide = run_in_terminal(120)
    final = [part for part in wide.split("\r") if "4/4" in part][-1]
    assert re.search(r"4/4 ━{20} \d+s \d+(us|ms)/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", final), wide
    narrow = run_in_terminal(0)
    assert re.search(r"Epoch 2/2 - 4/4 - \d+s - \d+(us|ms)/step - accuracy", narrow), narrow


def _feed(callback, values, monitor="loss", m=None):
    """Run a callback's epoch hooks on given monitored values; the epochs at which it asked to stop."""
    callback.set_model(m or model())
    callback.on_train_begin()
    stops = []
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {monitor: value})
        if callback.model.stop_training:
            stops.append(epoch)
            break
    return stops


def test_early_stopping_baseline_counts_improvements_that_do_not_beat_it_as_waiting():
    values = [1.0, 0.9, 0.8, 0.85]  # improving, then one worse epoch
    assert _feed(callbacks.EarlyStopping(monitor="loss", patience=2), values) == []
    # no value beats the baseline 0.5: the improving epochs count towards patience (as Keras)
    assert _feed(callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.5), values) == [3]
    assert _feed(callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.95), values) == []


def test_early_stopping_start_from_epoch_ignores_the_first_epochs():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]  # ever worse
    early = callbacks.EarlyStopping(monitor="loss", patience=1)
    assert _feed(early, values) == [1] and early.best == 1.0
    late = callbacks.EarlyStopping(monitor="loss", patience=1, start_from_epoch=2)
    assert _feed(late, values) == [3] and late.best == 3.0 and late.stopped_epoch == 3


def test_reduce_lr_on_plateau_cooldown_waits_before_counting_again():
    def rates(cooldown):
        m = model(lr=0.1)
        plateau = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, cooldown=cooldown)
        plateau.set_model(m)
        plateau.on_train_begin()
        out = []
        for epoch in range(6):
            plateau.on_epoch_end(epoch, {"score": 1.0})
            out.append(m.optimizer.learning_rate)
        return out

    assert rates(0) == pytest.approx([0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125])
    assert rates(2) == pytest.approx([0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])


def test_csv_logger_separator(tmp_path):
    x, y = data()
    path = tmp_path / "log.tsv"
    model().fit(x, y, epochs=2, callbacks=[callbacks.CSVLogger(path, separator="\t")], verbose=0)
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == ["epoch", "accuracy", "loss"] and "," not in lines[0]
    assert [line.split("\t")[0] for line in lines[1:]] == ["0", "1"]
    assert all(len(line.split("\t")) == 3 for line in lines)
