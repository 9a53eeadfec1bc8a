"""LayerNormalization, RMSNormalization and UnitNormalization.

Compared with PyTorch's F.layer_norm / F.rms_norm / F.normalize from the same weights (forward
and gradients, float64 at 1e-10) and with the committed golden values where torch is absent;
any axes against an explicit NumPy formula; float64 central differences of the fused
primitives; config, saving and ONNX export.
"""

import json
from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers, ops
from tests.layers import checks
from tests.layers.attention_torch import norm_arrays, norm_torch

GOLDEN = json.loads((Path(__file__).parents[1] / "data" / "attention_golden.json").read_text())
rng = np.random.default_rng(5)


def _run(kind: str, a: dict) -> dict:
    layer = {
        "layer_norm": lambda: layers.LayerNormalization(),
        "rms_norm": lambda: layers.RMSNormalization(),
        "normalize": lambda: layers.UnitNormalization(),
    }[kind]()
    x = Tensor(a["x"], requires_grad=True)
    layer(x)
    if kind == "layer_norm":
        layer.set_weights([a["gamma"], a["beta"]])
    elif kind == "rms_norm":
        layer.set_weights([a["gamma"]])
    y = layer(x)
    (y * Tensor(a["r"])).sum().backward()
    out = {"y": y.data, "grad_x": x.grad}
    for name, w in zip(("grad_gamma", "grad_beta"), layer.weights):
        out[name] = w.grad
    return out


def _compare(got, want, what):
    assert set(got) == set(want)
    for key in want:
        checks.close(got[key], np.asarray(want[key]), rtol=1e-10, atol=1e-12, what=f"{what} {key}")


@pytest.mark.parametrize("kind", ["layer_norm", "rms_norm", "normalize"])
def test_matches_committed_golden_values_and_torch(float64, torch_if_installed, kind):
    """The committed values everywhere; torch itself from the same weights where it is installed."""
    a = norm_arrays()
    got = _run(kind, a)
    _compare(got, GOLDEN[kind], f"{kind} vs golden")
    if torch_if_installed is not None:
        _compare(got, norm_torch(torch_if_installed, kind, a), f"{kind} vs torch")


@pytest.mark.parametrize("axis", [-1, 1, [1, 2], [1, 3], -2])
def test_layer_normalization_over_any_axes(float64, axis):
    x = rng.standard_normal((2, 3, 4, 5)) * 3 + 1
    layer = layers.LayerNormalization(axis=axis, epsilon=1e-3, gamma_initializer="random_normal", beta_initializer="ones")
    y = layer(x).data
    axes = tuple(a % 4 for a in (axis if isinstance(axis, list) else [axis]))
    shape = [x.shape[a] if a in axes else 1 for a in range(4)]
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    want = (x - mean) / np.sqrt(var + 1e-3) * layer.gamma.data.reshape(shape) + layer.beta.data.reshape(shape)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    assert layer.gamma.shape == tuple(x.shape[a] for a in axes)
    checks.gradients(layer, x, max_checks=20)


@pytest.mark.parametrize("axis", [-1, [1, 2], 1])
def test_rms_and_unit_normalization_over_axes(float64, axis):
    x = rng.standard_normal((2, 3, 4))
    axes = tuple(a % 3 for a in (axis if isinstance(axis, list) else [axis]))
    rms = layers.RMSNormalization(axis=axis, epsilon=1e-6)
    rms(x)
    rms.scale.data[...] = rng.standard_normal(rms.scale.shape)
    shape = [x.shape[a] if a in axes else 1 for a in range(3)]
    want = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + 1e-6) * rms.scale.data.reshape(shape)
    np.testing.assert_allclose(rms(x).data, want, rtol=1e-12)
    checks.gradients(rms, x, max_checks=20)
    unit = layers.UnitNormalization(axis=axis)
    np.testing.assert_allclose(unit(x).data, x / np.sqrt((x * x).sum(axis=axes, keepdims=True)), rtol=1e-12)
    checks.gradients(unit, x, max_checks=20)


