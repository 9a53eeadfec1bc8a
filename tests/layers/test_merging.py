"""Merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum) against the formula and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Input, Model, Tensor, layers

from .. import golden as torch_golden
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


def _torch_merge(torch, name, xs):
    """torch's output and input gradients of sum(2 * merge(xs))."""
    ops = {
        "Add": lambda t: t[0] + t[1] + t[2],
        "Subtract": lambda t: torch.sub(t[0], t[1]),
        "Multiply": lambda t: t[0] * t[1] * t[2],
        "Average": lambda t: (t[0] + t[1] + t[2]) / 3,
        "Maximum": lambda t: torch.maximum(torch.maximum(t[0], t[1]), t[2]),
        "Minimum": lambda t: torch.minimum(torch.minimum(t[0], t[1]), t[2]),
    }
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    y_t = ops[name](ts)
    (y_t * 2.0).sum().backward()
    return y_t.detach().numpy(), [t.grad.numpy() for t in ts]


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
def test_matches_torch_golden_values_and_torch(name, float64, torch_if_installed):
    """The committed PyTorch values (tests/make_merging_golden.py) so the check runs without torch;
    torch itself too where it is installed."""
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
    if torch_if_installed is not None:
        y_t, grads_t = _torch_merge(torch_if_installed, name, xs)
        checks.close(y.data, y_t, what=f"{name} vs torch")
        for m, g in zip(ms, grads_t):
            checks.close(m.grad, g, what=f"{name} grad vs torch")


# ---------------------------------------------------------------------------- Dot
DOT_CASES = [
    # (shape of x, shape of y, axes, einsum of the expected result)
    ((3, 4), (3, 4), 1, "bi,bi->b"),
    ((3, 4), (3, 4), -1, "bi,bi->b"),
    ((3, 5, 2), (3, 2, 5), (1, 2), "bkm,bnk->bmn"),
    ((3, 5, 2), (3, 5, 4), 1, "bkm,bkn->bmn"),
    ((3, 5, 2), (3, 4, 2), (-1, -1), "bmk,bnk->bmn"),
    ((3, 4), (3, 4, 6), (1, 1), "bk,bkn->bn"),
    ((3, 2, 4, 3), (3, 3, 5), (3, 1), "bijk,bkn->bijn"),
]


@pytest.mark.parametrize(("xs", "ys", "axes", "spec"), DOT_CASES)
def test_dot_follows_keras_batch_dot(float64, xs, ys, axes, spec):
    x, y = rng.standard_normal(xs), rng.standard_normal(ys)
    out = layers.Dot(axes=axes)([x, y])
    expected = np.einsum(spec, x, y)
    if expected.ndim == 1:
        expected = expected[:, None]  # Keras keeps a (batch, 1) result
    checks.close(out.data, expected, what=spec)
    assert layers.Dot(axes=axes).compute_output_shape([(None, *xs[1:]), (None, *ys[1:])]) == (None, *expected.shape[1:])
    checks.gradients(layers.Dot(axes=axes), [x, y])
    checks.gradients(layers.Dot(axes=axes, normalize=True), [x, y])
    checks.config_round_trip(layers.Dot(axes=axes, normalize=True), [x, y])


def _dot_arrays():
    case_rng = np.random.default_rng(130)
    x, y = case_rng.standard_normal((4, 6)), case_rng.standard_normal((4, 6))
    return x, y, case_rng.standard_normal((2, 5, 3)), case_rng.standard_normal((2, 5, 4))


def _dot_ours():
    x, y, a, b = _dot_arrays()
    mx, my = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    out = layers.Dot(axes=1, normalize=True)([mx, my])
    (out * 3.0).sum().backward()
    return {"cosine": out.data[:, 0], "grad_x": mx.grad, "grad_y": my.grad, "dot_axes1": layers.dot([a, b], axes=1).data}


