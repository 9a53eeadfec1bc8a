"""Pooling layers against PyTorch (live where installed, committed golden values everywhere), ties, masks,
keepdims, finite differences, config round trips and errors that name the layer."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers

from . import checks
from .conv_torch import CASES, case_arrays, make_layer, myelin_run, torch_run
from .test_convolutional import GOLDEN, _compare

POOL = sorted(n for n, (cls, _, _) in CASES.items() if "Pool" in cls)


@pytest.mark.parametrize("name", POOL)
def test_matches_committed_torch_golden_values_and_torch(float64, torch_if_installed, name):
    """The committed values everywhere; torch itself from the same arrays where it is installed."""
    arrays = case_arrays(name)
    got = myelin_run(name, arrays)
    _compare(got, GOLDEN[name], f"{name} vs golden")
    if torch_if_installed is not None:
        _compare(got, torch_run(torch_if_installed, name, arrays), f"{name} vs torch")


@pytest.mark.parametrize(
    "name", ["maxpool2d_same_cf", "avgpool1d_same", "avgpool2d_same_cf", "gavgpool2d_keep_cf", "maxpool3d"]
)
def test_gradients_by_central_differences(float64, name):
    checks.gradients(make_layer(name), case_arrays(name)["x"], max_checks=25)


@pytest.mark.parametrize("name", POOL)
def test_config_round_trip_and_symbolic_shape(name):
    x = case_arrays(name)["x"].astype("float32")
    checks.config_round_trip(make_layer(name), x)
    layer = make_layer(name)
    assert tuple(layer(myelin.Input(shape=x.shape[1:])).shape[1:]) == layer(x).shape[1:]


def test_max_pooling_ties_send_the_gradient_to_the_first_maximum_as_torch():
    x = Tensor(np.array([[[[1.0], [1.0]], [[1.0], [0.0]]]]), requires_grad=True)  # one 2x2 window, three tied maxima
    layers.MaxPooling2D()(x).sum().backward()
    assert x.grad.reshape(-1).tolist() == [1.0, 0.0, 0.0, 0.0]


def test_global_average_pooling_1d_averages_only_unmasked_steps_like_keras():
    x = np.arange(12.0).reshape(2, 3, 2)
    mask = np.array([[True, False, True], [True, True, False]])
    got = layers.GlobalAveragePooling1D()(x, mask=mask).data
    np.testing.assert_allclose(got, [[(0 + 4) / 2, (1 + 5) / 2], [(6 + 8) / 2, (7 + 9) / 2]])
    cf = layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)(np.swapaxes(x, 1, 2), mask=mask).data
    np.testing.assert_allclose(cf[..., 0], got)


def test_global_average_pooling_1d_takes_the_embedding_mask_in_a_model():
    model = myelin.Sequential(
        [
            myelin.Input((4,), dtype="int32"),
            layers.Embedding(5, 2, mask_zero=True, embeddings_initializer="ones"),
            layers.GlobalAveragePooling1D(),
        ]
    )
    emb = model.layers[0]
    emb.embeddings.assign(np.arange(10.0).reshape(5, 2))
    out = model.predict(np.array([[1, 2, 0, 0]]), verbose=0)
    np.testing.assert_allclose(out, [[3.0, 4.0]])  # the mean of rows 1 and 2, not of four rows


def test_global_pooling_keepdims_and_layouts():
    x = np.arange(24.0).reshape(2, 3, 4, 1)
    assert layers.GlobalMaxPooling2D()(x).data.tolist() == [[11.0], [23.0]]
    assert layers.GlobalMaxPooling2D(keepdims=True)(x).shape == (2, 1, 1, 1)
    assert layers.GlobalAveragePooling2D(data_format="channels_first")(x).shape == (2, 3)


@pytest.mark.parametrize(
    "make,x,message",
    [
        (
            lambda: layers.MaxPooling2D(),
            np.ones((1, 8, 8)),
            r"MaxPooling2D layer 'p' expects inputs of rank 4.*got shape \(1, 8, 8\)",
        ),
        (
            lambda: layers.AveragePooling1D(4),
            np.ones((1, 3, 2)),
            r"AveragePooling1D layer 'p': pool_size \(4,\) is larger than the input",
        ),
        (
            lambda: layers.GlobalAveragePooling2D(),
            np.ones((1, 8, 2)),
            r"GlobalAveragePooling2D layer 'p' expects inputs of rank 4",
        ),
    ],
)
def test_bad_input_names_the_layer(make, x, message):
    layer = make()
    layer.name = "p"
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="MaxPooling2D: pool_size must be a positive integer or 2 of them"):
        layers.MaxPooling2D((2, 2, 2))
    with pytest.raises(ValueError, match="AveragePooling1D: padding must be one of"):
        layers.AveragePooling1D(padding="causal")


@pytest.mark.parametrize("name", POOL)
def test_onnx_export_runs_in_onnxruntime(name, tmp_path):
    x = case_arrays(name)["x"].astype("float32")
    checks.onnx_export(checks.model_of(make_layer(name), x.shape[1:]), x, tmp_path)
