"""TextVectorization speed (issue 16): myelin's (plain Python) next to Keras's on TensorFlow, alternating.

    python bench/text_bench.py                                   # Keras from /work/tfpeer/bin/python
    python bench/text_bench.py --peer-python /path/to/python --reps 5 --threads 1
    python bench/text_bench.py --peer-python none                # scikit-learn's CountVectorizer instead

The texts: 25,000 movie-review-length strings (about 230 words each) drawn deterministically
from a 30,000-word vocabulary with a Zipf distribution (exponent 1.1), some words capitalised
or followed by punctuation, so that standardizing has work to do. Each repetition times, for
each framework, ``adapt`` on all the texts and the layer called on all of them, in two
settings: ``int`` (max_tokens=20,000, output_sequence_length=250: what an Embedding reads) and
``tf_idf`` (max_tokens=5,000, bigrams, called in batches of 1,000 so that the output fits in
memory). Keras runs in a worker process of a Python that has TensorFlow (myelin's environment
does not); the worker reads the same texts from a file, and the table says whether its
vocabulary and outputs equal myelin's. The ratio is Keras's time over myelin's per
repetition (median and range): above 1, myelin is faster. Where TensorFlow is absent
(``--peer-python none``) the peer is scikit-learn's ``CountVectorizer`` (same vocabulary size
and bigrams; its tokenizer differs, so no equality is claimed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = {
    "int": {"max_tokens": 20000, "output_mode": "int", "output_sequence_length": 250},
    "tf_idf": {"max_tokens": 5000, "output_mode": "tf_idf", "ngrams": 2},
}
BATCH = 1000  # the vector modes are called on this many texts at a time


def make_texts(n: int = 25000, words: int = 230, vocabulary: int = 30000, seed: int = 0) -> list:
    """``n`` deterministic review-like texts of about ``words`` words from a Zipf vocabulary."""
    gen = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    lengths = 2 + gen.poisson(4, size=vocabulary)
    vocab = np.array(["".join(gen.choice(letters, size=k)) for k in lengths])
    p = 1.0 / np.arange(1, vocabulary + 1) ** 1.1
    p /= p.sum()
    sizes = gen.integers(words // 2, words * 3 // 2 + 1, size=n)
    ids = gen.choice(vocabulary, size=int(sizes.sum()), p=p)
    tokens = vocab[ids].astype(object)
    caps = gen.random(len(tokens)) < 0.05
    tokens[caps] = [t.capitalize() for t in tokens[caps]]
    marks = gen.random(len(tokens)) < 0.08
    tokens[marks] = [t + gen.choice([",", ".", "!", "?", ";", ":"]) for t in tokens[marks]]
    ends = np.cumsum(sizes)
    return [" ".join(tokens[e - s : e]) for s, e in zip(sizes, ends)]


# ---------------------------------------------------------------------------- the frameworks
def run_myelin(texts: list, setting: str) -> dict:
    from myelin import layers

    layer = layers.TextVectorization(**SETTINGS[setting])
    t0 = time.perf_counter()
    layer.adapt(texts)
    t1 = time.perf_counter()
    outputs = _call_all(lambda batch: layer(batch).data, texts, setting)
    t2 = time.perf_counter()
    return {"adapt": t1 - t0, "call": t2 - t1, "vocabulary": layer.get_vocabulary()[:200], "checksum": _checksum(outputs)}


def _call_all(call, texts: list, setting: str) -> list:
    if SETTINGS[setting]["output_mode"] == "int":
        return [call(texts)]
    return [call(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]


def _checksum(outputs: list) -> list:
    """Sums that change if any output changes: total, and weighted by position."""
    total = sum(float(np.asarray(o, dtype=np.float64).sum()) for o in outputs)
    weighted = sum(
        float((np.asarray(o, dtype=np.float64) * (1 + np.arange(np.asarray(o).shape[1]) % 7)).sum()) for o in outputs
    )
    return [total, weighted]


def run_keras(texts: list, setting: str) -> dict:
    import keras
    import tensorflow as tf

    layer = keras.layers.TextVectorization(**SETTINGS[setting])
    t0 = time.perf_counter()
    layer.adapt(texts)
    t1 = time.perf_counter()
    outputs = _call_all(lambda batch: np.asarray(layer(tf.constant(batch))), texts, setting)
    t2 = time.perf_counter()
    vocabulary = [str(t) for t in layer.get_vocabulary()[:200]]
    return {"adapt": t1 - t0, "call": t2 - t1, "vocabulary": vocabulary, "checksum": _checksum(outputs)}


def run_sklearn(texts: list, setting: str) -> dict:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    cfg = SETTINGS[setting]
    cls = TfidfVectorizer if cfg["output_mode"] == "tf_idf" else CountVectorizer
    vectorizer = cls(max_features=cfg["max_tokens"], ngram_range=(1, cfg.get("ngrams", 1)))
    t0 = time.perf_counter()
    vectorizer.fit(texts)
    t1 = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        vectorizer.transform(texts[i : i + BATCH]).toarray()
    t2 = time.perf_counter()
    return {"adapt": t1 - t0, "call": t2 - t1, "vocabulary": None, "checksum": None}


def worker(texts_path: str, threads: int) -> None:
    """The peer process: reads "<setting>" lines, answers one JSON line of timings each."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    print(json.dumps({"ready": tf.__version__}), flush=True)
    for line in sys.stdin:
        print(json.dumps(run_keras(texts, line.strip())), flush=True)


