"""Regenerate tests/data/keras_api_golden.json: Keras 3's results for every case of tests/keras_api_cases.py.

Run it from the repository root with Keras installed (the peer environment):

    KERAS_BACKEND=torch /work/peers/bin/python -m tests.make_keras_api_golden

tests/test_keras_api_golden.py checks myelin against the file on every machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "data" / "keras_api_golden.json"


def encode(value) -> dict:
    a = np.asarray(value, dtype=np.float64)
    return {"shape": list(a.shape), "values": [float(v) for v in a.reshape(-1)]}


def decode(entry: dict) -> np.ndarray:
    return np.asarray(entry["values"], dtype=np.float64).reshape(entry["shape"])


def _numpy(x) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


def run_keras(keras, case: dict):
    """Keras's result for one case (float64 throughout)."""
    kind, name, config, inputs = case["kind"], case["name"], case["config"], case["inputs"]
    if kind == "loss":
        inputs = [keras.ops.convert_to_tensor(a) for a in inputs]
        obj = getattr(keras.losses, name)
        if isinstance(obj, type):
            return _numpy(obj(**config)(*inputs))
        return _numpy(obj(*inputs, **config))
    if kind == "metric":
        metric = getattr(keras.metrics, name)(**config)
        for batch in inputs:
            metric.update_state(*batch)
        return _numpy(metric.result())
    if kind == "optimizer":
        weight, grads = inputs
        var = keras.Variable(weight, dtype="float64")
        opt = getattr(keras.optimizers, name)(**config)
        trajectory = []
        for g in grads:
            opt.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), var)])
            trajectory.append(_numpy(var.value).copy())
        return np.stack(trajectory)
    if kind == "schedule":
        schedule = getattr(keras.optimizers.schedules, name)(**config)
        return np.array([float(_numpy(schedule(step))) for step in inputs[0]])
    if kind == "activation":
        return _numpy(getattr(keras.activations, name)(keras.ops.convert_to_tensor(inputs[0], "float64"), **config))
    raise ValueError(f"unknown case kind {kind!r}")


def _to_json(value):
    if isinstance(value, np.ndarray):
        return encode(value)
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def main() -> None:
    import keras

    from tests.keras_api_cases import all_cases

    keras.config.set_floatx("float64")
    out = {}
    for case in all_cases():
        expected = run_keras(keras, case)
        out[case["id"]] = {"expected": encode(expected)}
    GOLDEN.write_text(json.dumps({"keras_version": keras.__version__, "cases": out}, indent=0) + "\n")
    print(f"wrote {len(out)} cases to {GOLDEN}")


if __name__ == "__main__":
    main()
