"""The TensorBoard callback: event files read back with TensorBoard's own event reader."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

import myelin  # noqa: E402
from myelin import layers  # noqa: E402
from myelin.callbacks import TensorBoard  # noqa: E402


def read(folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    acc.Reload()
    return acc


def train(tmp_path, epochs=3, **kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 3)).astype("float32"), rng.integers(0, 2, 40)
    model = myelin.Sequential(
        [myelin.Input(shape=(3,)), layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x, y, epochs=epochs, batch_size=10, validation_split=0.25, verbose=0, callbacks=[TensorBoard(tmp_path, **kwargs)]
    )
    return model, history


def test_epoch_scalars_in_train_and_validation(tmp_path):
    _, history = train(tmp_path, write_graph=False)
    trained = read(tmp_path / "train")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(trained.Tags()["scalars"])
    loss = trained.Scalars("epoch_loss")
    assert [e.step for e in loss] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in loss], history.history["loss"], rtol=1e-6)
    assert trained.Scalars("epoch_learning_rate")[0].value == pytest.approx(0.001)
    validation = read(tmp_path / "validation")
    np.testing.assert_allclose([e.value for e in validation.Scalars("epoch_loss")], history.history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in validation.Scalars("epoch_accuracy")], history.history["val_accuracy"])
    assert not trained.Tags()["histograms"]


def test_batch_scalars_and_histograms(tmp_path):
    model, _ = train(tmp_path, update_freq="batch", histogram_freq=1, write_graph=False, write_images=True)
    trained = read(tmp_path / "train")
    batch_loss = trained.Scalars("batch_loss")
    assert [e.step for e in batch_loss] == list(range(1, 3 * 3 + 1))  # 30 training samples / 10 = 3 batches per epoch
    hist_tags = set(trained.Tags()["histograms"])
    assert hist_tags == {f"{w.name}/histogram" for w in model.weights}
    kernel = trained.Histograms("dense/kernel/histogram")
    assert [h.step for h in kernel] == [0, 1, 2]
    last = kernel[-1].histogram_value
    values = model.layers[0].kernel.numpy()
    assert last.num == values.size
    assert last.min == pytest.approx(values.min()) and last.max == pytest.approx(values.max())
    assert last.sum == pytest.approx(values.sum(), abs=1e-5)
    assert "dense/kernel/image" in trained.Tags()["images"]


def test_update_freq_every_n_batches_and_histogram_freq(tmp_path):
    train(tmp_path, epochs=4, update_freq=2, histogram_freq=2, write_graph=False, write_steps_per_second=True)
    trained = read(tmp_path / "train")
    assert [e.step for e in trained.Scalars("batch_loss")] == [2, 4, 6, 8, 10, 12]
    assert [h.step for h in trained.Histograms("dense/bias/histogram")] == [0, 2]
    assert all(e.value > 0 for e in trained.Scalars("epoch_steps_per_second"))


def test_write_graph_uses_the_onnx_export(tmp_path):
    pytest.importorskip("onnx")
    train(tmp_path, epochs=1)
    assert read(tmp_path / "train").Graph() is not None


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="profiler"):
        TensorBoard(profile_batch=(1, 5))
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(histogram_freq=-1)
