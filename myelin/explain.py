"""Level 4: see inside a network: weighted sums, activations, probabilities and gradients.

:func:`explain` (also ``model.explain``) walks one sample, or a small batch, through a
model one layer at a time, computing exactly what the model computes: for a ``Dense``
layer its input ``a``, the weighted sums ``z = a·W + b`` and the activation ``f(z)``; for the
output the probability of each class and the predicted class. Given the true ``y`` it also
computes the loss and runs the backward pass one layer at a time, keeping every gradient
the chain rule passes along:

    dL/da                 the gradient arriving at a layer's output
    dL/dz = dL/da * f'(z)   through the activation
    dL/dW = aᵀ · dL/dz      the gradient of the weights (plus any weight penalty's)
    dL/db = Σ dL/dz          summed over the samples of the batch
    dL/d(input) = dL/dz · Wᵀ, which is the previous layer's dL/da

How. Each layer runs on a *leaf* copy of its input, so that its output's gradient is kept
in that leaf's ``.grad``. A ``Dense`` layer runs in two recorded parts, the weighted sums
(the layer's ``x @ kernel + bias``) and the activation on a leaf copy of ``z``, with the
same array operations as its fused forward, so the numbers are identical to
``model.predict``'s and the gradients to ``backward()``'s on the whole model (the tests
compare them exactly). The loss is the model's compiled loss plus its weight and activity
penalties, computed in inference mode (``Dropout`` passes its input through), as
``evaluate`` computes it. Other layers (``Activation``, ``Dropout``, ``Flatten``, custom ones)
run as themselves: a custom layer shows its input, output and weight gradients only.
Convolution and pooling layers also give their feature maps, channel by channel, ranked
strongest first; attention layers their scores per head (the layer called with
``return_attention_scores=True``); recurrent layers their hidden state at every time step
(:mod:`myelin.explain_layers`).

Sequential models and functional graphs (nested ones included) are walked layer by layer;
a subclassed model's ``call`` is Python code, so it is shown as one step.

Example:
    >>> import numpy as np
    >>> import myelin
    >>> from myelin import layers
    >>> model = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(2, activation="softmax", name="out")])
    >>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    >>> e = model.explain([1.0, 2.0], y=1, class_names=["no", "yes"])
    >>> bool(np.allclose(e["out"]["z"], np.array([[1.0, 2.0]]) @ model.layers[0].kernel.data))
    True
    >>> e.predicted_names in (["no"], ["yes"])
    True
    >>> e["out"]["grad_kernel"].shape
    (2, 2)
"""

# Over 800 lines because the walk, its per-layer-kind descriptions and the printed report explain one pass together.
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import losses as losses_module
from . import ops
from .backend import array_module
from .explain_layers import channel_axis, feature_maps, hidden_states, layer_kind
from .layers.attention import AdditiveAttention, Attention, GroupedQueryAttention, MultiHeadAttention
from .layers.base import InputLayer, Layer, snake_case
from .layers.core import Activation, Dense, Dropout, Flatten, LeakyReLU, ReLU, Reshape, Softmax
from .tensor import Tensor, enable_grad, no_grad

# Vectors longer than this are shown as their first and last values and a summary.
MAX_ITEMS = 16
# Batches larger than this are reported sample by sample only for the first few.
MAX_SAMPLES = 4
# The sections of the text report, in order.
PARTS = ("forward", "output", "loss", "backward")


# ---------------------------------------------------------------------------- the walk
@dataclass
class Step:
    """One layer call of the walk: what went in, what came out, and (with ``y``) the gradients.

    ``inputs`` are leaves of this step's own (so each input's ``.grad`` is what this layer
    alone sends back); ``value`` is a leaf holding the output for the loss and penalties, and
    ``consumers`` the leaves handed to the layers that use the output. After the backward
    pass ``grad_output`` (dL/da) is the sum of their gradients. For a Dense layer ``z`` is a
    leaf holding the weighted sums (``z.grad`` is dL/dz) and ``z_graph`` records ``z`` from
    the input.

    Example:
        >>> Step(1, "dense", Layer(name="x"), "other", ["x"], [], None, None, None, None, None).index
        1
    """

    index: int
    name: str
    layer: Layer
    kind: str  # "dense", "activation", "dropout", "reshape", "attention", "conv", "pooling", "global_pooling",
    # "normalization", "recurrent", "model" or "other"
    sources: list[str]
    inputs: list[Tensor]
    z_graph: Tensor | None
    z: Tensor | None
    out: Tensor | None
    value: Tensor | None
    activation: str | None
    consumers: list = field(default_factory=list)
    grad_output: object = None
    is_output: bool = False  # the model's output: the loss reads it
    attention: Tensor | None = None  # an attention layer's probabilities (batch, [heads,] target, source)
    channel_axis: int = -1  # the output axis that holds the units (a conv layer's channels)
    hidden: np.ndarray | None = None  # a recurrent layer's hidden state at every step (batch, time, units)


def _structure(model) -> str | None:
    """Which kind of model: "sequential", "functional", or None when its call() is Python code."""
    if getattr(model, "_functional", False):
        return "functional"
    if hasattr(model, "_stack"):
        return "sequential"
    return None


def _activation_name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _kind(layer: Layer) -> tuple[str, str | None]:
    """The kind of step a layer makes, and its activation's name where it has one.

    Exact types only: a subclass may compute something else in its own ``call``.
    """
    cls = type(layer)
    if cls is Dense:
        return "dense", _activation_name(layer.activation)
    if cls is Activation:
        return "activation", _activation_name(layer.activation)
    if cls in (ReLU, LeakyReLU, Softmax):
        return "activation", snake_case(cls.__name__)
    if cls is Dropout:
        return "dropout", None
    if cls in (MultiHeadAttention, GroupedQueryAttention, Attention, AdditiveAttention):
        return "attention", None
    if cls in (Flatten, Reshape):
        return "reshape", None
    spatial = layer_kind(layer)
    if spatial == "conv":
        return "conv", _activation_name(layer.activation)
    if spatial is not None:
        return spatial, None
    if _structure(layer) is None and hasattr(layer, "compile"):
        return "model", None
    return "other", None


