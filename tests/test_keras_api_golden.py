"""myelin against Keras 3's own results (tests/data/keras_api_golden.json, from tests/make_keras_api_golden.py).

Losses, metrics, optimizers, schedules and activations run on the same float64 inputs as in
Keras; results agree to 1e-6 relative (Keras's float64 path and myelin's take the same formulas
in a different order).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from myelin import Tensor, activations, backend, losses, metrics, optimizers
from myelin.optimizers import schedules
from tests.keras_api_cases import all_cases
from tests.make_keras_api_golden import GOLDEN, decode

GOLDEN_CASES = json.loads(GOLDEN.read_text())["cases"]
CASES = {case["id"]: case for case in all_cases()}


@pytest.fixture(autouse=True)
def _float64():
    previous = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(previous)


def run_myelin(case: dict) -> np.ndarray:
    kind, name, config, inputs = case["kind"], case["name"], case["config"], case["inputs"]
    if kind == "loss":
        obj = getattr(losses, name)
        if isinstance(obj, type):
            return np.asarray(obj(**config)(*inputs).data)
        return np.asarray(obj(*inputs, **config).data)
    if kind == "metric":
        metric = getattr(metrics, name)(**config)
        for batch in inputs:
            metric.update_state(*batch)
        return np.asarray(metric.result(), dtype=np.float64)
    if kind == "optimizer":
        weight, grads = inputs
        var = Tensor(np.array(weight, dtype=np.float64), requires_grad=True)
        opt = getattr(optimizers, name)(**config)
        trajectory = []
        for g in grads:
            opt.apply_gradients([(np.array(g, dtype=np.float64), var)])
            trajectory.append(var.data.copy())
        return np.stack(trajectory)
    if kind == "schedule":
        schedule = getattr(schedules, name)(**config)
        return np.array([float(schedule(step)) for step in inputs[0]])
    if kind == "activation":
        return np.asarray(getattr(activations, name)(Tensor(np.asarray(inputs[0], np.float64)), **config).data)
    raise ValueError(kind)


def test_golden_file_covers_every_case():
    assert set(GOLDEN_CASES) == set(CASES), "rerun python -m tests.make_keras_api_golden with Keras installed"


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_matches_keras(case_id):
    expected = decode(GOLDEN_CASES[case_id]["expected"])
    got = run_myelin(CASES[case_id])
    assert got.shape == expected.shape, f"{case_id}: shape {got.shape}, Keras {expected.shape}"
    # Keras computes a few scalars in float32 even under float64 (Adafactor's beta_2 schedule):
    # weights of order 1 then agree to ~1e-7 absolute
    atol = 1e-7 if CASES[case_id]["kind"] == "optimizer" else 1e-9
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=atol, err_msg=case_id)