def test_layer_norm_options(float64):
    x = rng.standard_normal((3, 6))
    plain = layers.LayerNormalization(center=False, scale=False)
    assert plain(x).shape == (3, 6) and plain.weights == []
    with pytest.warns(UserWarning, match="rms_scaling"):
        rs = layers.LayerNormalization(rms_scaling=True, epsilon=0.01)
    y = rs(x).data
    np.testing.assert_allclose(y, x / np.sqrt(x.var(-1, keepdims=True) + 0.01), rtol=1e-12)
    assert [w.name.split("/")[-1] for w in rs.weights] == ["gamma"]
    checks.gradients(rs, x, max_checks=20)
    assert rs.get_config()["rms_scaling"] is True


def test_fused_primitives_without_parameters_by_central_differences(float64):
    x = rng.standard_normal((4, 7))
    for fn in (lambda t: ops.layer_normalization(t, epsilon=1e-3), lambda t: ops.rms_normalization(t, epsilon=1e-6)):
        t = Tensor(x, requires_grad=True)
        r = rng.standard_normal(x.shape)
        (fn(t) * Tensor(r)).sum().backward()
        for i in rng.choice(x.size, 10, replace=False):
            hi, lo = x.copy().reshape(-1), x.copy().reshape(-1)
            hi[i] += 1e-6
            lo[i] -= 1e-6
            num = (
                float((fn(Tensor(hi.reshape(x.shape))).data * r).sum())
                - float((fn(Tensor(lo.reshape(x.shape))).data * r).sum())
            ) / 2e-6
            assert abs(t.grad.reshape(-1)[i] - num) < 1e-8


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"LayerNormalization layer 'ln': axis 3 is out of bounds"):
        layers.LayerNormalization(axis=3, name="ln")(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="batch axis"):
        layers.RMSNormalization(axis=0)(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="UnitNormalization: axis must be an int"):
        layers.UnitNormalization(axis="last")
    with pytest.raises(ValueError, match="epsilon"):
        layers.LayerNormalization(epsilon=-1.0)


def test_config_saving_and_onnx(tmp_path):
    x = rng.standard_normal((3, 4, 6)).astype("float32")
    for layer in (
        layers.LayerNormalization(axis=[1, 2], epsilon=0.01, center=False),
        layers.RMSNormalization(epsilon=1e-5),
        layers.UnitNormalization(axis=1),
    ):
        checks.config_round_trip(layer, x)
    inp = myelin.Input((4, 6))
    y = layers.LayerNormalization()(inp)
    y = layers.RMSNormalization()(y)
    y = layers.UnitNormalization()(y)
    y = layers.LayerNormalization(axis=[1, 2], beta_initializer="ones")(y)
    model = myelin.Model(inp, y)
    checks.saving(model, x, tmp_path)
    checks.onnx_export(model, x, tmp_path)


def test_masks_pass_through():
    x = layers.Masking()(np.array([[[1.0, 2.0], [0.0, 0.0]]]))
    for layer in (layers.LayerNormalization(), layers.RMSNormalization(), layers.UnitNormalization()):
        assert layer(x)._keras_mask.data.tolist() == [[True, False]]


@pytest.mark.parametrize("axes", [-1, (-2, -1)])
def test_rows_split_over_the_native_threads_give_the_same_bits(axes, monkeypatch):
    """In fit the rows are normalized in parts on two threads; each row on its own, so nothing changes."""
    from myelin import backend, native

    rng = np.random.default_rng(7)
    x, r = rng.standard_normal((2, 300, 4, 6)).astype(np.float32)
    shape = (6,) if axes == -1 else (4, 6)
    gamma, beta = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))

    def run():
        leaves = [Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
        y = ops.layer_normalization(*leaves, axis=axes, epsilon=1e-3)
        (y * Tensor(r)).sum().backward()
        return [y.data] + [t.grad for t in leaves]

    whole = run()
    monkeypatch.setattr(backend, "_native_threads", 2)
    monkeypatch.setattr(native, "PARALLEL_MIN_ELEMENTS", 1)
    before = native.splits()
    split = run()
    assert native.splits() == before + 2  # the forward and the input's gradient
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a, b)