class _Walk:
    """Runs a model layer by layer on leaves, recording a :class:`Step` per layer call.

    A value flowing between layers is ``(producer step or None, symbol, tensor)``: the model's
    inputs have no producer; every consumer of a layer's output gets a leaf of its own.
    """

    def __init__(self, track: bool, hidden: bool = True):
        self.track = track
        self.hidden = hidden  # compute recurrent layers' hidden states over time (one more run of each)
        self.steps: list[Step] = []
        self._uses: dict[int, int] = {}

    def model(self, model, inputs: list[tuple], prefix: str = "") -> list[tuple]:
        """Walk ``model`` on ``inputs``; return its outputs as values."""
        structure = _structure(model)
        if structure == "sequential":
            values = inputs
            for layer in model.layers:
                values = self.layer(layer, values, prefix)
            return values
        if structure == "functional":
            if len(inputs) != len(model.inputs):
                raise ValueError(f"explain: model {model.name!r} expects {len(model.inputs)} input(s), got {len(inputs)}")
            known = {id(sym): v for sym, v in zip(model.inputs, inputs)}
            for layer, input_ids, out_id in model._nodes:
                known[out_id] = self.layer(layer, [known[i] for i in input_ids], prefix)[0]
            return [known[id(o)] for o in model.outputs]
        return self.layer(model, inputs, prefix)  # a subclassed model: one step

    def _leaf(self, value: tuple) -> Tensor:
        producer, _, tensor = value
        if producer is None:
            return tensor
        leaf = Tensor._wrap(tensor.data, self.track)
        leaf._keras_mask = tensor._keras_mask  # a mask (Embedding(mask_zero=True), Masking) goes on as in predict
        producer.consumers.append(leaf)
        return leaf

    def layer(self, layer: Layer, inputs: list[tuple], prefix: str) -> list[tuple]:
        if isinstance(layer, InputLayer):
            return inputs
        if _structure(layer) is not None:  # a nested Sequential or functional model: walk into it
            return self.model(layer, inputs, prefix=f"{prefix}{layer.name}/")
        kind, activation = _kind(layer)
        uses = self._uses[id(layer)] = self._uses.get(id(layer), 0) + 1
        name = f"{prefix}{layer.name}" + (f"#{uses}" if uses > 1 else "")
        index = len(self.steps) + 1
        leaves = [self._leaf(v) for v in inputs]
        z_graph = z = attention = hidden = None
        if kind == "recurrent" and self.hidden:  # before the call: a stateful layer's states move on in it
            hidden = hidden_states(layer, leaves[0])
        if kind == "attention":  # the same call, asking for the probabilities too
            out, attention = layer(leaves[0] if len(leaves) == 1 else leaves, training=False, return_attention_scores=True)
            if layer.activity_regularizer is not None and layer._call_losses:
                layer._call_losses.pop()  # the output's penalty (added last), recomputed below from the output's leaf
        elif kind == "dense":
            if len(leaves) != 1:
                raise ValueError(f"explain: Dense layer {layer.name!r} takes one input, got {len(leaves)}")
            layer._maybe_build(leaves[0].shape)
            z_graph = ops.dense(leaves[0], layer.kernel, layer.bias, "linear")  # the layer's x @ kernel + bias
            z = Tensor._wrap(z_graph.data, self.track)
            out = layer.activation(z)
        else:
            out = layer(leaves[0] if len(leaves) == 1 else leaves, training=False)
            if layer.activity_regularizer is not None and layer._call_losses:
                layer._call_losses.pop()  # recomputed below from the output's leaf
        if not isinstance(out, Tensor):
            raise ValueError(
                f"explain: layer {layer.name!r} ({type(layer).__name__}) returned {type(out).__name__}; "
                "explain follows layers that return one tensor"
            )
        value = Tensor._wrap(out.data, self.track)
        value._logits = out._logits  # a softmax/sigmoid output keeps its logits for a fused, exact loss
        value._keras_mask = out._keras_mask
        if self.track and layer.activity_regularizer is not None:
            layer._call_losses.append(layer.activity_regularizer(value))
        sources = [symbol for _, symbol, _ in inputs]
        axis = channel_axis(layer, kind)
        if kind in ("activation", "dropout") and len(inputs) == 1 and inputs[0][0] is not None:
            axis = inputs[0][0].channel_axis  # an activation after a channels_first conv counts its channels
        step = Step(index, name, layer, kind, sources, leaves, z_graph, z, out, value, activation)
        step.attention, step.channel_axis, step.hidden = attention, axis, hidden
        self.steps.append(step)
        return [(step, f"a{index}", value)]

    def backward(self, total: Tensor) -> None:
        """The backward pass, one layer at a time from the loss down (reverse order of the walk)."""
        total.backward()
        for step in reversed(self.steps):
            grads = [t.grad for t in [*step.consumers, step.value] if t.grad is not None]
            g = None
            for part in grads:
                g = part if g is None else g + part
            step.grad_output = g
            if g is not None and step.out.requires_grad:
                step.out.backward(g)  # dL/da -> dL/dz (Dense) or dL/d(input) and the layer's weights
            if step.z is not None and step.z.grad is not None and step.z_graph.requires_grad:
                step.z_graph.backward(step.z.grad)  # dL/dz -> dL/dW, dL/db, dL/d(input)


def walk(model, x, track: bool = False, hidden_states: bool = True) -> tuple[list[Step], list[Tensor]]:
    """Run ``model`` on ``x`` layer by layer; return the steps and the output leaves.

    ``x`` is a batch (an array, or a list of arrays for several inputs) already shaped for
    the model. With ``track=False`` nothing is recorded for a backward pass. With
    ``hidden_states=False`` recurrent layers run once, without computing their hidden
    state at every step (``Step.hidden`` stays None).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(4, activation="relu"), layers.Dense(2)])
        >>> steps, outputs = walk(m, np.ones((5, 3), dtype=np.float32))
        >>> [s.kind for s in steps], outputs[0].shape
        (['dense', 'dense'], (5, 2))
    """
    w, outputs = _run(model, x, track, hidden_states)
    return w.steps, outputs


