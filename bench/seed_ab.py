"""What each of issue 18's changes buys: the seed program's epoch with one change turned off, one variant per process.

Real digits (the 10,000 MNIST test images of ``shared/datasets/mnist``, shuffled with seed 0
and tiled to 60,000), the seed network (Dense 64-64-10, relu/relu/softmax, Adam 1e-3,
categorical cross-entropy with accuracy), ``validation_split=0.2``; one warm-up epoch, then
the shorter of two timed epochs, printed as one JSON line. Variants: ``all``, ``nochain``
(Dense runs keep their nodes), ``nointo`` (gradients copied into the optimizer's buffer),
``noprefetch`` (shuffled batches gathered by the step's thread). Run variants alternately in
fresh processes and compare paired repetitions::

    for rep in 1 2 3 4 5; do for v in all nochain nointo noprefetch; do
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/seed_ab.py $v 32; done; done

``ROOT=/path/to/a/checkout`` measures another checkout's myelin (an older commit, say).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("ROOT", str(HERE.parent)))


def main(variant: str, batch: int) -> dict:
    import myelin
    from myelin import layers
    from myelin.datasets.mnist import read_idx
    from myelin.ops import dense_chain
    from myelin.trainers import epoch_iterator, trainer

    if "nochain" in variant:
        dense_chain.fuse = lambda nodes, order, protected: (nodes, order)
    if "nointo" in variant:
        trainer.Trainer._grad_into = lambda self, plan, training: None
    if "noprefetch" in variant:
        epoch_iterator.PREFETCH_BYTES = 1 << 62
    folder = Path(os.environ.get("BENCH_MNIST_DIR", HERE.parent.parent / "shared" / "datasets" / "mnist"))
    x = read_idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y = read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = np.tile(x[order], (6, 1)), myelin.utils.to_categorical(np.tile(y[order], 6), 10).astype("float32")
    myelin.utils.set_random_seed(0)
    model = myelin.Sequential(
        [
            myelin.Input((784,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(myelin.optimizers.Adam(1e-3), "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, validation_split=0.2)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=batch, epochs=1, verbose=0, validation_split=0.2)
        times.append(time.perf_counter() - start)
    return {"variant": variant, "batch": batch, "s": min(times), "val_acc": history.history["val_accuracy"][-1]}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
