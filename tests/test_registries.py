"""Every class in every registry round-trips every constructor argument through its config.

The test walks the registries (metrics, losses, optimizers, learning-rate schedules, layers,
initializers, regularizers), so a class added to one of them is covered without a new test.
Each class is built with a value other than the default for every argument: inferred from the
default (a bool flipped, a number changed, a tuple changed element-wise), from the argument's
name (``ARGUMENT_VALUES``: Keras's common names), or, where neither can build the class (required
arguments, arguments whose values only the class knows), from the table ``CASES``. Then

- every argument given must change the config (an argument the config drops is not saved),
- ``from_config(get_config())`` must give the same config, and
- the rebuilt object must give the same numbers as the original on the same data.

A registered class the test can build in neither way fails the test, naming the class.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import myelin.layers  # registers every layer
from myelin import Tensor, initializers, losses, metrics, optimizers, regularizers
from myelin.layers import base as layers_base
from myelin.optimizers import schedules
from myelin.saving import register_serializable
from myelin.utils import set_random_seed


@register_serializable(package="RegistryTest")
def lambda_scale(x, k=1.0):
    """A function a Lambda layer can be saved with (registered by name)."""
    return x * k


@register_serializable(package="RegistryTest")
def lambda_mask(inputs, previous_mask):
    """A Lambda layer's mask function (registered by name): no mask."""
    return previous_mask


REGISTRIES = {
    "metric": metrics.REGISTRY,
    "loss": losses.REGISTRY,
    "optimizer": optimizers.REGISTRY,
    "schedule": schedules.REGISTRY,
    "layer": layers_base.REGISTRY,
    "initializer": initializers.REGISTRY,
    "regularizer": regularizers.REGISTRY,
}

# Keras's common argument names whose non-default value cannot be inferred from the default.
ARGUMENT_VALUES = {
    "name": "custom_name",
    "dtype": "float64",
    "reduction": "sum",
    "kernel_initializer": "he_normal",
    "bias_initializer": "ones",
    "kernel_regularizer": "l2",
    "bias_regularizer": "l1",
    "activity_regularizer": "l2",
    "seed": 7,
    "weight_decay": 0.02,
    "clipnorm": 1.5,
    "global_clipnorm": None,  # exclusive with clipnorm: CASES set it
    "clipvalue": 0.5,
    "ema_overwrite_frequency": 3,
    "loss_scale_factor": 128.0,
    "gradient_accumulation_steps": 2,
    "thresholds": [0.3, 0.6],
    "summation_method": "minoring",
    "curve": "PR",
    "top_k": 2,
    "class_id": 1,
    "axis": -2,
}

# Keras's common argument names tried in order: the first value other than the argument's default is used.
ARGUMENT_CHOICES = {
    "activation": ["tanh", "sigmoid"],
    "recurrent_activation": ["tanh", "hard_sigmoid"],
    "units": [3],
    "merge_mode": ["sum", "concat"],
    "data_format": ["channels_first", "channels_last"],
}
# Suffixes of Keras's argument names (kernel_initializer, recurrent_regularizer, bias_constraint, ...).
SUFFIX_CHOICES = {
    "_initializer": ["he_normal", "ones"],
    "_regularizer": ["l2", "l1"],
    "_constraint": ["non_neg", "unit_norm"],
}

# Arguments that are not the object's own settings.
NOT_CONFIG = {
    # Keras's shorthand for a first layer: the enclosing model makes it an InputLayer, which is saved
    "input_shape",
    "batch_input_shape",
    # initial weight values: saved with the weights, not in the config (as Keras)
    "weights",
    # accepted with their default only (refused otherwise, with an error saying why): nothing to save
    "lora_rank",
    "use_cudnn",
}


class Fresh:
    """A keyword argument made anew for every object built (a layer argument cannot be shared)."""

    def __init__(self, make):
        self.make = make


def _build(cls, kwargs: dict):
    return cls(**{k: v.make() if isinstance(v, Fresh) else v for k, v in kwargs.items()})


