"""Files written by earlier versions keep loading: the committed files in tests/data/ (see tests/saved_files.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import myelin

from .saved_files import DATA, FILES, WEIGHTS_FILE, inputs, weights_architecture

EXPECTED = json.loads((DATA / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(FILES))
def test_committed_model_files_load_and_predict_the_recorded_values(name):
    _, features = FILES[name]
    model = myelin.models.load_model(DATA / name)
    out = model.predict(inputs(features), verbose=0)
    outs = out if isinstance(out, list) else [out]
    assert len(outs) == len(EXPECTED[name]["predictions"])
    for got, want in zip(outs, EXPECTED[name]["predictions"]):
        np.testing.assert_allclose(got, np.array(want, dtype=np.float32), rtol=1e-6, atol=1e-7)
    assert model.compiled and model.optimizer.iterations == EXPECTED[name]["iterations"]


def test_committed_files_keep_training_from_their_optimizer_state():
    model = myelin.models.load_model(DATA / "seed_mlp_v1.myelin")
    assert model.get_compile_config()["optimizer"]["class_name"] == "Adam"
    assert model.layers[0].kernel.shape == (784, 64) and model.count_params() == 55_050
    x = inputs(784, rows=32)
    y = myelin.utils.to_categorical(np.arange(32) % 10, 10)
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert model.optimizer.iterations == EXPECTED["seed_mlp_v1.myelin"]["iterations"] + 5
    assert model.evaluate(x, y, verbose=0)[0] < before


def test_committed_weights_file_loads_into_its_architecture():
    model = weights_architecture()
    model.load_weights(DATA / WEIGHTS_FILE)
    np.testing.assert_allclose(
        model.predict(inputs(4), verbose=0), np.array(EXPECTED[WEIGHTS_FILE]["predictions"][0], np.float32), rtol=1e-6
    )


def test_committed_custom_layer_file_rebuilds_the_registered_classes():
    from .saved_files import Gain, soft_sign

    model = myelin.models.load_model(DATA / "custom_layer_v1.myelin")
    assert type(model.layers[0]) is Gain and model.layers[0].offset_init == 0.5
    assert model.layers[1].activation is soft_sign
