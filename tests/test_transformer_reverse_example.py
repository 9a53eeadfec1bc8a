"""examples/transformer_reverse.py: a two-block transformer encoder learns to reverse digit sequences."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import myelin

EXAMPLE = Path(__file__).parents[1] / "examples" / "transformer_reverse.py"


def _example():
    spec = importlib.util.spec_from_file_location("transformer_reverse", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_and_model_shape():
    example = _example()
    x, y = example.make_data(5)
    np.testing.assert_array_equal(y, x[:, ::-1])
    model = example.build_model()
    assert model.output_shape == (None, example.LENGTH, 10)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("MultiHeadAttention") == 2 and kinds.count("LayerNormalization") == 4
    assert model.get_layer("block1_attention").num_heads == 4


def test_a_short_seeded_run_learns_to_reverse():
    # 2,000 sequences, 2 epochs (~5 s on one thread): held-out token accuracy ~0.99 (guessing: 0.1).
    myelin.config.set_num_threads(1)
    try:
        accuracy = _example().main(epochs=2, training_size=2000, verbose=0)
    finally:
        myelin.config.set_num_threads(None)
    assert accuracy >= 0.95


@pytest.mark.slow
def test_the_full_run_is_perfect():
    assert _example().main(verbose=0) >= 0.99