def _run(model, x, track: bool, hidden: bool = True) -> tuple[_Walk, list[Tensor]]:
    xs = x if isinstance(x, (list, tuple)) else [x]
    leaves = [Tensor._wrap(a.data if isinstance(a, Tensor) else a, False) for a in xs]
    names = ["x"] if len(leaves) == 1 else [f"x{i + 1}" for i in range(len(leaves))]
    w = _Walk(track, hidden)
    with enable_grad() if track else no_grad():
        outputs = w.model(model, [(None, name, leaf) for name, leaf in zip(names, leaves)])
    for producer, _, _ in outputs:
        if producer is not None:
            producer.is_output = True
    return w, [tensor for _, _, tensor in outputs]


def layer_weights(model, prefix: str = "") -> list[tuple[str, Layer, list]]:
    """``(name, layer, trainable weights)`` for each layer that has any, nested models walked into.

    Names are those of :func:`explain` (``"block/inner"`` for a layer of a nested model
    ``block``). Used by the training diagnostics and the model gradient check.

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(2,)), layers.Dense(3, name="h"), layers.Dropout(0.1)])
        >>> [(name, len(ws)) for name, _, ws in layer_weights(m)]
        [('h', 2)]
    """
    out = []
    own = [w for w in model._weights if w.requires_grad] if model.trainable else []
    if own:  # weights a subclassed model created itself, outside its layers
        out.append((f"{prefix}{model.name}", model, own))
    for layer in model.layers:
        if _structure(layer) is not None:
            out += layer_weights(layer, f"{prefix}{layer.name}/")
        elif layer.trainable_weights:
            out.append((f"{prefix}{layer.name}", layer, layer.trainable_weights))
    return out


# ---------------------------------------------------------------------------- outputs
def _output_kind(value: Tensor, loss) -> tuple[str, np.ndarray | None]:
    """How to read an output: "softmax", "sigmoid" (probabilities), or "values" (regression)."""
    record = value._logits
    if record is not None:
        return record[0], _numpy(value)
    if getattr(loss, "from_logits", False):
        # The model outputs logits and its loss applies softmax/sigmoid: show those probabilities.
        with no_grad():
            if isinstance(loss, losses_module.BinaryCrossentropy):
                return "sigmoid of logits", _numpy(ops.sigmoid(value))
            return "softmax of logits", _numpy(ops.softmax(value))
    return "values", None


def _predict(kind: str, probabilities: np.ndarray | None):
    if probabilities is None:
        return None
    if kind.startswith("softmax"):
        return probabilities.reshape(len(probabilities), -1).argmax(axis=-1)
    flat = probabilities.reshape(len(probabilities), -1)
    if flat.shape[1] == 1:
        return (flat[:, 0] >= 0.5).astype(np.int64)
    return flat >= 0.5  # several independent sigmoids: multi-label


def _check_class_names(class_names, kind: str, width: int, where: str) -> list[str] | None:
    if class_names is None or kind == "values":
        return None
    names = [str(c) for c in class_names]
    expected = 2 if kind.startswith("sigmoid") and width == 1 else width
    if len(names) != expected:
        hint = "one sigmoid unit: give the names of class 0 and class 1" if width == 1 else "one name per unit"
        raise ValueError(f"explain: class_names has {len(names)} names but {where} has {expected} classes ({hint})")
    return names


# ---------------------------------------------------------------------------- the result
@dataclass
class Explanation:
    """What :func:`explain` found: ``str()`` is a readable report, ``to_dict()`` the arrays.

    Index it by layer name for that layer's arrays (``e["hidden_1"]["z"]``). Arrays have the
    batch axis first, even for one sample. With ``y``: ``loss`` (the batch's loss, as ``fit``
    minimises it), ``sample_losses`` and each layer's gradients.

    Example:
        >>> e = Explanation(model_name="m", inputs=[np.zeros((1, 2))], layers={}, steps=[], outputs=[])
        >>> e.to_dict()["layers"]
        {}
    """

    model_name: str
    inputs: list
    layers: dict
    steps: list
    outputs: list  # per output: {"name", "values", "kind", "probabilities", "predicted", "class_names", ...}
    loss: float | None = None
    data_loss: float | None = None
    penalty: float | None = None
    loss_names: list = field(default_factory=list)
    sample_losses: np.ndarray | None = None
    targets: list | None = None
    single: bool = False
    model: object = field(default=None, repr=False, compare=False)  # the model explained (for plots)

    def __getitem__(self, name: str) -> dict:
        try:
            return self.layers[name]
        except KeyError:
            raise KeyError(f"explain: no layer {name!r}; the layers walked are {list(self.layers)}") from None

    @property
    def output(self) -> np.ndarray:
        """The model's (first) output, as ``model.predict`` gives it."""
        return self.outputs[0]["values"]

    @property
    def probabilities(self) -> np.ndarray | None:
        """The (first) output's class probabilities, or None for a regression output."""
        return self.outputs[0]["probabilities"]

    @property
    def predicted(self) -> np.ndarray | None:
        """The predicted class of each sample (first output), or None for a regression output."""
        return self.outputs[0]["predicted"]

    @property
    def predicted_names(self) -> list | None:
        """The predicted classes' names, when the class names are known."""
        return self.outputs[0]["predicted_names"]

    def to_dict(self) -> dict:
        """Plain arrays for code: input, each layer's arrays, outputs, and (with ``y``) loss and gradients.

        Example:
            >>> Explanation("m", [np.zeros((1, 2))], {}, [], []).to_dict()["input"].shape
            (1, 2)
        """
        single = len(self.outputs) == 1

        def pick(key):
            values = [o[key] for o in self.outputs]
            return values[0] if single else values

        out = {
            "input": self.inputs[0] if len(self.inputs) == 1 else list(self.inputs),
            "layers": {name: dict(entry) for name, entry in self.layers.items()},
            "output": pick("values"),
            "output_kind": pick("kind"),
            "probabilities": pick("probabilities"),
            "predicted": pick("predicted"),
            "predicted_names": pick("predicted_names"),
            "class_names": pick("class_names"),
        }
        if self.loss is not None:
            out.update(
                loss=self.loss,
                data_loss=self.data_loss,
                penalty=self.penalty,
                sample_losses=self.sample_losses,
                y=self.targets[0] if len(self.targets) == 1 else list(self.targets),
            )
        return out

    def report(self, max_samples: int = MAX_SAMPLES, parts=PARTS) -> str:
        """The walk-through as text: the forward pass, the prediction and (with ``y``) the backward pass.

        ``parts`` picks sections among ``"forward"`` (the input and each layer's weighted sums
        and activations), ``"output"`` (probabilities and prediction), ``"loss"`` and
        ``"backward"`` (both need ``y``). ``max_samples`` bounds the samples shown one by one.

        Example:
            >>> e = Explanation("m", [np.zeros((1, 2))], {}, [], [])
            >>> e.report(parts=("forward",)).splitlines()[0]
            'explain: model "m", 1 sample'
        """
        unknown = set(parts) - set(PARTS)
        if unknown:
            raise ValueError(f"Explanation.report: unknown part(s) {sorted(unknown)}; the parts are {list(PARTS)}")
        return "\n".join(_report_lines(self, max_samples, tuple(parts)))

    def __str__(self) -> str:
        return self.report()

    def __repr__(self) -> str:
        return self.report()


