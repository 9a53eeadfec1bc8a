"""The rest of Keras's losses: values and gradients against torch.nn.functional (where torch has
the same loss) and against Keras's formulas written in torch (autograd for the gradient),
float64 finite differences, configs and errors. The torch comparisons run everywhere from the committed
tests/data/losses_more_golden.json (tests/make_torch_twins_golden.py) and against torch itself where
installed. Keras's own values: tests/test_keras_api_golden.py."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import Tensor, backend, gradcheck, losses

from . import golden

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _float64():
    previous = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(previous)


def _value_and_grad(fn, y_true, y_pred, **kw):
    p = Tensor(np.array(y_pred, dtype=np.float64), requires_grad=True)
    out = fn(y_true, p, **kw)
    total = out.sum() if out.ndim else out
    total.backward()
    return np.asarray(out.data), np.asarray(p.grad)


def _torch_value_and_grad(t, fn, y_true, y_pred):
    p = t.tensor(y_pred, dtype=t.float64, requires_grad=True)
    out = fn(t, t.tensor(y_true, dtype=t.float64), p)
    out.sum().backward()
    return out.detach().numpy(), p.grad.numpy()


Y_PROB = RNG.dirichlet(np.ones(4), size=5) * 0.96 + 0.01
P_PROB = RNG.dirichlet(np.ones(4), size=5) * 0.96 + 0.01
Y_BIN = RNG.integers(0, 2, (5, 3)).astype(np.float64)
P_UNIT = RNG.uniform(0.05, 0.95, (5, 3))
Y_REAL, P_REAL = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
Y_POS, P_POS = RNG.uniform(0.1, 3.0, (5, 3)), RNG.uniform(0.1, 3.0, (5, 3))


def _vg(ours_fn, y_true, y_pred, **kw):
    value, grad = _value_and_grad(ours_fn, y_true, y_pred, **kw)
    return {"value": value, "grad": grad}


def _tvg(torch, formula, y_true, y_pred):
    value, grad = _torch_value_and_grad(torch, formula, y_true, y_pred)
    return {"value": value, "grad": grad}


ONEHOT = np.eye(4)[np.random.default_rng(8).integers(0, 4, 5)]

# name: (myelin's loss, its keyword arguments, y_true, y_pred, the same in torch, rtol, atol)
TORCH_LOSSES = {
    "kl_divergence_is_torch_kl_div": (
        losses.kl_divergence,
        {},
        Y_PROB,
        P_PROB,
        lambda t, y, p: t.nn.functional.kl_div(t.log(p), y, reduction="none").sum(-1),
        1e-10,
        1e-12,
    ),
    "poisson_is_torch_poisson_nll": (
        losses.poisson,
        {},
        Y_POS,
        P_POS,
        lambda t, y, p: t.nn.functional.poisson_nll_loss(p, y, log_input=False, eps=1e-7, full=False, reduction="none").mean(
            -1
        ),
        1e-10,
        1e-12,
    ),
    "cosine_similarity_is_minus_torch_cosine_similarity": (
        losses.cosine_similarity,
        {},
        Y_REAL,
        P_REAL,
        lambda t, y, p: -t.nn.functional.cosine_similarity(y, p, dim=-1),
        1e-9,
        1e-12,
    ),
    "focal_with_gamma_zero_is_torch_binary_cross_entropy": (
        losses.binary_focal_crossentropy,
        {"gamma": 0.0},
        Y_BIN,
        P_UNIT,
        lambda t, y, p: t.nn.functional.binary_cross_entropy(p, y, reduction="none").mean(-1),
        1e-10,
        1e-12,
    ),
    "categorical_focal_with_gamma_zero_is_alpha_times_cross_entropy": (
        losses.categorical_focal_crossentropy,
        {"gamma": 0.0, "alpha": 1.0},
        ONEHOT,
        P_PROB,
        lambda t, y, p: t.nn.functional.nll_loss(t.log(p / p.sum(-1, keepdim=True)), y.argmax(-1), reduction="none"),
        1e-10,
        1e-12,
    ),
    "log_cosh_is_torch_formula": (
        losses.log_cosh,
        {},
        Y_REAL,
        P_REAL,
        lambda t, y, p: t.log(t.cosh(p - y)).mean(-1),
        1e-10,
        1e-12,
    ),
}


KERAS_FORMULAS = {
    "binary_focal_crossentropy": (
        Y_BIN,
        P_UNIT,
        lambda t, y, p: ((1 - (y * p + (1 - y) * (1 - p))) ** 2 * -(y * t.log(p) + (1 - y) * t.log(1 - p))).mean(-1),
    ),
    "categorical_focal_crossentropy": (
        np.eye(4)[[0, 1, 2, 3, 1]],
        P_PROB,
        lambda t, y, p: (0.25 * (1 - p / p.sum(-1, keepdim=True)) ** 2 * -y * t.log(p / p.sum(-1, keepdim=True))).sum(-1),
    ),
    "mean_absolute_percentage_error": (Y_REAL, P_REAL, lambda t, y, p: 100 * (t.abs(y - p) / t.abs(y)).mean(-1)),
    "mean_squared_logarithmic_error": (Y_POS, P_POS, lambda t, y, p: ((t.log1p(p) - t.log1p(y)) ** 2).mean(-1)),
    "hinge": (Y_BIN, P_REAL, lambda t, y, p: t.clamp(1 - (2 * y - 1) * p, min=0).mean(-1)),
    "squared_hinge": (Y_BIN, P_REAL, lambda t, y, p: (t.clamp(1 - (2 * y - 1) * p, min=0) ** 2).mean(-1)),
    "categorical_hinge": (
        np.eye(3)[[0, 1, 2, 0, 1]],
        P_REAL,
        lambda t, y, p: t.clamp(((1 - y) * p).max(-1).values - (y * p).sum(-1) + 1, min=0),
    ),
    "dice": (Y_BIN, P_UNIT, lambda t, y, p: 1 - 2 * (y * p).sum() / (y.sum() + p.sum() + 1e-7)),
    "tversky": (
        Y_BIN,
        P_UNIT,
        lambda t, y, p: 1 - (y * p).sum() / ((y * p).sum() + 0.5 * ((1 - p) * y).sum() + 0.5 * (p * (1 - y)).sum() + 1e-7),
    ),
}


# tests/golden.py runs every case against the committed tests/data/losses_more_golden.json everywhere
# and against torch where it is installed: torch.nn.functional's loss, or Keras's formula in torch
GOLDEN_FILE = "losses_more_golden.json"
TORCH_CASES = {
    **{
        name: (
            lambda fn=fn, kw=kw, y=y, p=p: _vg(fn, y, p, **kw),
            lambda torch, f=f, y=y, p=p: _tvg(torch, f, y, p),
            rtol,
            atol,
        )
        for name, (fn, kw, y, p, f, rtol, atol) in TORCH_LOSSES.items()
    },
    **{
        f"{name}_follows_keras_formula": (
            lambda name=name, y=y, p=p: _vg(getattr(losses, name), y, p),
            lambda torch, f=f, y=y, p=p: _tvg(torch, f, y, p),
            1e-9,
            1e-10,
        )
        for name, (y, p, f) in KERAS_FORMULAS.items()
    },
}


def test_the_golden_file_holds_every_case():
    golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_value_and_gradient_match_torch(name, torch_if_installed):
    golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)


GRADCHECK = {
    "binary_focal_crossentropy": (Y_BIN, P_UNIT, {"gamma": 1.5, "apply_class_balancing": True}),
    "categorical_focal_crossentropy": (np.eye(4)[[0, 1, 2, 3, 1]], P_PROB, {"label_smoothing": 0.1}),
    "kl_divergence": (Y_PROB, P_PROB, {}),
    "poisson": (Y_POS, P_POS, {}),
    "log_cosh": (Y_REAL, P_REAL, {}),
    "mean_absolute_percentage_error": (Y_REAL, P_REAL, {}),
    "mean_squared_logarithmic_error": (Y_POS, P_POS, {}),
    "hinge": (Y_BIN, P_REAL * 0.3, {}),
    "squared_hinge": (Y_BIN, P_REAL, {}),
    "categorical_hinge": (np.eye(3)[[0, 1, 2, 0, 1]], P_REAL, {}),
    "cosine_similarity": (Y_REAL, P_REAL, {}),
    "dice": (Y_BIN, P_UNIT, {"axis": -1}),
    "tversky": (Y_BIN, P_UNIT, {"alpha": 0.3, "beta": 0.7}),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradients_match_finite_differences(name):
    y_true, y_pred, kw = GRADCHECK[name]
    fn = getattr(losses, name)
    result = gradcheck(lambda p: fn(y_true, p, **kw), [y_pred])
    assert result, result


def test_hinge_keeps_signed_labels_and_converts_binary_ones():
    p = np.array([[0.5, -2.0]])
    assert losses.hinge([[1.0, 0.0]], p).item() == pytest.approx(0.25)
    assert losses.hinge([[1.0, -1.0]], p).item() == pytest.approx(0.25)
    # labels that are not all 0/1 are used as they are
    assert losses.hinge([[0.5, -1.0]], p).item() == pytest.approx((0.75 + 0.0) / 2)


def test_classes_reduce_and_weigh_like_the_base():
    w = np.array([1.0, 0.0, 2.0, 1.0, 0.5])
    per_sample = losses.poisson(Y_POS, P_POS).data
    assert losses.Poisson()(Y_POS, P_POS, sample_weight=w).item() == pytest.approx((per_sample * w).sum() / 5)
    assert losses.Poisson(reduction="sum")(Y_POS, P_POS).item() == pytest.approx(per_sample.sum())
    np.testing.assert_allclose(losses.Poisson(reduction="none")(Y_POS, P_POS).data, per_sample)


@pytest.mark.parametrize(
    "cls",
    [
        losses.BinaryFocalCrossentropy,
        losses.CategoricalFocalCrossentropy,
        losses.KLDivergence,
        losses.Poisson,
        losses.LogCosh,
        losses.MeanAbsolutePercentageError,
        losses.MeanSquaredLogarithmicError,
        losses.Hinge,
        losses.SquaredHinge,
        losses.CategoricalHinge,
        losses.CosineSimilarity,
        losses.Dice,
        losses.Tversky,
    ],
)
def test_registered_by_keras_name_with_keras_default_name(cls):
    loss = losses.get(cls.__name__)
    assert type(loss) is cls
    assert loss.name == {
        "KLDivergence": "kl_divergence",
        "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
        "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error",
        "LogCosh": "log_cosh",
    }.get(cls.__name__, loss.name)
    again = cls.from_config(loss.get_config())
    assert again.get_config() == loss.get_config()


def test_string_aliases_of_keras():
    for alias, fn in {
        "mape": "mean_absolute_percentage_error",
        "msle": "mean_squared_logarithmic_error",
        "kld": "kl_divergence",
    }.items():
        assert losses.get(alias).fn is getattr(losses, fn)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Tversky: axis must be"):
        losses.Tversky(axis="rows")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        losses.BinaryFocalCrossentropy(label_smoothing=2.0)
    with pytest.raises(ValueError, match="categorical_focal_crossentropy: axis must be an int"):
        losses.categorical_focal_crossentropy(Y_PROB, P_PROB, axis=True)
    with pytest.raises(ValueError, match="y_true has shape"):
        losses.poisson(np.zeros((2, 3)), np.zeros((2, 4)))


def test_a_model_trains_with_the_focal_loss():
    import myelin
    from myelin import layers

    backend.set_floatx("float32")
    x = RNG.normal(size=(128, 4)).astype(np.float32)
    y = (x[:, :1] + x[:, 1:2] > 0).astype(np.float32)
    model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=myelin.optimizers.Adam(0.05), loss=losses.BinaryFocalCrossentropy(), metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
