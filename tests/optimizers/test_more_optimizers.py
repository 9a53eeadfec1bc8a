"""Adamax, Nadam, Adadelta against torch.optim step by step (the committed tests/data/more_optimizers_golden.json
everywhere, torch itself where installed); Lion, Lamb, Ftrl, Adafactor against
Keras's formulas written in NumPy here; all of them against Keras 3's own trajectories in
tests/test_keras_api_golden.py. Plus: state saving, several variables, training, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import myelin
from myelin import Tensor, layers, optimizers

from .. import golden

RNG = np.random.default_rng(11)
W0 = RNG.normal(size=(4, 3))
GRADS = [RNG.normal(size=(4, 3)) * (1 + 0.2 * k) for k in range(12)]


def _myelin_trajectory(opt, w0=W0, grads=GRADS):
    w = Tensor(np.array(w0, dtype=np.float64), requires_grad=True)
    out = []
    for g in grads:
        opt.apply_gradients([(np.array(g), w)])
        out.append(w.data.copy())
    return np.stack(out)


def _torch_trajectory(torch, make):
    w = torch.tensor(W0, dtype=torch.float64, requires_grad=True)
    opt = make(torch, [w])
    out = []
    for g in GRADS:
        w.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(w.detach().numpy().copy())
    return np.stack(out)


# name: (myelin's optimizer, torch's from the same arguments)
TORCH_OPTIMIZERS = {
    "adamax": (lambda: optimizers.Adamax(0.01, epsilon=0.0), lambda t, p: t.optim.Adamax(p, lr=0.01, eps=0.0)),
    "adamax_betas": (
        lambda: optimizers.Adamax(0.05, beta_1=0.8, beta_2=0.9, epsilon=0.0),
        lambda t, p: t.optim.Adamax(p, lr=0.05, betas=(0.8, 0.9), eps=0.0),
    ),
    # torch's momentum_decay=1 gives Keras's schedule 0.96 ** t
    "nadam": (lambda: optimizers.Nadam(0.01), lambda t, p: t.optim.NAdam(p, lr=0.01, eps=1e-7, momentum_decay=1.0)),
    "nadam_betas": (
        lambda: optimizers.Nadam(0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-5),
        lambda t, p: t.optim.NAdam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-5, momentum_decay=1.0),
    ),
    "adadelta": (lambda: optimizers.Adadelta(1.0), lambda t, p: t.optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7)),
    "adadelta_rho": (
        lambda: optimizers.Adadelta(0.5, rho=0.8, epsilon=1e-6),
        lambda t, p: t.optim.Adadelta(p, lr=0.5, rho=0.8, eps=1e-6),
    ),
}

# tests/golden.py checks each trajectory against the committed tests/data/more_optimizers_golden.json
# everywhere and against torch.optim where it is installed. torch keeps NAdam's momentum product in a
# float32 tensor: agreement to ~1e-8 there, 1e-12 elsewhere.
GOLDEN_FILE = "more_optimizers_golden.json"
TORCH_CASES = {
    name: (
        lambda ours=ours: {"trajectory": _myelin_trajectory(ours())},
        lambda torch, theirs=theirs: {"trajectory": _torch_trajectory(torch, theirs)},
        1e-7 if name.startswith("nadam") else 1e-12,
        1e-14,
    )
    for name, (ours, theirs) in TORCH_OPTIMIZERS.items()
}


def test_the_golden_file_holds_every_case():
    golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_each_step_matches_torch(name, torch_if_installed):
    golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)


def _lion(w, grads, lr=0.01, b1=0.9, b2=0.99):
    m, out = np.zeros_like(w), []
    for g in grads:
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        m = b2 * m + (1 - b2) * g
        out.append(w)
    return np.stack(out)


def _lamb(w, grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    m, v, out = np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        update = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        ratio = np.linalg.norm(w) / np.linalg.norm(update)
        w = w - ratio * lr * update
        out.append(w)
    return np.stack(out)


def _ftrl(w, grads, lr=0.1, power=-0.5, n0=0.1, l1=0.01, l2=0.02, shrink=0.0, beta=0.0):
    n, z, out = np.full_like(w, n0), np.zeros_like(w), []
    for g in grads:
        new_n = n + g * g
        sigma = (new_n**-power - n**-power) / lr
        z = z + g + 2 * shrink * w - sigma * w
        quadratic = new_n**-power / lr + 2 * (l2 + beta / (2 * lr))
        w = (np.clip(z, -l1, l1) - z) / quadratic
        n = new_n
        out.append(w)
    return np.stack(out)


def _adafactor(w, grads, lr=0.01, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    r, c, out = np.zeros(w.shape[:-1]), np.zeros(w.shape[:-2] + w.shape[-1:]), []
    for t, g in enumerate(grads, 1):
        rho = min(lr, 1 / math.sqrt(t))
        alpha = max(eps2, np.sqrt(np.mean(w * w))) * rho
        b2 = 1 - t**decay
        sq = g * g + eps1
        r = b2 * r + (1 - b2) * sq.mean(-1)
        c = b2 * c + (1 - b2) * sq.mean(-2)
        v = (r / r.mean(-1, keepdims=True))[..., None] * c[..., None, :]
        u = g / np.sqrt(v)
        u = u / max(1.0, np.sqrt(np.mean(u * u)) / clip)
        w = w - alpha * u
        out.append(w)
    return np.stack(out)


@pytest.mark.parametrize(
    ("opt", "formula"),
    [
        (lambda: optimizers.Lion(0.01), lambda: _lion(W0, GRADS)),
        (lambda: optimizers.Lamb(0.01), lambda: _lamb(W0, GRADS)),
        (
            lambda: optimizers.Ftrl(0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.02),
            lambda: _ftrl(W0, GRADS),
        ),
        (
            lambda: optimizers.Ftrl(
                0.1,
                l1_regularization_strength=0.01,
                l2_regularization_strength=0.02,
                l2_shrinkage_regularization_strength=0.1,
                beta=0.5,
            ),
            lambda: _ftrl(W0, GRADS, shrink=0.1, beta=0.5),
        ),
        (lambda: optimizers.Adafactor(0.01), lambda: _adafactor(W0, GRADS)),
    ],
)
def test_each_step_follows_keras_formula(opt, formula):
    np.testing.assert_allclose(_myelin_trajectory(opt()), formula(), rtol=1e-12, atol=1e-14)


def test_per_variable_rules_see_each_variable_apart():
    """Lamb's trust ratio and Adafactor's factoring are per variable, even when they share a buffer."""
    a0, b0 = RNG.normal(size=(4, 3)), RNG.normal(size=(2, 5))
    ga, gb = [RNG.normal(size=(4, 3)) for _ in range(4)], [RNG.normal(size=(2, 5)) for _ in range(4)]
    for make, formula in ((lambda: optimizers.Lamb(0.01), _lamb), (lambda: optimizers.Adafactor(0.01), _adafactor)):
        a, b = Tensor(a0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)
        opt = make()
        for x, y in zip(ga, gb):
            opt.apply_gradients([(x, a), (y, b)])
        np.testing.assert_allclose(a.data, formula(a0, ga)[-1], rtol=1e-12)
        np.testing.assert_allclose(b.data, formula(b0, gb)[-1], rtol=1e-12)


@pytest.mark.parametrize("name", ["Adamax", "Nadam", "Adadelta", "Lion", "Lamb", "Ftrl", "Adafactor"])
def test_state_round_trips_and_resumes_identically(name):
    make = getattr(optimizers, name)
    full = _myelin_trajectory(make(learning_rate=0.01))
    first = make(learning_rate=0.01)
    w = Tensor(np.array(W0), requires_grad=True)
    for g in GRADS[:6]:
        first.apply_gradients([(g, w)])
    second = make.from_config(first.get_config())
    w2 = Tensor(w.data.copy(), requires_grad=True)
    second.build([w2])
    second.set_state(first.get_state())
    for g in GRADS[6:]:
        second.apply_gradients([(g, w2)])
    np.testing.assert_allclose(w2.data, full[-1], rtol=1e-12)


@pytest.mark.parametrize("name", ["adamax", "nadam", "adadelta", "lion", "lamb", "ftrl", "adafactor"])
def test_a_model_trains_with_each(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-1.0], [0.5], [2.0]], np.float32)).astype(np.float32)
    model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(8, activation="tanh"), layers.Dense(1)])
    lr = {"adadelta": 5.0, "ftrl": 0.5, "adafactor": 0.05}.get(name, 0.02)
    opt = optimizers.get(name)
    opt.learning_rate = lr
    model.compile(optimizer=opt, loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0], history.history["loss"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Adamax: beta_1 must be in"):
        optimizers.Adamax(beta_1=1.5)
    with pytest.raises(ValueError, match="Ftrl: learning_rate_power must be <= 0"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="Ftrl: l1_regularization_strength must be >= 0"):
        optimizers.Ftrl(l1_regularization_strength=-1.0)
    with pytest.raises(ValueError, match="Lion: beta_1 must be in"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="Adadelta: rho must be in"):
        optimizers.Adadelta(rho=2.0)
    with pytest.raises(TypeError, match="Nadam: unexpected argument"):
        optimizers.Nadam(momentum=0.9)


def test_schedules_serialize_and_deserialize_like_keras():
    from myelin.optimizers import schedules

    for s in (
        schedules.PolynomialDecay(0.1, 10, cycle=True),
        schedules.InverseTimeDecay(0.1, 4, 0.5, staircase=True),
        schedules.CosineDecayRestarts(0.1, 5, t_mul=1.5),
        schedules.ExponentialDecay(0.1, 3, 0.5),
    ):
        spec = schedules.serialize(s)
        assert set(spec) == {"module", "class_name", "config", "registered_name"}
        again = schedules.deserialize(spec)
        assert type(again) is type(s)
        assert [again(k) for k in range(0, 40, 3)] == [s(k) for k in range(0, 40, 3)]
    # Keras's own serialized form (module "keras.optimizers.schedules") reads too
    keras_spec = {
        "module": "keras.optimizers.schedules",
        "class_name": "InverseTimeDecay",
        "config": {
            "initial_learning_rate": 0.2,
            "decay_steps": 2,
            "decay_rate": 1.0,
            "staircase": False,
            "name": "InverseTimeDecay",
        },
        "registered_name": None,
    }
    assert schedules.deserialize(keras_spec)(2) == pytest.approx(0.1)

    class Halving(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 0.5**step

    assert isinstance(
        schedules.deserialize({"class_name": "Halving", "config": {}}, custom_objects={"Halving": Halving}), Halving
    )
    with pytest.raises(ValueError, match="Unknown learning-rate schedule 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="serialize: Halving is not registered"):
        schedules.serialize(Halving())


def test_an_optimizer_follows_a_new_schedule():
    from myelin.optimizers import schedules

    opt = optimizers.Lion(learning_rate=schedules.PolynomialDecay(0.1, 4, end_learning_rate=0.0))
    w = Tensor(np.zeros(2), requires_grad=True)
    for _ in range(5):
        opt.apply_gradients([(np.array([1.0, -1.0]), w)])
    # steps at lr 0.1, 0.075, 0.05, 0.025, 0
    np.testing.assert_allclose(w.data, [-0.25, 0.25])