def _cell_step(cell, x):
    """One step of a recurrent cell from zero states: (output, new states)."""
    return cell(Tensor(x), states=[Tensor(s) for s in cell.get_initial_state(len(x))])


# Classes the inference cannot build (or that need other data): keyword arguments, and for layers the input.
X = np.linspace(-1.0, 1.0, 24).reshape(4, 6)
IMAGES = np.linspace(0.0, 1.0, 2 * 3 * 5 * 6).reshape(2, 3, 5, 6)
CONV_INPUTS = {1: X.reshape(2, 4, 3), 2: X.reshape(1, 2, 3, 4), 3: X.reshape(1, 2, 3, 2, 2)}  # channels_first
CASES = {
    ("layer", "Dense"): {"kwargs": {"units": 3}},
    ("layer", "Activation"): {"kwargs": {"activation": "sigmoid"}},
    ("layer", "Dropout"): {"kwargs": {"rate": 0.3, "noise_shape": (None, 1)}},
    ("layer", "Reshape"): {"kwargs": {"target_shape": (3, 2)}},
    ("layer", "Rescaling"): {"kwargs": {"scale": 0.5, "offset": 1.0}},
    ("layer", "CategoryEncoding"): {
        "kwargs": {"num_tokens": 4, "output_mode": "count", "sparse": False},  # sparse=True is refused
        "input": np.array([[0, 1, 1], [3, 2, 0]]),
    },
    ("layer", "Concatenate"): {"input": [X, 2 * X]},
    ("layer", "InputLayer"): {"kwargs": {"shape": (6,), "batch_size": 4, "batch_shape": None}},  # batch_shape: either form
    ("layer", "Normalization"): {"kwargs": {"mean": [0.5] * 6, "variance": [2.0] * 6, "invert": True, "axis": -1}},
    ("layer", "IntegerLookup"): {
        "kwargs": {
            "vocabulary": [4, 7, 9],
            "num_oov_indices": 2,
            "max_tokens": 9,
            "mask_token": 0,
            "output_mode": "int",
            "sparse": False,
        },
        "input": np.array([[1, 3, 5]]),  # indices: invert=True is inferred
    },
    ("layer", "StringLookup"): {
        "kwargs": {
            "vocabulary": ["a", "b"],
            "oov_token": "?",
            "output_mode": "one_hot",
            "max_tokens": 5,
            "mask_token": "",
            "encoding": "utf-8",
            "invert": False,  # invert=True needs output_mode="int"
            "sparse": False,
        },
        "input": np.array([["a"], ["z"]]),
    },
    ("layer", "TextVectorization"): {
        "kwargs": {
            "max_tokens": 6,
            "standardize": "lower",
            "split": "character",
            "ngrams": 2,
            "output_mode": "tf_idf",
            "pad_to_max_tokens": True,
            "vocabulary": ["a", "b", "ab"],
            "idf_weights": [0.5, 1.0, 2.0],
            "encoding": "latin-1",
            "sparse": False,  # sparse=True and ragged=True are refused
            "ragged": False,
        },
        "not_arguments": ("output_sequence_length",),  # "int" mode only: tests/layers/test_text_vectorization.py
        "input": np.array([["Ab"], ["bA"]]),
    },
    ("optimizer", "SGD"): {"kwargs": {"clipnorm": None, "global_clipnorm": 2.0}},
    ("optimizer", "LossScaleOptimizer"): {  # the base optimizer's arguments belong on the inner one
        "kwargs": {"inner_optimizer": optimizers.SGD(0.05), "initial_scale": 4.0, "dynamic_growth_steps": 7},
        "not_arguments": (
            "learning_rate",
            "weight_decay",
            "clipnorm",
            "clipvalue",
            "global_clipnorm",
            "use_ema",
            "ema_momentum",
            "ema_overwrite_frequency",
            "loss_scale_factor",
            "gradient_accumulation_steps",
        ),
    },
    ("optimizer", "Muon"): {"kwargs": {"exclude_layers": ["head"]}},
    ("initializer", "STFT"): {"kwargs": {"side": "imag", "window": "hamming", "scaling": "spectrum"}, "shape": (6, 1, 4)},
    ("optimizer", "MultiOptimizer"): {
        "kwargs": {
            "optimizer_map": Fresh(
                lambda: optimizers.OptimizerMap(optimizers.SGD(0.1), {".*": optimizers.Adam(0.05, amsgrad=True)})
            )
        }
    },
    # CTC reads padded integer labels and logits (batch, time, classes)
    ("loss", "CTC"): {"data": (np.array([[1, 2, 0], [2, 0, 0]]), np.linspace(-1.0, 1.0, 24).reshape(2, 4, 3))},
    ("schedule", "ExponentialDecay"): {"kwargs": {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}},
    ("schedule", "CosineDecay"): {
        "kwargs": {"initial_learning_rate": 0.1, "decay_steps": 10, "warmup_target": 0.2, "warmup_steps": 2}
    },
    ("schedule", "PiecewiseConstantDecay"): {"kwargs": {"boundaries": [2, 5], "values": [0.3, 0.2, 0.1]}},
    ("initializer", "constant"): {"kwargs": {"value": 0.25}},
    ("initializer", "variance_scaling"): {"kwargs": {"mode": "fan_out", "distribution": "uniform"}},
    ("metric", "AUC"): {"kwargs": {"thresholds": [0.3, 0.6], "num_thresholds": 4}},  # thresholds replace num_thresholds
    # issue 17's schedules (c17api)
    ("schedule", "PolynomialDecay"): {"kwargs": {"initial_learning_rate": 0.1, "decay_steps": 6, "end_learning_rate": 0.01}},
    ("schedule", "InverseTimeDecay"): {"kwargs": {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}},
    ("schedule", "CosineDecayRestarts"): {"kwargs": {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.5}},
    ("regularizer", "OrthogonalRegularizer"): {"kwargs": {"factor": 0.2, "mode": "columns"}},  # c17api
    # issue 17's metrics (c17api)
    ("metric", "BinaryIoU"): {"kwargs": {"target_class_ids": [1], "threshold": 0.3}},
    ("metric", "F1Score"): {"kwargs": {"average": "macro", "threshold": 0.4}},
    ("metric", "FBetaScore"): {"kwargs": {"average": "weighted", "beta": 2.0, "threshold": 0.4}},
    ("metric", "IoU"): {"kwargs": {"num_classes": 3, "target_class_ids": [0, 2], "ignore_class": 1, "axis": -1}},
    ("metric", "MeanIoU"): {"kwargs": {"num_classes": 3, "ignore_class": 1, "axis": -1}},
    ("metric", "OneHotIoU"): {"kwargs": {"num_classes": 3, "target_class_ids": [1], "ignore_class": 0, "axis": -1}},
    ("metric", "OneHotMeanIoU"): {"kwargs": {"num_classes": 3, "ignore_class": 0, "axis": -1}},
    ("metric", "PrecisionAtRecall"): {"kwargs": {"recall": 0.4}},
    ("metric", "RecallAtPrecision"): {"kwargs": {"precision": 0.6}},
    ("metric", "SensitivityAtSpecificity"): {"kwargs": {"specificity": 0.7}},
    ("metric", "SpecificityAtSensitivity"): {"kwargs": {"sensitivity": 0.3}},
    ("metric", "R2Score"): {"kwargs": {"class_aggregation": "variance_weighted_average", "num_regressors": 1}},
    ("metric", "SparseCategoricalCrossentropy"): {"kwargs": {"ignore_class": 2, "axis": -1}},
    ("layer", "ReLU"): {"kwargs": {"max_value": 0.5}},
    # sequences: (batch, time, features) inputs, token ids for Embedding
    ("layer", "Embedding"): {"kwargs": {"input_dim": 10, "output_dim": 3}, "input": np.array([[1, 0, 4], [9, 2, 0]])},
    ("layer", "RepeatVector"): {"kwargs": {"n": 3}},
    **{
        # "cell" is RNN's argument, which these layers make themselves
        ("layer", rnn): {"kwargs": {"units": 3}, "not_arguments": ("cell",), "input": X.reshape(2, 4, 3)}
        for rnn in ("SimpleRNN", "LSTM", "GRU")
    },
    ("layer", "RNN"): {"kwargs": {"cell": Fresh(lambda: myelin.layers.GRUCell(2))}, "input": X.reshape(2, 4, 3)},
    ("layer", "StackedRNNCells"): {
        "kwargs": {"cells": Fresh(lambda: [myelin.layers.LSTMCell(2), myelin.layers.GRUCell(3)])},
        "input": X[:, :3],
        "call": _cell_step,
    },
    ("layer", "Bidirectional"): {
        "kwargs": {
            "layer": Fresh(lambda: myelin.layers.LSTM(2, return_sequences=True)),
            "backward_layer": Fresh(lambda: myelin.layers.GRU(2, return_sequences=True, go_backwards=True)),
        },
        "input": X.reshape(2, 4, 3),
    },
    **{("layer", m): {"input": [X, 2 * X]} for m in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")},
    ("layer", "Permute"): {"kwargs": {"dims": (2, 1)}, "input": X.reshape(2, 4, 3)},
    ("layer", "SpatialDropout1D"): {"kwargs": {"rate": 0.5}, "not_arguments": ("noise_shape",), "input": X.reshape(2, 4, 3)},
    ("layer", "SpatialDropout2D"): {
        "kwargs": {"rate": 0.5},
        "not_arguments": ("noise_shape",),
        "input": X.reshape(1, 2, 4, 3),
    },
    # Convolution and pooling layers (channels_first data: data_format's inferred choice); strides > 1 excludes dilation.
    **{
        ("layer", f"{kind}{rank}D{suffix}"): {
            "kwargs": {
                **({"filters": 2} if kind != "DepthwiseConv" else {}),
                "kernel_size": 2,
                "strides": 2,
                "padding": "same",
                **({"output_padding": 1} if suffix else {}),
            },
            "not_arguments": ("dilation_rate",),
            "input": CONV_INPUTS[rank],
        }
        for kind, suffix, ranks in (
            ("Conv", "", (1, 2, 3)),
            ("Conv", "Transpose", (1, 2, 3)),
            ("DepthwiseConv", "", (1, 2)),
            ("SeparableConv", "", (1, 2)),
        )
        for rank in ranks
    },
    **{
        ("layer", f"{kind}Pooling{rank}D"): {"kwargs": {"strides": 1, "padding": "same"}, "input": CONV_INPUTS[rank]}
        for kind in ("Max", "Average")
        for rank in (1, 2, 3)
    },
    **{
        ("layer", f"Global{kind}Pooling{rank}D"): {"input": CONV_INPUTS[rank]}
        for kind in ("Max", "Average")
        for rank in (1, 2, 3)
    },
    ("layer", "TimeDistributed"): {"kwargs": {"layer": Fresh(lambda: myelin.layers.Dense(2))}, "input": X.reshape(2, 4, 3)},
    **{
        ("layer", cell): {"kwargs": {"units": 3}, "input": X[:, :3], "call": _cell_step}
        for cell in ("SimpleRNNCell", "LSTMCell", "GRUCell")
    },
    # vision layers (c15layers): images are (batch, rows, cols, channels), or channels first
    ("layer", "BatchNormalization"): {
        "kwargs": {"axis": 1, "moving_variance_initializer": "zeros"},  # a variance must not be negative
        "not_arguments": ("renorm", "renorm_clipping", "renorm_momentum"),  # refused unless default
    },
    ("layer", "GroupNormalization"): {"kwargs": {"groups": 3, "axis": 1}},
    ("layer", "ZeroPadding1D"): {"kwargs": {"padding": (2, 1)}, "input": X.reshape(2, 4, 3)},
    ("layer", "ZeroPadding2D"): {"kwargs": {"padding": ((1, 0), (2, 1))}, "input": X.reshape(2, 3, 2, 2)},
    ("layer", "ZeroPadding3D"): {"kwargs": {"padding": ((1, 0), (0, 1), (2, 2))}, "input": X.reshape(1, 2, 3, 2, 2)},
    ("layer", "Cropping1D"): {"kwargs": {"cropping": (0, 2)}, "input": X.reshape(2, 4, 3)},
    ("layer", "Cropping2D"): {"kwargs": {"cropping": ((1, 0), (0, 1))}, "input": X.reshape(1, 2, 4, 3)},
    ("layer", "Cropping3D"): {"kwargs": {"cropping": ((0, 1), (1, 0), (0, 0))}, "input": X.reshape(1, 2, 3, 2, 2)},
    ("layer", "UpSampling1D"): {"input": X.reshape(2, 4, 3)},
    ("layer", "UpSampling2D"): {"kwargs": {"interpolation": "bilinear"}, "input": X.reshape(1, 2, 4, 3)},
    ("layer", "GaussianNoise"): {"kwargs": {"stddev": 0.3}},
    ("layer", "GaussianDropout"): {"kwargs": {"rate": 0.3}},
    ("layer", "Dot"): {"kwargs": {"axes": (1, 1)}, "input": [X, 2 * X]},
    ("layer", "Lambda"): {
        "kwargs": {
            "function": "RegistryTest>lambda_scale",
            "output_shape": (6,),
            "mask": "RegistryTest>lambda_mask",
            "arguments": {"k": 3.0},
        }
    },
    # image layers (myelin/layers/preprocessing/image.py): (batch, channels, height, width) images, as data_format is
    # channels_first here; called in inference (a direct call augments, as Keras); bounding_box_format is refused
    **{
        ("layer", name): {
            "kwargs": kwargs,
            "not_arguments": ("bounding_box_format",),
            "input": IMAGES,
            "call": lambda lyr, data: lyr(data, training=False),
        }
        for name, kwargs in {
            "Resizing": {
                "height": 3,
                "width": 2,
                "interpolation": "bicubic",
                "fill_mode": "constant",
                "pad_to_aspect_ratio": False,
            },
            "CenterCrop": {"height": 3, "width": 2},
            "RandomCrop": {"height": 3, "width": 2},
            "RandomFlip": {"mode": "vertical"},
            "RandomRotation": {"factor": 0.2, "fill_mode": "wrap", "interpolation": "nearest"},
            "RandomZoom": {"height_factor": 0.2, "width_factor": 0.3, "fill_mode": "constant", "interpolation": "nearest"},
            "RandomTranslation": {
                "height_factor": 0.1,
                "width_factor": 0.2,
                "fill_mode": "nearest",
                "interpolation": "nearest",
            },
            "RandomContrast": {"factor": 0.3},
            "RandomBrightness": {"factor": 0.2},
        }.items()
    },
    # attention and normalization: (batch, steps, features) inputs; flash_attention is refused when true (no flash kernel)
    ("layer", "MultiHeadAttention"): {
        "kwargs": {
            "num_heads": 2,
            "key_dim": 3,
            "value_dim": 2,
            "output_shape": (5,),
            "attention_axes": (1,),
            "sliding_window": 2,
        },
        "not_arguments": ("flash_attention",),
        "input": [X.reshape(2, 4, 3), 2 * X.reshape(2, 4, 3)],
    },
    ("layer", "GroupedQueryAttention"): {
        "kwargs": {"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2, "sliding_window": 3},
        "not_arguments": ("flash_attention",),
        "input": [X.reshape(2, 4, 3), 2 * X.reshape(2, 4, 3)],
    },
    ("layer", "Attention"): {"kwargs": {"score_mode": "concat"}, "input": [X.reshape(2, 4, 3), 2 * X.reshape(2, 4, 3)]},
    ("layer", "AdditiveAttention"): {"not_arguments": ("score_mode",), "input": [X.reshape(2, 4, 3), 2 * X.reshape(2, 4, 3)]},
    **{
        ("layer", norm): {"input": X.reshape(2, 4, 3)}
        for norm in ("LayerNormalization", "RMSNormalization", "UnitNormalization")
    },
}

# Models are layers, but their configs are graphs of other layers: tested in tests/test_saving.py.
MODELS = {"Sequential", "Functional", "TabularModel"}


def _classes():
    for family, registry in REGISTRIES.items():
        seen = set()
        for name in registry.names():
            obj = registry.lookup(name)
            if not inspect.isclass(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            canonical = registry.name_of(obj) or name
            if family == "layer" and canonical in MODELS:
                continue
            yield family, canonical, obj


def _parameters(cls) -> dict[str, inspect.Parameter]:
    """The constructor's named arguments, following ``**kwargs`` up to the base classes that take them."""
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        for p in list(params.values())[1:]:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                found.setdefault(p.name, p)
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            break
    return found


def _infer(default):
    """A valid value other than ``default``, from its type; None where none can be inferred."""
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1 if default >= 0 else default - 1
    if isinstance(default, float):
        return default / 2 if default else 0.25
    if (
        isinstance(default, tuple)
        and default
        and all(isinstance(d, (int, float)) and not isinstance(d, bool) for d in default)
    ):
        return tuple(_infer(d) for d in default)
    return None


def _choice(arg: str, default):
    """The first of the choices for ``arg`` (by name, then by suffix) that differs from its default."""
    choices = ARGUMENT_CHOICES.get(arg)
    if choices is None:
        choices = next((c for suffix, c in SUFFIX_CHOICES.items() if arg.endswith(suffix)), None)
    return next((c for c in choices or () if c != default), None)


def _arguments(family, name, cls):
    """The non-default keyword arguments to build ``cls`` with, and the arguments left at their default."""
    case = CASES.get((family, name), {})
    kwargs, uncovered = {}, []
    for arg, p in _parameters(cls).items():
        if arg in NOT_CONFIG or arg in case.get("not_arguments", ()):
            continue
        if arg in case.get("kwargs", {}):
            kwargs[arg] = case["kwargs"][arg]
        elif arg in ARGUMENT_VALUES:
            if ARGUMENT_VALUES[arg] is not None:
                kwargs[arg] = ARGUMENT_VALUES[arg]
        elif _choice(arg, p.default) is not None:
            kwargs[arg] = _choice(arg, p.default)
        elif p.default is not inspect.Parameter.empty and _infer(p.default) is not None:
            kwargs[arg] = _infer(p.default)
        else:
            uncovered.append(arg)
    return kwargs, uncovered


def _rebuild(obj):
    return type(obj).from_config(obj.get_config())


def _data_for_metric_or_loss():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=8)
    labels = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    onehot = np.eye(3)[labels]
    return [(onehot, probs), (labels, probs), (labels[:, None] % 2 * 1.0, probs[:, :1])]


def _numbers(family, name, obj):
    """What ``obj`` computes on fixed data, as a flat float64 array."""
    if family in ("metric", "loss"):
        case = CASES.get((family, name), {})
        for y_true, y_pred in [case["data"]] if "data" in case else _data_for_metric_or_loss():
            try:
                if family == "metric":
                    obj.reset_state()
                    obj.update_state(y_true, y_pred)
                    out = obj.result()
                else:
                    out = obj(Tensor(y_true), Tensor(y_pred)).data
            except (ValueError, IndexError):
                continue
            return np.asarray(out, dtype="float64").reshape(-1)
        raise AssertionError(f"{family} {name}: no test data fits it")
    if family == "optimizer":
        w = Tensor(np.arange(6.0).reshape(3, 2) / 7, requires_grad=True)
        for step in range(3):
            obj.apply([Tensor(np.cos(w.data * (step + 1)))], [w])
        return w.data.reshape(-1).copy()
    if family == "schedule":
        return np.array([float(obj(step)) for step in (0, 1, 3, 7, 20)])
    if family == "initializer":
        set_random_seed(5)
        shape = CASES.get((family, name), {}).get("shape", (4, 3))
        return np.asarray(obj(shape), dtype="float64").reshape(-1)
    if family == "regularizer":
        return np.asarray(obj(Tensor(X)).data, dtype="float64").reshape(-1)
    raise AssertionError(family)


def _flat(out) -> np.ndarray:
    """Every number of a layer's output (a tensor, or nested lists of them: sequences and states)."""
    if isinstance(out, (list, tuple)):
        return np.concatenate([_flat(o) for o in out]) if out else np.zeros(0)
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype="float64").reshape(-1)


def _layer_numbers(name, layer, twin):
    """The outputs of a layer and of its rebuilt twin, from the same weights."""
    case = CASES.get(("layer", name), {})
    x = case.get("input", X)
    call = case.get("call", lambda lyr, data: lyr(data))
    if name == "InputLayer":
        return np.asarray(layer.batch_shape, dtype=float), np.asarray(twin.batch_shape, dtype=float)
    out = call(layer, x)
    call(twin, x)  # builds it
    twin.set_weights(layer.get_weights())
    if getattr(twin, "stateful", False):
        twin.reset_states()  # a stateful layer starts where its last call ended: from zeros, as the original did
    return _flat(out), _flat(call(twin, x))


CLASSES = sorted(_classes(), key=lambda c: (c[0], c[1]))


@pytest.mark.parametrize(("family", "name", "cls"), CLASSES, ids=[f"{f}-{n}" for f, n, _ in CLASSES])
def test_config_round_trips_every_constructor_argument(family, name, cls):
    kwargs, uncovered = _arguments(family, name, cls)
    assert not uncovered, f"{family} {name}: no non-default value for {uncovered}; give one in ARGUMENT_VALUES or CASES"
    try:
        obj = _build(cls, kwargs)
    except Exception as e:
        pytest.fail(f"{family} {name} cannot be built from {kwargs} ({type(e).__name__}: {e}); add it to CASES")
    config = obj.get_config()
    # every argument given is in the config: building without it gives another config
    base_kwargs = dict(CASES.get((family, name), {}).get("kwargs", {}))
    for arg in kwargs:
        if arg == "name" or arg in base_kwargs:
            continue
        without = {k: v for k, v in kwargs.items() if k != arg}
        assert _build(cls, without).get_config() != config, (
            f"{family} {name}: argument {arg}={kwargs[arg]!r} is not in its config"
        )
    twin = _rebuild(obj)
    assert type(twin) is type(obj)
    assert twin.get_config() == config
    if family == "layer":
        mine, theirs = _layer_numbers(name, obj, twin)
    else:
        mine, theirs = _numbers(family, name, obj), _numbers(family, name, twin)
    np.testing.assert_array_equal(mine, theirs)


def test_the_walk_covers_every_family_and_the_models_are_tested_elsewhere():
    families = {f for f, _, _ in CLASSES}
    assert families == set(REGISTRIES)
    assert ("metric", "AUC") in {(f, n) for f, n, _ in CLASSES}
    assert set(layers_base.REGISTRY.names()) >= MODELS


def test_auc_with_explicit_thresholds_keeps_them_after_saving(tmp_path):
    auc = metrics.AUC(thresholds=[0.3, 0.6])
    twin = metrics.AUC.from_config(auc.get_config())
    np.testing.assert_array_equal(twin.thresholds, auc.thresholds)
    y_true, y_pred = np.array([0, 1, 1, 0]), np.array([0.2, 0.5, 0.7, 0.4])
    assert twin(y_true, y_pred) == auc(y_true, y_pred)