# ---------------------------------------------------------------------------- explain
def _batch(model, x, y, loss=None, check_finite: bool = True) -> tuple[list, list | None, bool]:
    """x (and y) as model-ready batches, and whether one sample without its batch axis was given."""
    several_inputs = isinstance(x, (list, tuple)) and bool(x) and isinstance(x[0], (np.ndarray, Tensor))
    xs = [_numpy(a) for a in (x if several_inputs else [x])]
    expected = model.input_shape if model.built else None
    expected = expected if isinstance(expected, list) else [expected]
    if expected[0] is not None and len(expected) == len(xs):
        single = all(a.ndim == len(e) - 1 for a, e in zip(xs, expected))
    else:
        single = xs[0].ndim == 1  # an unbuilt model and a vector: one sample
    if single:
        xs = [a[None] for a in xs]
    x_batch = xs if several_inputs else xs[0]
    if y is None:
        xs = model._prepare_x(x_batch, check_finite=check_finite, method="explain")
        model._ensure_built(xs)
        return xs, None, single
    several_outputs = getattr(model, "_functional", False) and not model._single_output
    ys = [_numpy(a) for a in (y if several_outputs and isinstance(y, (list, tuple)) else [y])]
    if single:
        ys = [a[None] for a in ys]
    xs, ys, _ = model._prepare_xy(x_batch, ys if several_outputs else ys[0], check_finite=check_finite, method="explain")
    model._ensure_built(xs)
    if loss is None and model.compiled:
        model._check_targets(ys)  # labels out of range, one-hot widths: the errors fit gives
    return xs, model._shape_targets(ys), single  # the targets as fit passes them to the loss


def _numpy(a) -> np.ndarray | None:
    """A NumPy copy of a Tensor's or an array's values (None stays None)."""
    if a is None:
        return None
    if isinstance(a, Tensor):
        a = a.data
    return np.array(a, copy=True) if array_module(a).__name__ == "numpy" else a.get()


def _loss_objects(model, loss, n_outputs: int, names: list[str], required: bool) -> tuple[list, list[float]]:
    """The loss of each output and its weight: ``loss`` if given, else the compiled ones."""
    if loss is not None:
        return [losses_module.get(loss)] * n_outputs, [1.0] * n_outputs
    compiled = model._compiled_loss
    if compiled is None:
        if required:
            raise ValueError(
                f"explain: y was given but model {model.name!r} is not compiled, so it has no loss; "
                "compile it first or pass loss=..., e.g. loss='sparse_categorical_crossentropy'"
            )
        return [None] * n_outputs, [1.0] * n_outputs
    if compiled._losses is None:
        compiled.resolve(names)
    return list(compiled._losses), list(compiled._weights)


def explain(model, x, y=None, class_names=None, loss=None, check_finite: bool = True) -> Explanation:
    """Walk ``x`` (one sample, or a small batch) through ``model`` layer by layer.

    Arguments:
        model: a ``Sequential`` or functional ``Model``, built or not (a subclassed model
            is shown as one step).
        x: one sample (without the batch axis, e.g. ``[37.3, 16.8, 19.2, 30.0]``) or a batch.
        y: the true target(s) of ``x``, in the form ``fit`` takes them. Adds the loss and
            the backward pass: the gradient of the loss with respect to every layer's
            output, weighted sums, weights and biases.
        class_names: a name per class (per output unit; two names for one sigmoid unit).
            Defaults to ``model.class_names`` when the model has that attribute.
        loss: the loss to use instead of the compiled one (needed with ``y`` for an
            uncompiled model).
        check_finite: refuse NaN and infinite values in ``x`` and ``y`` (as ``fit`` does);
            ``False`` lets them through, to see where they go.

    Returns an :class:`Explanation`: print it for the report, index it by layer name or
    call ``to_dict()`` for the arrays. The loss and gradients are those of the batch's
    mean loss plus the model's penalties, exactly what one ``fit`` step would use
    (in inference mode: ``Dropout`` is off).

    Example:
        >>> import myelin
        >>> from myelin import layers
        >>> m = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation="relu", name="h")])
        >>> e = explain(m, [1.0, -1.0, 0.5])
        >>> e["h"]["z"].shape, e["h"]["activation"]
        ((1, 2), 'relu')
    """
    xs, ys, single = _batch(model, x, y, loss, check_finite)
    track = ys is not None
    weights = model.weights
    saved_grads = [w.grad for w in weights]
    for w in weights:
        w.grad = None
    model._clear_call_losses()
    try:
        w, outputs = _run(model, xs, track)
        names = model._output_names(len(outputs))
        loss_objs, loss_weights = _loss_objects(model, loss, len(outputs), names, required=track)
        result = _collect(model, xs, w.steps, outputs, names, loss_objs, class_names)
        result.single = single
        if not track:
            return result
        with enable_grad():
            data_loss = _data_loss(loss_objs, loss_weights, ys, outputs)
            total = data_loss
            for penalty in model.losses:
                total = ops.add(total, penalty)
        w.backward(total)
        result.loss = float(total.data)
        result.data_loss = float(data_loss.data)
        result.penalty = result.loss - result.data_loss if total is not data_loss else 0.0
        result.loss_names = [getattr(lo, "name", type(lo).__name__) for lo in loss_objs if lo is not None]
        result.sample_losses = _sample_losses(loss_objs, loss_weights, ys, outputs)
        result.targets = [_numpy(a) for a in ys]
        _collect_gradients(result, w.steps)
        return result
    finally:
        model._clear_call_losses()
        for weight, g in zip(weights, saved_grads):
            weight.grad = g


