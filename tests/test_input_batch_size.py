"""``Input(batch_size=N)`` fixes the batch axis as in Keras: in the shapes, and in what fit/evaluate/predict accept."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import layers


def _models():
    seq = myelin.Sequential([layers.Input(shape=(3,), batch_size=4), layers.Dense(2)])
    x = layers.Input(shape=(3,), batch_size=4)
    fun = myelin.Model(x, layers.Dense(2)(x))
    return [seq, fun]


@pytest.mark.parametrize("model", _models(), ids=["sequential", "functional"])
def test_fixed_batch_size_is_in_the_shapes(model):
    assert model.input_shape == (4, 3)
    assert model.output_shape[1:] == (2,)


def test_batch_shape_keeps_its_batch_axis():
    assert layers.Input(batch_shape=(5, 2)).shape == (5, 2)
    assert layers.InputLayer(shape=(2,), batch_size=5).get_config()["batch_shape"] == [5, 2]


@pytest.mark.parametrize("model", _models(), ids=["sequential", "functional"])
def test_fit_evaluate_predict_use_and_check_the_fixed_batch_size(model):
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 3), "float32"), np.ones((8, 2), "float32")
    sizes = []
    cb = myelin.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: sizes.append(b))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])  # batch_size None: the Input's 4
    assert sizes == [0, 1]
    assert model.predict(x, verbose=0).shape == (8, 2)
    model.evaluate(x, y, verbose=0, batch_size=4)
    with pytest.raises(ValueError, match=r"fixes the batch size at 4.*fit\(\) got batch_size=2"):
        model.fit(x, y, batch_size=2, verbose=0)
    with pytest.raises(ValueError, match=r"fit\(\) got 6 samples, which do not fill batches of 4"):
        model.fit(x[:6], y[:6], verbose=0)
    with pytest.raises(ValueError, match=r"validation_batch_size=8"):
        model.fit(x, y, validation_data=(x, y), validation_batch_size=8, verbose=0)
    with pytest.raises(ValueError, match=r"predict\(\) got 5 samples"):
        model.predict(x[:5], verbose=0)
    with pytest.raises(ValueError, match=r"evaluate\(\) got batch_size=3"):
        model.evaluate(x, y, batch_size=3, verbose=0)
    with pytest.raises(ValueError, match=r"train_on_batch\(\) got a batch of 3 samples"):
        model.train_on_batch(x[:3], y[:3])
    assert model.predict(x[:6], steps=1, verbose=0).shape == (4, 2)  # only full batches run: fine


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"shape": (3,), "batch_size": 0}, "batch_size must be a positive integer"),
        ({"shape": (3,), "batch_size": 2.5}, "batch_size must be a positive integer"),
        ({"shape": (3,), "batch_shape": (None, 3)}, "not both"),
        ({"batch_shape": (None, 3), "batch_size": 2}, "not both"),
    ],
)
def test_bad_batch_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Input(**kwargs)
