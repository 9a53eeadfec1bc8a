"""Keras's dataset utilities: timeseries windows, image and text folders, split_dataset; fit and for loops over them."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers, utils


def test_timeseries_windows_targets_strides_and_bounds_as_keras_defines_them():
    data = np.arange(100).reshape(50, 2)
    targets = np.arange(50) * 10
    ds = utils.timeseries_dataset_from_array(
        data, targets, sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=5, start_index=2, end_index=40
    )
    windows = np.concatenate([x for x, _ in ds])
    ys = np.concatenate([y for _, y in ds])
    starts = 2 + np.arange(0, 40 - 2 - 3 * 2, 3)
    assert len(windows) == len(starts) == 11
    for w, y, s in zip(windows, ys, starts):
        np.testing.assert_array_equal(w, data[[s, s + 2, s + 4, s + 6]])
        assert y == targets[s]
    assert windows[-1, -1, 0] < 2 * 40  # every step is before end_index
    assert [len(x) for x, _ in ds] == [5, 5, 1] and len(ds) == 3


def test_timeseries_shuffle_is_keras_order_and_repeats_with_its_seed():
    data = np.arange(30)
    a = utils.timeseries_dataset_from_array(data, None, sequence_length=5, batch_size=4, shuffle=True, seed=7)
    b = utils.timeseries_dataset_from_array(data, None, sequence_length=5, batch_size=4, shuffle=True, seed=7)
    positions = np.arange(26)
    np.random.RandomState(7).shuffle(positions)  # Keras's first order of the windows
    first = np.concatenate(list(a))
    np.testing.assert_array_equal(first[:, 0], positions)
    second = np.concatenate(list(a))  # a new order each pass, the same for the same seed
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.concatenate(list(b)), first)
    np.testing.assert_array_equal(np.concatenate(list(b)), second)
    assert sorted(second[:, 0].tolist()) == list(range(26))


def test_timeseries_bad_arguments():
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(np.arange(10), None, 3, sampling_rate=0)
    with pytest.raises(ValueError, match="end_index must be higher than start_index"):
        utils.timeseries_dataset_from_array(np.arange(10), None, 3, start_index=5, end_index=4)
    with pytest.raises(ValueError, match="no window"):
        utils.timeseries_dataset_from_array(np.arange(10), None, 20)


def test_fit_on_a_timeseries_dataset_learns_and_workers_give_the_same_result():
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(400) / 5.0)[:, None].astype(np.float32) + rng.normal(0, 0.01, (400, 1)).astype(np.float32)
    results = []
    for workers in (1, 2):
        myelin.utils.set_random_seed(0)
        m = myelin.Sequential([layers.Input(shape=(8, 1)), layers.Flatten(), layers.Dense(1)])
        m.compile(optimizer="adam", loss="mse")
        ds = utils.timeseries_dataset_from_array(series[:-8], series[8:, 0], 8, batch_size=32, shuffle=True, seed=1)
        ds.workers = workers
        h = m.fit(ds, epochs=15, verbose=0)
        results.append((h.history["loss"], m.get_weights()))
    assert results[0][0] == results[1][0]
    assert results[0][0][-1] < 0.1 * results[0][0][0]


def _write_images(root, classes=("cat", "dog"), per_class=3, size=(6, 10)):
    from PIL import Image

    colours = {}
    for k, cls in enumerate(classes):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            value = 40 * k + i
            Image.fromarray(np.full(size + (3,), value, np.uint8)).save(root / cls / f"{i}.png")
            colours[str(root / cls / f"{i}.png")] = value
    (root / "cat" / "notes.md").write_text("not an image")
    return colours


def test_image_dataset_from_directory_labels_sizes_and_modes(tmp_path):
    pytest.importorskip("PIL")
    colours = _write_images(tmp_path)
    ds = utils.image_dataset_from_directory(tmp_path, image_size=(4, 5), batch_size=4, shuffle=False, verbose=False)
    assert ds.class_names == ["cat", "dog"] and len(ds) == 2
    x, y = ds[0]
    assert x.shape == (4, 4, 5, 3) and x.dtype == np.float32 and y.dtype == np.int32
    assert y.tolist() == [0, 0, 0, 1]
    assert x[3, 0, 0, 0] == 40 and x[1, 2, 3, 1] == 1  # the pixel values, 0..255
    assert [colours[p] for p in ds.file_paths] == [0, 1, 2, 40, 41, 42]
    x, y = utils.image_dataset_from_directory(
        tmp_path, label_mode="categorical", color_mode="grayscale", image_size=(3, 3), shuffle=False, verbose=False
    )[0]
    assert x.shape == (6, 3, 3, 1) and y.tolist()[0] == [1.0, 0.0] and y.tolist()[-1] == [0.0, 1.0]
    x, y = utils.image_dataset_from_directory(tmp_path, label_mode="binary", image_size=(2, 2), verbose=False, seed=3)[0]
    assert y.shape == (6, 1) and sorted(y.ravel().tolist()) == [0, 0, 0, 1, 1, 1]
    images = utils.image_dataset_from_directory(
        tmp_path, labels=None, image_size=(2, 2), data_format="channels_first", verbose=False
    )
    assert images[0].shape == (6, 3, 2, 2)
    x, _ = utils.image_dataset_from_directory(
        tmp_path, image_size=(6, 6), crop_to_aspect_ratio=True, shuffle=False, verbose=False
    )[0]
    assert x.shape == (6, 6, 6, 3)
    with pytest.raises(ValueError, match="interpolation"):
        utils.image_dataset_from_directory(tmp_path, interpolation="mitchellcubic")
    with pytest.raises(ValueError, match="seed"):
        utils.image_dataset_from_directory(tmp_path, validation_split=0.5, subset="training")


def test_image_dataset_shuffle_split_and_fit(tmp_path, capsys):
    pytest.importorskip("PIL")
    _write_images(tmp_path, per_class=5)
    train, val = utils.image_dataset_from_directory(
        tmp_path, image_size=(4, 4), batch_size=3, validation_split=0.2, subset="both", seed=5
    )
    assert "Found 10 files belonging to 2 classes." in capsys.readouterr().out
    assert len(train.file_paths) == 8 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    order = np.arange(10)
    np.random.RandomState(5).shuffle(order)  # Keras's file order for seed 5
    names = sorted(str(p) for p in tmp_path.glob("*/*.png"))
    assert train.file_paths + val.file_paths == [names[i] for i in order]
    firsts = [np.concatenate([y for _, y in train]).tolist() for _ in range(2)]
    assert sorted(firsts[0]) == sorted(firsts[1])
    myelin.utils.set_random_seed(0)
    m = myelin.Sequential(
        [layers.Input(shape=(4, 4, 3)), layers.Rescaling(1 / 255), layers.Flatten(), layers.Dense(2, activation="softmax")]
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(train, validation_data=val, epochs=2, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_text_dataset_from_directory(tmp_path):
    for cls, texts in {"neg": ["awful film", "bad"], "pos": ["great", "lovely café"]}.items():
        (tmp_path / cls).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / cls / f"{i}.txt").write_text(t, encoding="utf-8")
    (tmp_path / "pos" / "skip.csv").write_text("x")
    ds = utils.text_dataset_from_directory(tmp_path, batch_size=3, shuffle=False, max_length=5, verbose=False)
    (x0, y0), (x1, y1) = list(ds)
    assert x0.tolist() + x1.tolist() == ["awful", "bad", "great", "lovel"]
    assert y0.tolist() + y1.tolist() == [0, 0, 1, 1] and ds.class_names == ["neg", "pos"]
    ds = utils.text_dataset_from_directory(tmp_path, labels=[3, 1, 1, 3], label_mode="int", shuffle=False, verbose=False)
    assert ds[0][1].tolist() == [3, 1, 1, 3] and ds.class_names == ["1", "3"]
    with pytest.raises(ValueError, match="labels has 2 values"):
        utils.text_dataset_from_directory(tmp_path, labels=[0, 1], verbose=False)


def test_split_dataset_sizes_shuffle_and_batched_datasets():
    x, y = np.arange(10), np.arange(10) * 2
    left, right = utils.split_dataset((x, y), left_size=0.7)
    assert (len(left), len(right)) == (7, 3)
    assert [int(v) for v in left[6]] == [6, 12] and [int(v) for v in right[0]] == [7, 14]
    left, right = utils.split_dataset(x, right_size=2, shuffle=True, seed=4)
    order = list(range(10))
    import random

    random.Random(4).shuffle(order)  # Keras: random.seed(seed); random.shuffle(samples)
    assert [int(left[i]) for i in range(8)] == order[:8] and [int(right[i]) for i in range(2)] == order[8:]
    ds = utils.timeseries_dataset_from_array(np.arange(20), None, 2, batch_size=4)
    left, right = utils.split_dataset(ds, left_size=15)
    assert left.batch_size == 4 and [len(b) for b in right] == [4]
    both = utils.split_dataset({"a": x, "b": y}, left_size=5)
    assert both[1][0] == {"a": 5, "b": 10}
    with pytest.raises(ValueError, match="left_size"):
        utils.split_dataset(x, left_size=1.5)
    with pytest.raises(ValueError, match="give left_size or right_size"):
        utils.split_dataset(x)
    with pytest.raises(ValueError, match="more than the 10"):
        utils.split_dataset(x, left_size=6, right_size=6)


def test_normalize_and_pad_sequences_are_keras_utilities():
    np.testing.assert_allclose(utils.normalize([[3.0, 4.0], [0.0, 0.0]]), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize([[1.0, 1.0]], order=1), [[0.5, 0.5]])
    assert utils.pad_sequences([[1], [2, 3]]).tolist() == [[0, 1], [2, 3]]