def _data_loss(loss_objs, loss_weights, ys, outputs) -> Tensor:
    total = None
    for lo, weight, y, out in zip(loss_objs, loss_weights, ys, outputs):
        if lo is None:
            continue
        value = lo(y, out)
        if weight != 1.0:
            value = ops.mul(value, weight)
        total = value if total is None else ops.add(total, value)
    if total is None:
        raise ValueError("explain: the model's loss is None for every output; there is nothing to differentiate")
    return total


def _sample_losses(loss_objs, loss_weights, ys, outputs) -> np.ndarray:
    """Each sample's own loss (the loss function before the batch mean), summed over the outputs."""
    total = None
    with no_grad():
        for lo, weight, y, out in zip(loss_objs, loss_weights, ys, outputs):
            if lo is None:
                continue
            per = _numpy(lo.call(y, out)).astype(np.float64)
            per = per.reshape(len(per), -1).mean(axis=1) * weight
            total = per if total is None else total + per
    return total


def _collect(model, xs, steps, outputs, names, loss_objs, class_names) -> Explanation:
    layers: dict = {}
    for step in steps:
        entry = {
            "index": step.index,
            "type": type(step.layer).__name__,
            "kind": step.kind,
            "input": _numpy(step.inputs[0]) if len(step.inputs) == 1 else [_numpy(t) for t in step.inputs],
            "output": _numpy(step.value),
        }
        if step.kind == "dense":
            entry["kernel"] = _numpy(step.layer.kernel)
            entry["bias"] = _numpy(step.layer.bias)
            entry["z"] = _numpy(step.z)
        if step.activation is not None:
            entry["activation"] = step.activation
        if step.kind == "dropout":
            entry["rate"] = step.layer.rate
        if step.attention is not None:
            entry["attention_scores"] = _numpy(step.attention)
        if step.kind in ("conv", "pooling"):
            entry["data_format"] = step.layer.data_format
            entry.update(feature_maps(entry["output"], step.layer.data_format))
        if step.hidden is not None:
            entry["hidden_states"] = step.hidden
        layers[step.name] = entry
    if class_names is None:
        class_names = getattr(model, "class_names", None)
    per_output = []
    for i, (value, name, lo) in enumerate(zip(outputs, names, loss_objs)):
        kind, probabilities = _output_kind(value, lo)
        width = int(np.prod(value.shape[1:])) if value.ndim > 1 else 1
        given = class_names[i] if len(outputs) > 1 and class_names is not None else class_names
        where = f"output {name!r}" if len(outputs) > 1 else "the output"
        cnames = _check_class_names(given, kind, width, where)
        predicted = _predict(kind, probabilities)
        predicted_names = None
        if cnames is not None and predicted is not None and predicted.dtype != bool:
            predicted_names = [cnames[int(p)] for p in predicted]
        per_output.append(
            {
                "name": name,
                "values": _numpy(value),
                "kind": kind,
                "probabilities": probabilities,
                "predicted": predicted,
                "predicted_names": predicted_names,
                "class_names": cnames,
            }
        )
    return Explanation(model.name, [_numpy(a) for a in xs], layers, steps, per_output, model=model)


def _collect_gradients(result: Explanation, steps: list[Step]) -> None:
    for step in steps:
        entry = result.layers[step.name]
        entry["grad_output"] = _numpy(step.grad_output)
        grads_in = [_numpy(t.grad) for t in step.inputs]
        entry["grad_input"] = grads_in[0] if len(grads_in) == 1 else grads_in
        if step.kind == "dense":
            entry["grad_z"] = _numpy(step.z.grad)
            entry["grad_kernel"] = _numpy(step.layer.kernel.grad)
            entry["grad_bias"] = _numpy(step.layer.bias.grad) if step.layer.bias is not None else None
        entry["grad_weights"] = {w.name: _numpy(w.grad) for w in step.layer.weights}
        entry["penalized"] = bool(step.layer._regularizers) or step.layer.activity_regularizer is not None


# ---------------------------------------------------------------------------- the report
def _fmt_number(v: float, fixed: bool) -> str:
    return f"{v:8.3f}" if fixed else f"{v:10.3e}"


def _fixed(values: np.ndarray) -> bool:
    finite = np.abs(values[np.isfinite(values)])
    nonzero = finite[finite > 0]
    return not nonzero.size or (nonzero.min() >= 5e-4 and nonzero.max() < 1e5)