def _dot_theirs(torch):
    x, y, a, b = _dot_arrays()
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    cos = torch.nn.functional.cosine_similarity(tx, ty, dim=1)
    (cos * 3.0).sum().backward()
    bmm = torch.bmm(torch.tensor(a).transpose(1, 2), torch.tensor(b))
    return {"cosine": cos.detach().numpy(), "grad_x": tx.grad.numpy(), "grad_y": ty.grad.numpy(), "dot_axes1": bmm.numpy()}


# Dot(normalize=True) is torch's cosine_similarity: tests/golden.py checks it against the committed
# tests/data/merging_dot_golden.json everywhere and torch where installed (torch divides by
# max(|x| |y|, eps) where Keras normalizes each side: gradients agree to 1e-8)
GOLDEN_FILE = "merging_dot_golden.json"
_DOT_KEYS = {
    "dot_cosine": (("cosine",), 1e-10),
    "dot_cosine_grads": (("grad_x", "grad_y"), 1e-8),
    "dot_axes1": (("dot_axes1",), 1e-10),
}
TORCH_CASES = {
    name: (
        lambda keys=keys: {k: v for k, v in _dot_ours().items() if k in keys},
        lambda torch, keys=keys: {k: v for k, v in _dot_theirs(torch).items() if k in keys},
        rtol,
        1e-12,
    )
    for name, (keys, rtol) in _DOT_KEYS.items()
}


def test_the_dot_golden_file_holds_every_case():
    torch_golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_dot_normalize_is_the_cosine_and_matches_torch(float64, torch_if_installed, name):
    torch_golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)


def test_dot_in_a_model_saves_replays_and_exports(tmp_path):
    a, b = Input(shape=(5, 3)), Input(shape=(5, 4))
    model = Model([a, b], layers.Dense(2)(layers.Flatten()(layers.Dot(axes=1)([a, b]))))
    assert model.output_shape == (None, 2)
    xa = rng.standard_normal((20, 5, 3)).astype(np.float32)
    xb = rng.standard_normal((20, 5, 4)).astype(np.float32)
    model.compile(optimizer="sgd", loss="mse")
    model.fit([xa, xb], np.zeros((20, 2), np.float32), verbose=0, batch_size=10)
    assert model.compile_status.startswith("compiled"), model.compile_status
    path = tmp_path / "dot.myelin"
    model.save(path)
    loaded = __import__("myelin").models.load_model(path)
    np.testing.assert_array_equal(loaded.predict([xa, xb], verbose=0), model.predict([xa, xb], verbose=0))
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    for axes, shapes in (((1, 1), ((5, 3), (5, 4))), ((2, 2), ((5, 3), (4, 3))), (1, ((6,), (6,)))):
        for normalize in (False, True):
            ia, ib = Input(shape=shapes[0]), Input(shape=shapes[1])
            m = Model([ia, ib], layers.Dot(axes=axes, normalize=normalize)([ia, ib]))
            m.export(tmp_path / "dot.onnx", format="onnx")
            onnx.checker.check_model(onnx.load(str(tmp_path / "dot.onnx")), full_check=True)
            sess = ort.InferenceSession(str(tmp_path / "dot.onnx"), providers=["CPUExecutionProvider"])
            xs = [rng.standard_normal((3, *s)).astype(np.float32) for s in shapes]
            got = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), xs)})[0]
            np.testing.assert_allclose(got, m.predict(xs, verbose=0), rtol=1e-5, atol=1e-5)


def test_dot_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"Dot .*axis 1 of the first input \(4\) and axis 1 of the second \(3\)"):
        layers.Dot(axes=1)([np.ones((2, 4)), np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"Dot .*non-batch axis"):
        layers.Dot(axes=0)([np.ones((2, 4)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"Dot .*exactly 2 inputs"):
        layers.Dot(axes=1)([np.ones((2, 4))] * 3)
    with pytest.raises(ValueError, match="axes must be an int or two ints"):
        layers.Dot(axes=(1, 2, 3))
