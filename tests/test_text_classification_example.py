"""examples/text_classification.py: TextVectorization and a dense network learn generated reviews from raw strings."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).parents[1] / "examples" / "text_classification.py"


def _example():
    spec = importlib.util.spec_from_file_location("text_classification", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reviews_are_deterministic_and_balanced():
    example = _example()
    texts, labels = example.make_reviews(400, seed=3)
    again, same = example.make_reviews(400, seed=3)
    assert texts == again and np.array_equal(labels, same)
    assert 0.4 < labels.mean() < 0.6
    assert any(" not " in t for t in texts)


def test_a_short_run_learns_far_above_chance():
    # 2,000 reviews, 6 epochs; the saved and reloaded end-to-end model is what is scored (chance: 0.5)
    assert _example().main(epochs=6, training_size=2000, verbose=0) > 0.8
