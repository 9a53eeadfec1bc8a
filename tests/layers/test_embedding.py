"""Embedding and Masking: lookups, masks, gradients, config and saving."""

import numpy as np
import pytest

import myelin
from myelin import layers
from tests.layers import checks


def test_embedding_looks_up_rows_and_its_gradient_adds_repeated_ids(float64):
    emb = layers.Embedding(6, 3)
    ids = np.array([[1, 1, 5], [0, 2, 1]])
    out = emb(ids)
    np.testing.assert_array_equal(out.data, emb.embeddings.data[ids])
    out.sum().backward()
    np.testing.assert_array_equal(emb.embeddings.grad[:, 0], [1.0, 3.0, 1.0, 0.0, 0.0, 1.0])
    checks.gradients(emb, ids.astype(np.float64), check_input=False)


def test_embedding_defaults_follow_keras():
    emb = layers.Embedding(1000, 8)
    emb.build((None, 4))
    w = emb.embeddings.data
    assert w.shape == (1000, 8) and w.dtype == np.float32
    assert np.abs(w).max() <= 0.05 and np.abs(w).max() > 0.04  # "uniform": RandomUniform(-0.05, 0.05)
    assert emb.compute_mask(np.array([[0, 1]])) is None
    assert emb.compute_output_shape((None, 4)) == (None, 4, 8)


def test_mask_zero_makes_the_mask_any_length_after_build():
    emb = layers.Embedding(10, 2, mask_zero=True)
    out = emb(np.array([[4, 0, 0]]))
    np.testing.assert_array_equal(out._keras_mask.data, [[True, False, False]])
    longer = emb(np.array([[4, 3, 0, 0, 2]]))  # another sequence length works
    np.testing.assert_array_equal(longer._keras_mask.data, [[True, True, False, False, True]])


def test_embedding_weights_argument_and_errors():
    table = np.arange(6, dtype=np.float32).reshape(3, 2)
    emb = layers.Embedding(3, 2, weights=[table])
    np.testing.assert_array_equal(emb(np.array([[2]])).data, [[[4.0, 5.0]]])
    with pytest.raises(ValueError, match=r"Embedding layer 'words'.*\[0, 3\) \(input_dim=3\), got id 3"):
        layers.Embedding(3, 2, name="words")(np.array([[0, 3]]))
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        layers.Embedding(0, 2)
    with pytest.raises(TypeError, match="input_length is Keras 2's argument"):
        layers.Embedding(3, 2, input_length=5)


def test_masking_zeroes_and_masks_the_padded_steps(float64):
    x = np.array([[[1.0, 2.0], [-1.0, -1.0], [0.0, 3.0]]])
    masking = layers.Masking(mask_value=-1.0)
    out = masking(x)
    np.testing.assert_array_equal(out.data, [[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]])
    np.testing.assert_array_equal(out._keras_mask.data, [[True, False, True]])
    checks.gradients(masking, np.random.default_rng(1).standard_normal((2, 3, 2)))  # away from mask_value: smooth
    with pytest.raises(ValueError, match=r"Masking layer .masking_1d.*rank >= 2"):
        layers.Masking(name="masking_1d")(np.zeros((3,)))


def test_masking_feeds_an_lstm_in_a_model_and_everything_saves(tmp_path):
    x = np.random.default_rng(0).standard_normal((4, 5, 3)).astype(np.float32)
    x[:, 3:] = 0.0
    model = myelin.Sequential([myelin.Input(shape=(None, 3)), layers.Masking(), layers.LSTM(2), layers.Dense(1)])
    short = model.predict(x[:, :3], verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), short, rtol=1e-6)  # padded steps are skipped
    checks.saving(model, x, tmp_path)
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    emb_model = checks.model_of(layers.Embedding(5, 2, mask_zero=True), (3,))
    checks.saving(emb_model, ids, tmp_path)
    checks.config_round_trip(layers.Embedding(5, 2, mask_zero=True), ids)
    checks.config_round_trip(layers.Masking(0.5), x)
