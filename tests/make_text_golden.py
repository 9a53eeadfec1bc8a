"""Regenerate tests/data/text_vectorization_golden.json: Keras's TextVectorization on TensorFlow.

    KERAS_BACKEND=tensorflow /work/tfpeer/bin/python tests/make_text_golden.py   # from the repository root

Needs TensorFlow and Keras 3 (a separate environment: myelin's own does not have TensorFlow).
Every case is a set of constructor arguments, the texts to adapt on (or a vocabulary) and
the texts to call on; the file holds the arguments, the inputs and Keras's vocabulary,
outputs and idf weights, so tests/layers/test_text_vectorization.py runs without TensorFlow.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

CORPUS = [
    "The quick brown fox -- it JUMPED over the lazy dog!",
    "A dog's life: eat, sleep, bark; repeat.",
    "  Leading and   trailing\tspaces\nand new-lines  ",
    "Über café ÉCOLE naïve (unicode) straße",
    "non\xa0breaking space and a\x1cfile separator",
    "email@example.com #hashtag $100 50% [brackets] {braces} <angle> a|b ~tilde `tick` ^caret",
    "the the the dog dog fox",
    "",
]
QUERIES = [
    "the DOG jumped over the fox",
    "unknown words only",
    "über straße and café",
    "",
    "the quick brown fox it jumped over the lazy dog and the dog barked at the fox again",
]

CASES = {
    "default_int": {"kwargs": {}},
    "int_max_tokens_length": {"kwargs": {"max_tokens": 8, "output_sequence_length": 5}},
    "int_length_truncates": {"kwargs": {"output_sequence_length": 3}},
    "no_standardize": {"kwargs": {"standardize": None}},
    "lower_only": {"kwargs": {"standardize": "lower"}},
    "strip_only": {"kwargs": {"standardize": "strip_punctuation"}},
    "character_split": {"kwargs": {"split": "character", "max_tokens": 20, "output_sequence_length": 12}},
    "no_split": {"kwargs": {"split": None}, "shape": "column"},
    "bigrams_count": {"kwargs": {"ngrams": 2, "output_mode": "count"}},
    "ngrams_tuple_multi_hot": {"kwargs": {"ngrams": (1, 3), "output_mode": "multi_hot", "max_tokens": 30}},
    "ngrams_int": {"kwargs": {"ngrams": (2,), "output_sequence_length": 6}},
    "multi_hot": {"kwargs": {"output_mode": "multi_hot"}},
    "multi_hot_padded": {"kwargs": {"output_mode": "multi_hot", "max_tokens": 40, "pad_to_max_tokens": True}},
    "count": {"kwargs": {"output_mode": "count", "max_tokens": 10}},
    "tf_idf": {"kwargs": {"output_mode": "tf_idf"}},
    "tf_idf_max_tokens_padded": {"kwargs": {"output_mode": "tf_idf", "max_tokens": 12, "pad_to_max_tokens": True}},
    "tf_idf_bigrams": {"kwargs": {"output_mode": "tf_idf", "ngrams": 2, "max_tokens": 25}},
    "tf_idf_given": {
        "kwargs": {"output_mode": "tf_idf", "vocabulary": ["the", "dog", "fox", "over"], "idf_weights": [0.5, 1.0, 1.5, 2.0]}
    },
    "int_given": {"kwargs": {"vocabulary": ["earth", "wind", "and", "fire"], "output_sequence_length": 4}},
}


def run_case(case: dict) -> dict:
    import keras
    import tensorflow as tf

    kwargs = dict(case["kwargs"])
    layer = keras.layers.TextVectorization(**kwargs)
    column = case.get("shape") == "column"
    adapt = [[t] for t in CORPUS] if column else CORPUS
    queries = [[q] for q in QUERIES] if column else QUERIES
    if "vocabulary" not in kwargs:
        layer.adapt(adapt)
    out = {
        "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()},
        "column": column,
        "adapted": "vocabulary" not in kwargs,
        "vocabulary": [str(t) for t in layer.get_vocabulary()],
        "output": np.asarray(layer(tf.constant(queries))).tolist(),
    }
    if kwargs.get("output_mode") == "tf_idf":
        out["idf_weights"] = np.asarray(layer._lookup_layer.idf_weights_const).tolist()
    return out


def main() -> None:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    golden = {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "corpus": CORPUS,
        "queries": QUERIES,
        "cases": {name: run_case(case) for name, case in CASES.items()},
    }
    path = Path(__file__).parent / "data" / "text_vectorization_golden.json"
    path.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
