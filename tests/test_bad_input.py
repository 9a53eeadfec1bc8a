"""Bad input gets a clear error before any work is done: what was expected, what came, which argument."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Model, Sequential, layers, losses

RNG = np.random.default_rng(8)
X = RNG.normal(size=(40, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 40)


def model(units: int = 3, activation: str = "softmax", loss="sparse_categorical_crossentropy") -> Sequential:
    m = Sequential([layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(units, activation=activation)])
    m.compile(optimizer="adam", loss=loss)
    return m


def untouched(m: Sequential, before: list) -> bool:
    return m.optimizer.iterations == 0 and all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))


def test_nan_and_inf_in_a_dataframe_name_the_columns_and_rows():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["bill_length", "bill_depth", "flipper", "mass"])
    frame.loc[[3, 17, 30], "flipper"] = np.nan
    frame.loc[17, "mass"] = np.inf
    m = model()
    before = m.get_weights()
    with pytest.raises(ValueError) as info:
        m.fit(frame, Y, verbose=0)
    message = str(info.value)
    assert message.startswith("x contains NaN or infinite values: column 2 ('flipper'): 3 NaN; column 3 ('mass'): 1 infinite;")
    assert "in 3 of 40 rows (the first is row 3)" in message and "df.dropna()" in message
    assert "pass check_finite=False to fit()" in message
    assert untouched(m, before)
    with pytest.raises(ValueError, match=r"check_finite=False to predict\(\)"):
        m.predict(frame, verbose=0)
    out = m.predict(frame, verbose=0, check_finite=False)  # opted out: NaN in, NaN out
    assert np.isnan(out[3]).all() and np.isfinite(out[0]).all()


def test_nan_in_targets_weights_validation_data_and_images():
    m = model(units=1, activation="linear", loss="mse")
    y = X[:, 0].copy()
    y[5] = np.nan
    with pytest.raises(
        ValueError, match=r"^y contains NaN or infinite values: values: 1 NaN; in 1 of 40 rows \(the first is row 5"
    ):
        m.fit(X, y, verbose=0)
    weights = np.ones(40)
    weights[2] = np.inf
    with pytest.raises(ValueError, match="sample_weight contains NaN or infinite values"):
        m.fit(X, X[:, 0], sample_weight=weights, verbose=0)
    bad = X.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match=r"x_val contains NaN"):
        m.fit(X, X[:, 0], validation_data=(bad, X[:, 0]), verbose=0)
    with pytest.raises(ValueError, match=r"check_finite=False to evaluate\(\)"):
        m.evaluate(bad, X[:, 0], verbose=0)
    images = np.zeros((10, 3, 3), np.float32)
    images[4, 1, 2] = np.nan
    cnn = Sequential([layers.Input(shape=(3, 3)), layers.Flatten(), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"position \(1, 2\) of each sample: 1 NaN; in 1 of 10 rows \(the first is row 4\)"):
        cnn.predict(images, verbose=0)


def test_class_labels_that_do_not_fit_a_sparse_loss():
    m = model()
    before = m.get_weights()
    with pytest.raises(
        ValueError,
        match=r"labels 0 to 2 for the 3 units of output layer 'dense_1', but y holds labels from 1 to 3 \(\d+ out of range\) "
        r"\(they seem to start at 1: subtract 1\)",
    ):
        m.fit(X, Y + 1, verbose=0)
    with pytest.raises(ValueError, match="holds labels from -1 to 2"):
        m.fit(X, Y - (Y == 0), verbose=0)
    with pytest.raises(ValueError, match=r"give the output layer 8 units if there are 8 classes"):
        m.fit(X, np.where(Y == 2, 7, Y), verbose=0)
    with pytest.raises(ValueError, match=r"needs integer class labels, but y holds non-integer values such as \d.5"):
        m.fit(X, Y + 0.5, verbose=0)
    with pytest.raises(ValueError, match=r"y has shape \(40, 3\), one-hot rows of 3, but sparse_categorical_crossentropy"):
        m.fit(X, myelin.utils.to_categorical(Y, 3), verbose=0)
    assert untouched(m, before)
    m.fit(X, Y.astype(np.float32), epochs=1, verbose=0)  # whole-number floats are labels too


def test_one_hot_targets_binary_targets_and_shapes():
    m = model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"y has 4 columns \(one-hot width\) but output layer 'dense_1' has 3 units"):
        m.fit(X, myelin.utils.to_categorical(Y, 4), verbose=0)
    with pytest.raises(ValueError, match=r"class labels rather than one-hot rows.*to_categorical\(y, 3\)"):
        m.fit(X, Y, verbose=0)
    b = model(units=1, activation="sigmoid", loss="binary_crossentropy")
    with pytest.raises(ValueError, match=r"binary_crossentropy needs targets between 0 and 1, but y holds values from 1 to 2"):
        b.fit(X, (Y > 0) + 1, verbose=0)
    r = model(units=2, activation="linear", loss="mse")
    with pytest.raises(
        ValueError, match=r"y has shape \(40, 3\) but output layer 'dense_\d' gives outputs of shape \(None, 2"
    ):
        r.fit(X, np.zeros((40, 3)), verbose=0)
    inputs = myelin.Input(shape=(4,))
    two = Model(inputs, [layers.Dense(1, name="a")(inputs), layers.Dense(1, name="b")(inputs)])
    two.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"has 2 output\(s\) \(a, b\) but 1 target array\(s\) were given as y"):
        two.fit(X, X[:, 0], verbose=0)


def test_lengths_widths_empty_text_and_arguments():
    m = model()
    with pytest.raises(ValueError, match="x has 40 samples but y has 39; they must match"):
        m.fit(X, Y[:-1], verbose=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\) \(batch first\), but x has shape \(40, 5\)"):
        m.predict(np.zeros((40, 5)), verbose=0)
    with pytest.raises(ValueError, match="x is empty"):
        m.fit(np.zeros((0, 4)), np.zeros(0), verbose=0)
    with pytest.raises(ValueError, match="x_val is empty"):
        m.fit(X, Y, validation_data=(np.zeros((0, 4)), np.zeros(0)), verbose=0)
    with pytest.raises(TypeError, match=r"x: expected numbers, got an array of dtype <U5 \(strings or Python objects\)"):
        m.fit(np.array([["adele"] * 4] * 40), Y, verbose=0)
    with pytest.raises(TypeError, match="dtype object"):
        m.fit(np.array([[1, "a", None, 2.0]] * 40, dtype=object), Y, verbose=0)
    with pytest.raises(ValueError, match="sample_weight has 39 values for 40 samples"):
        m.fit(X, Y, sample_weight=np.ones(39), verbose=0)
    for split, error in ((1.0, ValueError), (-0.1, ValueError), ("0.2", TypeError)):
        with pytest.raises(error, match="validation_split must be"):
            m.fit(X, Y, validation_split=split, verbose=0)
    with pytest.raises(ValueError, match="leaves no training samples out of 2"):
        m.fit(X[:2], Y[:2], validation_split=0.6, verbose=0)
    for size in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {size!r}"):
            m.fit(X, Y, batch_size=size, verbose=0)
    fresh = Sequential([layers.Input(shape=(4,)), layers.Dense(3)])
    for method in ("fit", "evaluate", "train_on_batch"):
        with pytest.raises(RuntimeError, match=rf"call compile\(optimizer=..., loss=...\) before {method}\(\)"):
            getattr(fresh, method)(X, Y)
    assert fresh.predict(X, verbose=0).shape == (40, 3)  # predicting needs no compile


def test_a_batch_larger_than_the_data_is_one_partial_batch():
    m = model()
    m.fit(X, Y, batch_size=1000, epochs=2, verbose=0)
    assert m.optimizer.iterations == 2


@pytest.mark.parametrize(
    ("units", "activation", "loss", "warning"),
    [
        (
            3,
            "softmax",
            losses.SparseCategoricalCrossentropy(from_logits=True),
            "applies softmax, but the loss has from_logits=True",
        ),
        (1, "sigmoid", "categorical_crossentropy", "single unit but the loss is categorical_crossentropy"),
        (1, "softmax", "binary_crossentropy", "applies softmax to a single unit, which always gives 1.0"),
        (3, "linear", "sparse_categorical_crossentropy", "ends with linear, not softmax, but sparse_categorical_crossentropy"),
        (1, "relu", "binary_crossentropy", "ends with relu, not sigmoid"),
        (1, "sigmoid", losses.BinaryCrossentropy(from_logits=True), "applies sigmoid, but the loss has from_logits=True"),
    ],
)
def test_a_loss_and_output_activation_that_do_not_fit_give_a_warning(units, activation, loss, warning):
    m = model(units=units, activation=activation, loss=loss)
    y = (Y > 0).astype(np.float32) if units == 1 else Y
    if isinstance(loss, str) and loss == "categorical_crossentropy":
        y = y[:, None]
    with pytest.warns(UserWarning, match=warning):
        m.fit(X, y, epochs=1, verbose=0)


def test_fitting_models_give_no_warning(recwarn):
    model().fit(X, Y, verbose=0)
    model(loss=losses.SparseCategoricalCrossentropy(from_logits=True), activation="linear").fit(X, Y, verbose=0)
    model(units=1, activation="sigmoid", loss="binary_crossentropy").fit(X, Y > 0, verbose=0)
    assert [str(w.message) for w in recwarn] == []