def format_vector(values, max_items: int = MAX_ITEMS) -> str:
    """A vector as ``[v1, v2, ...]``; long ones as their first values, the last and a summary.

    Example:
        >>> format_vector([37.3, 16.8])
        '[  37.300,   16.800]'
        >>> format_vector(np.arange(20.0), max_items=4)
        '[   0.000,    1.000,    2.000, …,   19.000] (20 values: min 0.000, max 19.000, mean 9.500)'
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1) + 0.0  # + 0.0 turns -0.0 into 0.0
    fixed = _fixed(v)
    if v.size <= max_items:
        return "[" + ", ".join(_fmt_number(a, fixed).strip().rjust(8) for a in v) + "]"
    head = ", ".join(_fmt_number(a, fixed).strip().rjust(8) for a in v[: max_items - 1])
    tail = _fmt_number(v[-1], fixed).strip().rjust(8)
    stats = f"min {_short(v.min())}, max {_short(v.max())}, mean {_short(v.mean())}"
    return f"[{head}, …, {tail}] ({v.size} values: {stats})"


def _short(v: float) -> str:
    return f"{v:.3f}" if v == 0 or 5e-4 <= abs(v) < 1e5 else f"{v:.3e}"


def _matrix_summary(m: np.ndarray, symbol: str) -> str:
    m = np.asarray(m, dtype=np.float64)
    if not np.all(np.isfinite(m)):
        return f"shape {m.shape}, contains non-finite values"
    norm = float(np.sqrt((m * m).sum()))
    at = np.unravel_index(int(np.abs(m).argmax()), m.shape) if m.size else ()
    where = ", ".join(str(int(i)) for i in at)
    largest = float(m[at]) if m.size else 0.0
    return f"shape {m.shape}, norm {_short(norm)}, largest {_short(largest)} at {symbol}[{where}]"


def _rows(label: str, array, shown: int, indent: str = "    ") -> list[str]:
    """``label = [...]`` for one sample; one line per sample for a batch."""
    a = np.asarray(array)
    if len(a) == 1:
        return [f"{indent}{label} = {format_vector(a[0])}"]
    lines = [f"{indent}{label}:"]
    for i in range(min(shown, len(a))):
        lines.append(f"{indent}  sample {i}: {format_vector(a[i])}")
    if len(a) > shown:
        lines.append(f"{indent}  ... {len(a) - shown} more samples (all of them are in to_dict())")
    return lines


def _describe(step: Step) -> str:
    layer = step.layer
    kind = step.kind
    if kind == "dense":
        return f"{type(layer).__name__}, {layer.units} neuron{'s' if layer.units != 1 else ''}, {step.activation}"
    if kind == "activation":
        return f"{type(layer).__name__}, {step.activation}"
    if kind == "dropout":
        return f"Dropout, rate {layer.rate:g}: off at inference, output = input"
    if kind == "reshape":
        return f"{type(layer).__name__}: a change of shape only"
    if kind == "attention":
        heads = getattr(layer, "num_heads", None) or getattr(layer, "num_query_heads", None)
        return f"{type(layer).__name__}{f', {heads} heads' if heads else ''}: each query position's weights over the keys"
    if kind == "conv":
        size = "×".join(str(k) for k in layer.kernel_size)
        filters = getattr(layer, "filters", None)
        per = getattr(layer, "depth_multiplier", 1)
        what = (
            f"{filters} filters of {size}"
            if filters
            else f"{size} windows, {per} filter{'s' if per != 1 else ''} per input channel"
        )
        return f"{type(layer).__name__}, {what}, {step.activation}"
    if kind == "pooling":
        size = "×".join(str(k) for k in layer.pool_size)
        how = "the largest value" if layer._mode == "max" else "the mean"
        return f"{type(layer).__name__}, {size} windows: {how} of each window, channel by channel"
    if kind == "global_pooling":
        how = "largest value" if "Max" in type(layer).__name__ else "mean"
        return f"{type(layer).__name__}: the {how} of each channel over all positions"
    if kind == "normalization":
        return f"{type(layer).__name__}: each channel standardised with the statistics of inference, then scaled and shifted"
    if kind == "recurrent":
        inner = layer.forward_layer if type(layer).__name__ == "Bidirectional" else layer
        units = getattr(inner.cell, "units", None)
        both = ", both directions" if inner is not layer else ""
        size = f", {units} units" if units else ""
        return f"{type(layer).__name__}{size}{both}: reads the sequence step by step, carrying a hidden state"
    if kind == "model":
        return f"{type(layer).__name__}, a subclassed model: its call() is Python code, so only its input and output are shown"
    return f"{type(layer).__name__}: a layer explain cannot see into; only its input and output are shown"


def _report_lines(e: Explanation, shown: int, parts: tuple = PARTS) -> list[str]:
    n = len(e.inputs[0])
    lines = [f'explain: model "{e.model_name}", {n} sample{"s" if n != 1 else ""}']
    if "forward" in parts:
        lines += _forward_lines(e, shown)
    if "output" in parts:
        lines.append("")
        for out in e.outputs:
            lines += _output_lines(out, shown, len(e.outputs) > 1)
    if e.loss is not None and "loss" in parts:
        lines.append("")
        lines += _loss_lines(e, shown)
    if e.loss is not None and "backward" in parts:
        lines.append("")
        lines += _backward_lines(e, shown)
    return lines


def _forward_lines(e: Explanation, shown: int) -> list[str]:
    n = len(e.inputs[0])
    lines = []
    input_names = ["x"] if len(e.inputs) == 1 else [f"x{i + 1}" for i in range(len(e.inputs))]
    for name, x in zip(input_names, e.inputs):
        x = np.asarray(x)
        shape = f" ({'×'.join(str(d) for d in x.shape[1:])} per sample)" if x.ndim > 2 else ""
        lines += _rows(f"input {name}{shape}", x.reshape(len(x), -1), shown, indent="  ")
    lines.append("")
    lines.append("forward pass: each layer's weighted sums and activations")
    for step in e.steps:
        entry = e.layers[step.name]
        k, src = step.index, " + ".join(step.sources)
        lines.append(f"  layer {k}: {step.name} ({_describe(step)})")
        if step.kind == "dense":
            bias = f" + b{k}" if step.layer.bias is not None else ""
            lines += _rows(f"weighted sums  z{k} = {src}·W{k}{bias}", entry["z"], shown)
            if step.activation == "linear":
                lines += _rows(f"output         a{k} = z{k} (linear)", entry["output"], shown)
            else:
                lines += _rows(f"activations    a{k} = {step.activation}(z{k})", entry["output"], shown)
            lines += _firing(step, entry["output"])
        elif step.kind == "activation":
            lines += _rows(f"activations    a{k} = {step.activation}({src})", entry["output"], shown)
            lines += _firing(step, entry["output"])
        elif step.kind == "attention":
            lines += _attention_lines(k, np.asarray(entry["attention_scores"]), shown)
            lines += _rows(f"output         a{k}", np.asarray(entry["output"]).reshape(n, -1), shown)
        elif step.kind in ("conv", "pooling"):
            lines += _feature_map_lines(step, entry, shown)
        elif step.kind == "recurrent":
            lines += _hidden_lines(k, entry["hidden_states"], shown)
            lines += _rows(f"output         a{k}", np.asarray(entry["output"]).reshape(n, -1), shown)
        elif step.kind in ("reshape", "dropout"):
            out = np.asarray(entry["output"])
            lines.append(f"    a{k} = {src}, shape {out.shape[1:]} per sample")
        else:
            lines += _rows(f"output         a{k}", np.asarray(entry["output"]).reshape(n, -1), shown)
    return lines


def _firing(step: Step, output) -> list[str]:
    if step.activation != "relu":
        return []
    out = np.moveaxis(np.asarray(output), step.channel_axis, -1)
    fired = (out > 0).reshape(-1, out.shape[-1]).any(axis=0)  # a unit (a channel) fires at some position
    units = "channels" if step.kind == "conv" or out.ndim > 2 else "neurons"
    where = " at some position" if out.ndim > 2 else ""
    if len(out) == 1:
        return [f"    ({int(fired.sum())} of {fired.size} {units} fire{where}: relu passes z > 0 on and stops the rest)"]
    return [f"    ({int(fired.sum())} of {fired.size} {units} fire{where} for at least one sample)"]


# Feature maps: channels listed per sample, and the strongest map printed when it is this small.
MAX_CHANNELS = 8
MAX_MAP = 12
# Attention: queries printed per head; recurrent layers: time steps printed.
MAX_QUERIES = 8
MAX_STEPS = 8


def _feature_map_lines(step: Step, entry: dict, shown: int) -> list[str]:
    k = step.index
    maps, strength, order = entry["feature_maps"], entry["channel_strength"], entry["channel_order"]
    channels, positions = maps.shape[1], maps.shape[2:]
    size = "×".join(str(d) for d in positions)
    lines = [
        f"    feature maps   a{k}: {channels} channel{'s' if channels != 1 else ''} of {size} ({entry['data_format']}), "
        "strongest first (mean |a| over the positions, and the largest value):"
    ]
    for i in range(min(shown, len(maps))):
        listed = [
            f"ch {int(c)} {_short(float(strength[i, c]))} (max {_short(float(maps[i, c].max()))})"
            for c in order[i][:MAX_CHANNELS]
        ]
        more = f", … {channels - MAX_CHANNELS} more" if channels > MAX_CHANNELS else ""
        prefix = f"sample {i}: " if len(maps) > 1 else ""
        lines.append(f"      {prefix}{', '.join(listed)}{more}")
    if len(maps) > shown:
        lines.append(f"      ... {len(maps) - shown} more samples (all of them are in to_dict())")
    best = int(order[0][0])
    grid = maps[0, best]
    if grid.ndim <= 2 and max(grid.shape) <= MAX_MAP:
        lines.append(f"    the strongest map of sample 0, channel {best}:")
        for row in np.atleast_2d(grid):
            lines.append("      " + " ".join(_fmt_number(float(v) + 0.0, True) for v in row))
    return lines + _firing(step, entry["output"])


def _attention_lines(k: int, scores: np.ndarray, shown: int) -> list[str]:
    n = len(scores)
    per_head = scores if scores.ndim == 4 else scores[:, None]
    heads, queries, keys = per_head.shape[1:]
    head_text = f"{heads} head{'s' if heads != 1 else ''}, " if scores.ndim == 4 else ""
    lines = [
        f"    attention scores p{k} ({head_text}{queries} queries × {keys} keys; each query's weights sum to 1, "
        "the key it attends to most marked):"
    ]
    for i in range(min(shown, n)):
        for h in range(heads):
            parts = (f"sample {i}" if n > 1 else "", f"head {h}" if scores.ndim == 4 else "")
            label = ", ".join(part for part in parts if part)
            indent = "      "
            if label:
                lines.append(f"      {label}:")
                indent = "        "
            for q in range(min(queries, MAX_QUERIES)):
                row = per_head[i, h, q]
                lines.append(f"{indent}query {q}: {format_vector(row)} -> key {int(np.argmax(row))}")
            if queries > MAX_QUERIES:
                lines.append(f"{indent}... {queries - MAX_QUERIES} more queries (all of them are in to_dict())")
    if n > shown:
        lines.append(f"      ... {n - shown} more samples (all of them are in to_dict())")
    return lines


def _hidden_lines(k: int, hidden: np.ndarray, shown: int) -> list[str]:
    n, steps, units = hidden.shape
    lines = [f"    hidden state h{k} over time ({steps} steps × {units} units; h{k}[t] is the state after step t):"]
    picked = list(range(steps)) if steps <= MAX_STEPS else [*range(MAX_STEPS - 3), None, *range(steps - 2, steps)]
    for i in range(min(shown, n)):
        indent = "      "
        if n > 1:
            lines.append(f"      sample {i}:")
            indent = "        "
        for t in picked:
            lines.append(f"{indent}…" if t is None else f"{indent}step {t}: {format_vector(hidden[i, t])}")
    if n > shown:
        lines.append(f"      ... {n - shown} more samples (all of them are in to_dict())")
    return lines


def _label(i: int, names, brackets: bool = False) -> str:
    if not names:
        return str(i)
    return f"{i} ({names[i]})" if brackets else f"{i} {names[i]}"


def _output_lines(out: dict, shown: int, several: bool) -> list[str]:
    title = f"output {out['name']!r}" if several else "output"
    kind, p, pred, names = out["kind"], out["probabilities"], out["predicted"], out["class_names"]
    values = np.asarray(out["values"])
    if kind == "values":
        return [f"{title}: the model's output values (no probabilities: a regression output)"] + _rows(
            "values", values.reshape(len(values), -1), shown, indent="  "
        )
    how = {
        "softmax": "softmax turns the weighted sums into probabilities that sum to 1",
        "sigmoid": "sigmoid: the probability of the positive class",
        "softmax of logits": "the model outputs logits; its loss applies softmax, shown here",
        "sigmoid of logits": "the model outputs logits; its loss applies sigmoid, shown here",
    }[kind]
    lines = [f"{title}: probability of each class ({how})"]
    flat = p.reshape(len(p), -1)
    binary = kind.startswith("sigmoid") and flat.shape[1] == 1
    width = 2 if binary else flat.shape[1]
    label_width = max(len(_label(i, names)) for i in range(width))
    for s in range(min(shown, len(flat))):
        if len(flat) > 1:
            lines.append(f"  sample {s}:")
        probs = [1 - flat[s, 0], flat[s, 0]] if binary else flat[s]
        for i, prob in enumerate(probs):
            chosen = bool(pred[s, i]) if pred.dtype == bool else int(pred[s]) == i
            mark = "  <- predicted" if chosen else ""
            lines.append(f"  {'  ' if len(flat) > 1 else ''}P({_label(i, names):<{label_width}}) = {prob:.4f}{mark}")
    if len(flat) > shown:
        lines.append(f"  ... {len(flat) - shown} more samples (all of them are in to_dict())")
    if pred.dtype == bool:
        return lines
    chosen = ", ".join(_label(int(c), names, brackets=True) for c in pred[:shown])
    more = f", ... ({len(pred)} samples)" if len(pred) > shown else ""
    lines.append(f"predicted class{'es' if len(pred) > 1 else ''}: {chosen}{more}")
    return lines


def _target_text(out: dict, y) -> str:
    names = out["class_names"]
    flat = np.asarray(y).reshape(-1)
    if out["kind"] != "values" and flat.size == 1 and float(flat[0]).is_integer():
        return _label(int(flat[0]), names, brackets=True)
    if out["kind"].startswith("softmax") and flat.size > 1:
        return f"{format_vector(flat)}, class {_label(int(flat.argmax()), names, brackets=True)}"
    return format_vector(flat)


def _loss_lines(e: Explanation, shown: int) -> list[str]:
    n = len(e.targets[0])
    target = ""
    if n == 1 and len(e.outputs) == 1:
        target = f" for y = {_target_text(e.outputs[0], e.targets[0])}"
    elif n == 1:
        target = " for " + ", ".join(f"{o['name']} = {_target_text(o, y)}" for o, y in zip(e.outputs, e.targets))
    which = " + ".join(e.loss_names)
    lines = [f"loss ({which}){target}: {e.loss:.6g}"]
    if e.penalty:
        lines[-1] += f" = {e.data_loss:.6g} + weight/activity penalties {e.penalty:.6g}"
    if n > 1:
        lines.append(f"  the batch's loss is the mean of the {n} samples' losses{' plus the penalties' if e.penalty else ''}:")
        for i in range(min(shown, n)):
            lines.append(f"  sample {i}: {e.sample_losses[i]:.6g}")
        if n > shown:
            lines.append(f"  ... {n - shown} more samples")
    return lines


def _backward_lines(e: Explanation, shown: int) -> list[str]:
    lines = ["backward pass: the chain rule, from the loss back to the first layer"]
    n = len(e.inputs[0])
    batch_note = " (summed over the batch)" if n > 1 else ""
    for step in reversed(e.steps):
        entry = e.layers[step.name]
        k = step.index
        activation = f", {step.activation}" if step.activation else ""
        lines.append(f"  layer {k}: {step.name} ({type(step.layer).__name__}{activation})")
        g_out, g_in = entry["grad_output"], entry["grad_input"]
        from_loss = step.value.grad is not None  # the loss, or an activity penalty, uses a_k directly
        if g_out is not None and (from_loss or len(step.consumers) != 1):  # else the layer above printed it
            sources = (["the loss"] if step.is_output else ["its activity penalty"]) if from_loss else []
            if step.consumers:
                count = len(step.consumers)
                sources.append(f"the {count} layers that use a{k}" if count > 1 else f"the layer that uses a{k}")
            lines += _rows(f"dL/da{k} (from {' + '.join(sources)})", np.asarray(g_out).reshape(len(g_out), -1), shown)
        if step.kind == "dense":
            lines += _dense_backward(step, entry, shown, n, batch_note)
            continue
        for name, g in entry["grad_weights"].items():
            if g is not None:
                lines.append(f"    dL/d({name}): {_matrix_summary(g, name)}")
        grads = g_in if isinstance(g_in, list) else [g_in]
        for src, g in zip(step.sources, grads):
            if g is None:
                continue
            how = {"activation": f" = dL/da{k} * {step.activation}'({src})", "dropout": f" = dL/da{k}", "reshape": ""}
            lines += _rows(f"dL/d{src}{how.get(step.kind, '')}", np.asarray(g).reshape(len(g), -1), shown)
    if not math.isfinite(e.loss):
        lines.append("  (the loss is not finite: the gradients above are not meaningful)")
    return lines


def _dense_backward(step: Step, entry: dict, shown: int, n: int, batch_note: str) -> list[str]:
    k, src = step.index, step.sources[0]
    lines = []
    if step.activation == "linear":
        lines += _rows(f"dL/dz{k} = dL/da{k} (linear)", entry["grad_z"], shown)
    elif entry["grad_output"] is None:
        # the loss was computed from the logits z: softmax/sigmoid and cross-entropy in one step
        scale = "" if n == 1 else f" / {n}"
        formula = f"(p - y){scale}" if n > 1 else "p - y"
        lines += _rows(f"dL/dz{k} = {formula} ({step.activation} and cross-entropy together)", entry["grad_z"], shown)
    else:
        lines += _rows(f"dL/dz{k} = dL/da{k} * {step.activation}'(z{k})", entry["grad_z"], shown)
    if entry["grad_kernel"] is None:
        lines.append(f"    dL/dW{k}: none (the layer is frozen: trainable=False)")
    else:
        penalty = " + the weight penalty's gradient" if step.layer._regularizers else ""
        lines.append(f"    dL/dW{k} = {src}ᵀ·dL/dz{k}{penalty}: {_matrix_summary(entry['grad_kernel'], f'W{k}')}")
    if entry["grad_bias"] is not None:
        lines.append(f"    dL/db{k} = Σ dL/dz{k}{batch_note} = {format_vector(entry['grad_bias'])}")
    if entry["grad_input"] is not None:
        lines += _rows(f"dL/d{src} = dL/dz{k}·W{k}ᵀ", entry["grad_input"], shown)
    return lines


__all__ = ["Explanation", "Step", "explain", "format_vector", "layer_weights", "walk"]
