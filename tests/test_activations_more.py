"""The rest of Keras's activations: gradients by finite differences, torch where it has them (committed
golden values everywhere, tests/data/activations_more_golden.json; torch itself where installed),
names, serialize/deserialize. Keras's own values: tests/test_keras_api_golden.py."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, activations, backend, gradcheck

from . import golden

X = np.array([[-3.2, -1.4, -0.7, -0.2, 0.3, 0.8, 1.6, 6.5]])


@pytest.fixture(autouse=True)
def _float64():
    previous = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(previous)


TORCH = {
    "relu6": lambda t, x: t.nn.functional.relu6(x),
    "mish": lambda t, x: t.nn.functional.mish(x),
    "hard_silu": lambda t, x: t.nn.functional.hardswish(x),
    "log_sigmoid": lambda t, x: t.nn.functional.logsigmoid(x),
    "glu": lambda t, x: t.nn.functional.glu(x, dim=-1),
    "celu": lambda t, x: t.nn.functional.celu(x),
    "hard_tanh": lambda t, x: t.nn.functional.hardtanh(x),
    "soft_shrink": lambda t, x: t.nn.functional.softshrink(x),
    "hard_shrink": lambda t, x: t.nn.functional.hardshrink(x),
    "exponential": lambda t, x: t.exp(x),
    "softsign": lambda t, x: t.nn.functional.softsign(x),
    "tanh_shrink": lambda t, x: t.nn.functional.tanhshrink(x),
    "threshold": lambda t, x: t.nn.functional.threshold(x, 0.5, -2.0),
}
KWARGS = {"threshold": {"threshold": 0.5, "default_value": -2.0}}


def _ours(name):
    x = Tensor(X.copy(), requires_grad=True)
    out = getattr(activations, name)(x, **KWARGS.get(name, {}))
    weights = np.arange(1, out.size + 1, dtype=np.float64).reshape(out.shape)
    (out * weights).sum().backward()
    return {"value": out.data, "grad": x.grad}


def _theirs(torch, name):
    tx = torch.tensor(X, requires_grad=True)
    tout = TORCH[name](torch, tx)
    weights = np.arange(1, tout.numel() + 1, dtype=np.float64).reshape(tuple(tout.shape))
    (tout * torch.tensor(weights)).sum().backward()
    return {"value": tout.detach().numpy(), "grad": tx.grad.numpy()}


# name: (myelin's side, torch's side, rtol, atol); tests/golden.py runs them against the committed
# tests/data/activations_more_golden.json everywhere and against torch where it is installed
GOLDEN_FILE = "activations_more_golden.json"
TORCH_CASES = {
    name: (lambda n=name: _ours(n), lambda torch, n=name: _theirs(torch, n), 1e-12, 1e-14) for name in sorted(TORCH)
}


def test_the_golden_file_holds_every_case():
    golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_value_and_gradient_match_torch(name, torch_if_installed):
    golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)


@pytest.mark.parametrize(
    "name",
    ["mish", "log_sigmoid", "glu", "celu", "softsign", "sparse_plus", "squareplus", "tanh_shrink", "sparsemax", "exponential"],
)
def test_gradients_match_finite_differences(name):
    result = gradcheck(lambda x: getattr(activations, name)(x), [X * 0.9 + 0.05])
    assert result, result


def test_sparsemax_is_the_projection_onto_the_simplex():
    x = np.random.default_rng(0).normal(size=(5, 6)) * 3
    p = activations.sparsemax(Tensor(x)).data
    np.testing.assert_allclose(p.sum(-1), 1.0)
    assert (p >= 0).all()
    np.testing.assert_allclose(activations.sparsemax(Tensor(x - 10.0)).data, p, atol=1e-12)  # shift invariant
    # the projection minimises ||p - x||: no other point of the simplex nearby is closer
    q = np.clip(p + np.random.default_rng(1).normal(size=p.shape) * 1e-3, 0, None)
    q /= q.sum(-1, keepdims=True)
    assert (((p - x) ** 2).sum(-1) <= ((q - x) ** 2).sum(-1) + 1e-12).all()


def test_names_resolve_and_round_trip():
    for name in ("relu6", "mish", "hard_silu", "hard_swish", "log_sigmoid", "glu", "celu", "hard_tanh", "soft_shrink",
                 "hard_shrink", "exponential", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
                 "tanh_shrink", "threshold"):  # fmt: skip
        fn = activations.get(name)
        assert activations.deserialize(activations.serialize(fn)) is fn
    assert activations.hard_swish is activations.hard_silu
    assert activations.deserialize({"class_name": "function", "config": "mish"}) is activations.mish
    assert activations.deserialize("twice", custom_objects={"twice": abs}) is abs
    with pytest.raises(ValueError, match="Unknown activation 'mishh'"):
        activations.deserialize("mishh")


def test_a_dense_layer_takes_the_new_names():
    from myelin import layers

    layer = layers.Dense(3, activation="mish")
    out = layer(np.ones((2, 4), np.float64))
    assert layer.get_config()["activation"] == "mish"
    assert out.shape == (2, 3)
