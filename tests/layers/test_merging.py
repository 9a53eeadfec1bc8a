"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum) against the formula and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Input, Model, Tensor, layers

from . import checks

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4))
B = rng.standard_normal((3, 4))
C = rng.standard_normal((1, 4))  # broadcasts against A and B

CASES = {
    "Add": (layers.Add, lambda xs: xs[0] + xs[1] + xs[2], 3),
    "Subtract": (layers.Subtract, lambda xs: xs[0] - xs[1], 2),
    "Multiply": (layers.Multiply, lambda xs: xs[0] * xs[1] * xs[2], 3),
    "Average": (layers.Average, lambda xs: (xs[0] + xs[1] + xs[2]) / 3, 3),
    "Maximum": (layers.Maximum, lambda xs: np.maximum(np.maximum(xs[0], xs[1]), xs[2]), 3),
    "Minimum": (layers.Minimum, lambda xs: np.minimum(np.minimum(xs[0], xs[1]), xs[2]), 3),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_formula_and_gradients(name, float64):
    cls, formula, n = CASES[name]
    xs = [A, B, C][:n]
    out = cls()(xs)
    checks.close(out.data, formula(xs), what=name)
    checks.gradients(cls(), xs)
    checks.config_round_trip(cls(name="m"), xs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, float64, torch):
    cls, _, n = CASES[name]
    ops = {
        "Add": lambda t: t[0] + t[1] + t[2],
        "Subtract": lambda t: torch.sub(t[0], t[1]),
        "Multiply": lambda t: t[0] * t[1] * t[2],
        "Average": lambda t: (t[0] + t[1] + t[2]) / 3,
        "Maximum": lambda t: torch.maximum(torch.maximum(t[0], t[1]), t[2]),
        "Minimum": lambda t: torch.minimum(torch.minimum(t[0], t[1]), t[2]),
    }
    xs = [A, B, C][:n]
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    y_t = ops[name](ts)
    (y_t * 2.0).sum().backward()
    ms = [Tensor(x, requires_grad=True) for x in xs]
    y = cls()(ms)
    (y * 2.0).sum().backward()
    checks.close(y.data, y_t.detach().numpy(), what=name)
    for m, t in zip(ms, ts):
        checks.close(m.grad, t.grad.numpy(), what=f"{name} grad")


def test_functional_forms_and_model():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    model = Model([a, b], layers.add([a, layers.multiply([a, b])]))
    assert model.output_shape == (None, 4)
    x, y = A.astype("float32"), B.astype("float32")
    np.testing.assert_allclose(model.predict([x, y], verbose=0), x + x * y, rtol=1e-6)
    np.testing.assert_allclose(layers.subtract([x, y]).data, x - y, rtol=1e-6)
    np.testing.assert_allclose(layers.average([x, y]).data, (x + y) / 2, rtol=1e-6)
    np.testing.assert_allclose(layers.maximum([x, y]).data, np.maximum(x, y))
    np.testing.assert_allclose(layers.minimum([x, y]).data, np.minimum(x, y))


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"Add 'add_bad'.*broadcast.*\(3, 4\).*\(3, 5\)"):
        layers.Add(name="add_bad")([A, rng.standard_normal((3, 5))])
    with pytest.raises(ValueError, match=r"Subtract .*exactly 2 inputs, got 3"):
        layers.Subtract()([A, B, A])
    with pytest.raises(ValueError, match=r"Multiply .*at least 2 inputs, got 1"):
        layers.Multiply()([A])
    with pytest.raises(ValueError, match=r"Maximum .*list of inputs, got ndarray"):
        layers.Maximum()(A)
    with pytest.raises(ValueError, match="broadcast"):
        layers.Add()([Input(shape=(4,)), Input(shape=(5,))])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_golden_values(name, float64):
    """The committed PyTorch values (tests/make_merging_golden.py) so the check runs without torch."""
    import json
    from pathlib import Path

    golden = json.loads((Path(__file__).parents[1] / "data" / "merging_golden.json").read_text())
    cls, _, n = CASES[name]
    xs = [np.array(x) for x in golden["inputs"][:n]]
    np.testing.assert_array_equal(xs[0], A)  # the same seeded inputs as the file
    ms = [Tensor(x, requires_grad=True) for x in xs]
    y = cls()(ms)
    (y * 2.0).sum().backward()
    checks.close(y.data, np.array(golden[name]["output"]), what=name)
    for m, g in zip(ms, golden[name]["grads"]):
        checks.close(m.grad, np.array(g), what=f"{name} grad")