# ---------------------------------------------------------------------------- the run
def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--texts", type=int, default=25000)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow's threads; 0: its default")
    parser.add_argument("--settings", default="int,tf_idf")
    parser.add_argument("--peer-python", default="/work/tfpeer/bin/python", help='"none": scikit-learn instead')
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.threads)
        return
    sys.path.insert(0, str(ROOT))
    import myelin

    texts = make_texts(args.texts)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts):,} texts, {words:.0f} words each on average; CPU: {_cpu()}, {os.cpu_count()} cores")
    print(f"myelin from {myelin.__file__}, numpy {np.__version__}")
    peer_name, proc = "scikit-learn CountVectorizer", None
    tmp = tempfile.TemporaryDirectory()
    if args.peer_python != "none":
        path = Path(tmp.name) / "texts.json"
        path.write_text(json.dumps(texts), encoding="utf-8")
        proc = subprocess.Popen(
            [args.peer_python, __file__, "--worker", str(path), "--threads", str(args.threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = json.loads(proc.stdout.readline())
        peer_name = f"Keras on TensorFlow {ready['ready']} ({args.threads or 'default'} threads)"
    print(f"peer: {peer_name}")
    print()
    print("| setting | step | myelin s (min-max) | peer s (min-max) | peer / myelin (range) | same vocabulary and outputs |")
    print("|---|---|---|---|---|---|")
    for setting in args.settings.split(","):
        mine, theirs, same = [], [], []
        for _ in range(args.reps):  # alternating, so that the machine's load falls on both
            m = run_myelin(texts, setting)
            if proc is not None:
                proc.stdin.write(setting + "\n")
                proc.stdin.flush()
                p = json.loads(proc.stdout.readline())
            else:
                p = run_sklearn(texts, setting)
            mine.append(m)
            theirs.append(p)
            same.append(
                p["vocabulary"] == m["vocabulary"]
                and p["checksum"] is not None
                and np.allclose(p["checksum"], m["checksum"], rtol=1e-5)  # float32 sums: rounding apart
            )
        for step in ("adapt", "call"):
            a, b = [r[step] for r in mine], [r[step] for r in theirs]
            ratio = [y / x for x, y in zip(a, b)]
            med = statistics.median
            agree = "yes" if all(same) else ("n/a" if proc is None else "NO")
            print(
                f"| {setting} | {step} | {med(a):.2f} ({min(a):.2f}-{max(a):.2f}) | {med(b):.2f} ({min(b):.2f}-{max(b):.2f}) "
                f"| {med(ratio):.2f} ({min(ratio):.2f}-{max(ratio):.2f}) | {agree} |",
                flush=True,
            )
    if proc is not None:
        proc.stdin.close()
        proc.wait(timeout=60)
    tmp.cleanup()


if __name__ == "__main__":
    main()
