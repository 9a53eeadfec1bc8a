"""Text classification from raw strings: TextVectorization (words and bigrams) and a small dense network.

The reviews are generated (no download): movie-review-like filler drawn from a Zipf
vocabulary, with a few opinion phrases mixed in, most of them agreeing with the reviewer's
mood and some negated ("not great" is negative, "not dull" positive), so that single words
are not enough and the bigrams matter. A review is positive when its opinions, negations
counted, are mostly positive.

As Keras recommends, the texts are vectorized once, before training (``adapt``, then the
layer on the whole set); the trained network is then put behind the same TextVectorization
layer, so that the final model takes raw strings, and it is saved and loaded whole.

    python examples/text_classification.py [epochs] [training_size]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import myelin
from myelin import layers

POSITIVE = ["great", "superb", "moving", "brilliant", "delightful", "gripping", "charming", "touching", "witty"]
NEGATIVE = ["awful", "boring", "clumsy", "dull", "tedious", "bland", "messy", "shallow", "lifeless"]
FILLER = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "it",
    "that",
    "this",
    "film",
    "movie",
    "story",
    "plot",
    "actor",
    "actress",
    "scene",
    "music",
    "camera",
    "director",
    "script",
    "character",
    "ending",
    "beginning",
    "with",
    "for",
    "as",
    "was",
    "on",
    "at",
    "by",
    "from",
    "his",
    "her",
    "their",
    "its",
    "one",
    "two",
    "some",
    "very",
    "quite",
    "rather",
    "really",
    "just",
    "still",
    "even",
    "also",
    "then",
    "when",
    "while",
    "after",
    "before",
    "during",
    "about",
    "over",
    "under",
]


def make_reviews(n: int, seed: int = 0, words: int = 80) -> tuple[list, np.ndarray]:
    """``n`` reviews of about ``words`` words and their labels (1 positive, 0 negative)."""
    rng = np.random.default_rng(seed)
    extra = [f"word{i}" for i in range(2000)]  # a long tail of rare words, as real text has
    vocab = np.array(FILLER + extra)
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    zipf /= zipf.sum()
    texts, labels = [], np.zeros(n, dtype=np.int64)
    for i in range(n):
        body = list(vocab[rng.choice(len(vocab), size=rng.integers(words // 2, words * 3 // 2), p=zipf)])
        leaning = rng.random() < 0.5  # the reviewer's mood: most opinions (not all) agree with it
        score = 0
        for _ in range(rng.choice([3, 5, 7])):  # an odd number of opinions: never a tie
            positive = leaning if rng.random() < 0.8 else not leaning
            negated = rng.random() < 0.3  # "not dull" is positive, "not great" negative
            word = str(rng.choice(NEGATIVE if positive == negated else POSITIVE))
            score += 1 if positive else -1
            body.insert(int(rng.integers(0, len(body) + 1)), f"not {word}" if negated else word)
        text = " ".join(body)
        texts.append(text[0].upper() + text[1:] + ("!" if score > 0 else "."))  # case and punctuation: standardized away
        labels[i] = int(score > 0)
    return texts, labels


def main(
    epochs: int = 10, training_size: int = 4000, verbose: int = 1, seed: int = 0, output_mode: str = "multi_hot"
) -> float:
    """Train on ``training_size`` generated reviews; returns the accuracy on 1,000 unseen ones.

    ``output_mode``: "multi_hot" (default), "count" or "tf_idf", the vectors the network reads.
    """
    myelin.utils.set_random_seed(seed)
    train_texts, train_labels = make_reviews(training_size, seed=seed)
    test_texts, test_labels = make_reviews(1000, seed=seed + 1)

    vectorize = layers.TextVectorization(max_tokens=2000, ngrams=2, output_mode=output_mode)
    vectorize.adapt(train_texts)
    x_train = vectorize(train_texts).data
    if verbose:
        print(f"vocabulary: {vectorize.vocabulary_size()} entries, e.g. {vectorize.get_vocabulary()[1:8]}")

    classifier = myelin.Sequential(
        [
            myelin.Input(shape=(x_train.shape[1],)),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    classifier.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    classifier.fit(
        x_train, train_labels.astype("float32"), epochs=epochs, batch_size=64, validation_split=0.1, verbose=verbose
    )

    # the end-to-end model: raw strings in, probabilities out; saved and loaded with its vocabulary
    raw = myelin.Input(shape=(1,), dtype="string")
    end_to_end = myelin.Model(raw, classifier(vectorize(raw)))
    end_to_end.compile(loss="binary_crossentropy", metrics=["accuracy"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "text_classifier.myelin"
        end_to_end.save(path)
        loaded = myelin.models.load_model(path)
    probabilities = loaded.predict(np.array(test_texts, dtype=object).reshape(-1, 1), verbose=0)
    accuracy = float(np.mean((probabilities.ravel() > 0.5) == test_labels))
    if verbose:
        for text in ("A brilliant and touching film.", "Not brilliant, just dull and boring.", "The plot was not awful."):
            p = float(loaded.predict(np.array([[text]], dtype=object), verbose=0)[0, 0])
            print(f"{p:.2f}  {text}")
        print(f"test accuracy on 1,000 unseen reviews: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
