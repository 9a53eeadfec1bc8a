"""Arguments of fit, summary and save that change what they do, each checked with its value."""

from __future__ import annotations

import json
import zipfile

import numpy as np

import myelin
from myelin import Sequential, layers


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)


def model():
    m = Sequential([layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_validation_steps_and_validation_batch_size_choose_the_validation_samples():
    x, y = data()
    xv, yv = data(40, seed=1)
    m = model()
    h = m.fit(x, y, epochs=1, batch_size=32, validation_data=(xv, yv), validation_steps=2, validation_batch_size=8, verbose=0)
    first_16 = m.evaluate(xv[:16], yv[:16], batch_size=8, verbose=0, return_dict=True)
    every = m.evaluate(xv, yv, verbose=0, return_dict=True)
    assert h.history["val_loss"][0] == first_16["loss"] and h.history["val_accuracy"][0] == first_16["accuracy"]
    assert first_16["loss"] != every["loss"]  # the two arguments changed what was validated


def test_top_k_accuracy_with_fewer_than_k_hits_possible_is_computed_not_one():
    x, y = data()
    m = Sequential([layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    top2 = myelin.metrics.TopKCategoricalAccuracy(k=2)
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=[top2])
    onehot = myelin.utils.to_categorical(y, 3)
    m.fit(x, onehot, epochs=1, verbose=0)
    logs = m.evaluate(x, onehot, verbose=0, return_dict=True)
    p = m.predict(x, verbose=0)
    rank = (p > p[np.arange(len(y)), y][:, None]).sum(axis=1)  # classes scored higher than the true one
    expected = float(np.mean(rank < 2))
    assert 0 < expected < 1  # a value that k >= classes (always 1) could not give
    assert logs["top_k_categorical_accuracy"] == expected


def nested():
    inner = Sequential([layers.Input(shape=(4,)), layers.Dense(5, name="inner_dense")], name="inner")
    m = Sequential([layers.Input(shape=(4,)), layers.Dense(4, name="first"), inner, layers.Dense(2, name="head")])
    m.get_layer("head").trainable = False
    return m


def summary_lines(m, **kwargs):
    lines = []
    m.summary(print_fn=lines.append, **kwargs)
    return lines


def rows(lines):
    return [line for line in lines if line.startswith("│ ")]


def test_summary_expand_nested_shows_the_layers_inside_a_nested_model():
    flat, expanded = rows(summary_lines(nested())), rows(summary_lines(nested(), expand_nested=True))
    assert not any("inner_dense" in r for r in flat) and len(flat) == 3
    assert len(expanded) == 4 and "  inner_dense (Dense)" in expanded[2]


def test_summary_show_trainable_adds_a_column_saying_which_layers_train():
    plain, shown = summary_lines(nested()), summary_lines(nested(), show_trainable=True)
    assert "Trainable" not in plain[2] and "Trainable" in shown[2]
    marks = [r.rstrip(" │").split()[-1] for r in rows(shown)]
    assert marks == ["Y", "Y", "N"]


def test_summary_layer_range_keeps_the_rows_from_first_to_last_named():
    names = [r.split()[1] for r in rows(summary_lines(nested(), layer_range=("inner", "head")))]
    assert names == ["inner", "head"]
    names = [r.split()[1] for r in rows(summary_lines(nested(), layer_range=("first", "inner")))]
    assert names == ["first", "inner"]


def test_save_without_the_optimizer_leaves_its_state_out(tmp_path):
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0)
    m.save(tmp_path / "with.myelin")
    m.save(tmp_path / "without.myelin", include_optimizer=False)
    with zipfile.ZipFile(tmp_path / "without.myelin") as zf:
        config = json.loads(zf.read("config.json"))
    assert "optimizer_state" not in config and not any("optimizer" in name for name in config["tensors"])
    with_state = myelin.models.load_model(tmp_path / "with.myelin")
    without = myelin.models.load_model(tmp_path / "without.myelin")
    assert with_state.optimizer.iterations == m.optimizer.iterations > 0
    assert without.optimizer.iterations == 0 and not without.optimizer.built
    np.testing.assert_array_equal(without.predict(x, verbose=0), m.predict(x, verbose=0))
