"""The checks every layer family shares: gradients by central differences, PyTorch from the same
weights, the config round trip, saving and ONNX export. A new layer gets them by adding one case.

Typical use in ``tests/layers/test_<family>.py``::

    def test_conv2d_case(float64, tmp_path):
        layer = layers.Conv2D(4, 3)
        x = rng.standard_normal((2, 8, 8, 3))
        checks.gradients(layer, x)                         # float64 central differences
        checks.config_round_trip(layer, x)                 # from_config(get_config()) computes the same
        model = checks.model_of(layer, x.shape[1:])
        checks.saving(model, x, tmp_path)                  # save / load_model predicts the same
        checks.onnx_export(model, x, tmp_path)             # onnxruntime gives predict's numbers
        checks.close(y, y_torch, grads, grads_torch)       # after running both frameworks
"""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import Tensor

# float64 central differences of a smooth function: the truncation error is ~eps^2 * f''' and
# the rounding error ~1e-16 / eps, so eps = 1e-6 leaves ~1e-9 relative error in practice.
GRAD_EPS, GRAD_RTOL, GRAD_ATOL = 1e-6, 1e-6, 1e-8


def _float64(x) -> np.ndarray:
    return np.array(x, dtype=np.float64, copy=True)


def gradients(
    layer,
    x,
    training: bool = False,
    eps: float = GRAD_EPS,
    rtol: float = GRAD_RTOL,
    atol: float = GRAD_ATOL,
    max_checks: int = 60,
    seed: int = 0,
    check_input: bool = True,
    **call_kwargs,
) -> None:
    """Backward of ``sum(R * layer(x))`` for a fixed random ``R`` against central differences, in float64.

    Checks the gradient of every trainable weight and (``check_input``) of the input, on at
    most ``max_checks`` elements of each, chosen at random. Needs the ``float64`` fixture
    (``myelin.backend.floatx() == "float64"``) so that the layer's weights are float64.
    """
    assert myelin.backend.floatx() == "float64", "use the float64 fixture: finite differences need float64 weights"
    gen = np.random.default_rng(seed)
    xs = [_float64(a) for a in x] if isinstance(x, list) else [_float64(x)]

    def run(grad: bool):
        ts = [Tensor(a, requires_grad=grad and check_input) for a in xs]
        out = layer(ts if isinstance(x, list) else ts[0], training=training, **call_kwargs)
        return ts, out

    _, out = run(False)
    outs = out if isinstance(out, (list, tuple)) else [out]
    weights_r = [gen.standard_normal(o.shape) for o in outs]

    def objective() -> float:
        with myelin.no_grad():
            _, o = run(False)
        os_ = o if isinstance(o, (list, tuple)) else [o]
        return float(sum(np.sum(r * t.data) for r, t in zip(weights_r, os_)))

    for w in layer.trainable_weights:
        w.grad = None
    ts, out = run(True)
    outs = out if isinstance(out, (list, tuple)) else [out]
    total = None
    for r, o in zip(weights_r, outs):
        term = (o * Tensor(r)).sum()
        total = term if total is None else total + term
    total.backward()
    targets = [(w.name, w.data, w.grad) for w in layer.trainable_weights]
    if check_input:
        targets += [(f"input {i}", xs[i], t.grad) for i, t in enumerate(ts)]
    for name, value, analytic in targets:
        assert analytic is not None, f"{layer.name}: no gradient reached {name}"
        flat = value.reshape(-1)
        picks = gen.choice(flat.size, size=min(max_checks, flat.size), replace=False)
        for i in picks:
            original = flat[i]
            flat[i] = original + eps
            plus = objective()
            flat[i] = original - eps
            minus = objective()
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            got = np.asarray(analytic).reshape(-1)[i]
            assert abs(got - numeric) <= atol + rtol * abs(numeric), (
                f"{layer.name}: d/d {name}[{i}] is {got!r} by backward, {numeric!r} by central differences"
            )


def config_round_trip(layer, x, **call_kwargs) -> None:
    """``from_config(get_config())`` gives the same config and, with the same weights, the same outputs."""
    out = layer(x, **call_kwargs)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone(x, **call_kwargs)  # build
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(_data(clone(x, **call_kwargs)), _data(out))


def _data(out):
    if isinstance(out, (list, tuple)):
        return [np.asarray(o.data) for o in out]
    return np.asarray(out.data)


def model_of(layer, sample_shape, dtype=None) -> myelin.Model:
    """A functional model of one input and this one layer (for saving and ONNX)."""
    inputs = myelin.Input(shape=tuple(sample_shape), dtype=dtype)
    return myelin.Model(inputs, layer(inputs))


def saving(model, x, tmp_path) -> myelin.Model:
    """Save and load the whole model: the loaded one predicts bit for bit the same."""
    pytest.importorskip("safetensors")
    path = tmp_path / "layer_check.myelin"
    model.save(path)
    loaded = myelin.models.load_model(path)
    want, got = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    for a, b in zip(want if isinstance(want, list) else [want], got if isinstance(got, list) else [got]):
        np.testing.assert_array_equal(a, b)
    return loaded


def onnx_export(model, x, tmp_path, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """Export to ONNX, check the graph, run it in onnxruntime: it gives predict's numbers (float32)."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "layer_check.onnx"
    model.export(path, format="onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.asarray(x, dtype=np.float32)}
    got = session.run(None, feed)
    want = model.predict(x, verbose=0)
    for g, w in zip(got, want if isinstance(want, list) else [want]):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def close(actual, expected, rtol: float = 1e-10, atol: float = 1e-12, what: str = "") -> None:
    """Compare lists (or single arrays) of float64 results, e.g. with PyTorch's from the same weights."""
    pairs = zip(actual, expected) if isinstance(actual, (list, tuple)) else [(actual, expected)]
    for i, (a, e) in enumerate(pairs):
        e = e.detach().numpy() if hasattr(e, "detach") else e
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=rtol, atol=atol, err_msg=f"{what} [{i}]")
