"""Regenerate tests/data/mixed_precision_golden.json: Keras 3's dynamic loss scaling and dtype policies.

    KERAS_BACKEND=torch /work/peers/bin/python -m tests.make_mixed_precision_golden   # from the repository root

``LossScaleOptimizer.apply`` is given a fixed sequence of (scaled) gradients, some holding inf
or NaN; after every call the file records the scale, the step counter, the inner optimizer's
iterations and the variable. Also: each policy name's compute and variable dtypes, and the
``dtype`` entry of a mixed-precision Dense layer's config (which myelin must read).
"""

from __future__ import annotations

import json
from pathlib import Path

INF, NAN = float("inf"), float("nan")
# Scaled gradients for a variable of 3 values, starting at [1, -2, 0.5].
GRADIENTS = [
    [1.0, 2.0, 3.0],
    [4.0, -1.0, 0.5],
    [2.0, 2.0, 2.0],
    [INF, 1.0, 1.0],
    [1.0, NAN, 1.0],
    [0.5, 0.25, -0.5],
    [-INF, 0.0, 0.0],
    [3.0, 1.0, -1.0],
    [1.0, 1.0, 1.0],
    [2.0, -2.0, 1.0],
    [0.5, 0.5, 0.5],
    [1.0, 0.0, -1.0],
]
CASES = {
    "sgd_growth3": {"inner": "sgd", "initial_scale": 2.0**15, "dynamic_growth_steps": 3},
    "adam_growth2": {"inner": "adam", "initial_scale": 64.0, "dynamic_growth_steps": 2},
    "sgd_default": {"inner": "sgd", "initial_scale": 2.0**15, "dynamic_growth_steps": 2000},
}
POLICIES = ["float32", "float64", "float16", "bfloat16", "mixed_float16", "mixed_bfloat16"]


def _json_float(x: float):
    return x if x == x and abs(x) != INF else str(x)


def main() -> None:
    import keras
    import numpy as np

    golden = {"keras": keras.__version__, "gradients": [[_json_float(g) for g in row] for row in GRADIENTS]}
    for name, case in CASES.items():
        inner = keras.optimizers.SGD(0.1) if case["inner"] == "sgd" else keras.optimizers.Adam(0.01)
        opt = keras.optimizers.LossScaleOptimizer(
            inner, initial_scale=case["initial_scale"], dynamic_growth_steps=case["dynamic_growth_steps"]
        )
        w = keras.Variable(np.array([1.0, -2.0, 0.5], dtype="float32"))
        rows = []
        for g in GRADIENTS:
            opt.apply([keras.ops.convert_to_tensor(np.array(g, dtype="float32"))], [w])
            rows.append(
                {
                    "scale": float(keras.ops.convert_to_numpy(opt.dynamic_scale)),
                    "step_counter": int(keras.ops.convert_to_numpy(opt.step_counter)),
                    "iterations": int(keras.ops.convert_to_numpy(opt.iterations)),
                    "w": [float(v) for v in keras.ops.convert_to_numpy(w)],
                }
            )
        golden[name] = {**case, "steps": rows}
    golden["policies"] = {p: [keras.DTypePolicy(p).compute_dtype, keras.DTypePolicy(p).variable_dtype] for p in POLICIES}
    dense = keras.layers.Dense(2, dtype="mixed_float16")
    golden["dense_config_dtype"] = dense.get_config()["dtype"]
    keras.config.set_dtype_policy("mixed_float16")
    layer = keras.layers.Dense(2)
    out = layer(np.ones((1, 3), dtype="float32"))
    golden["global_mixed_dense"] = {
        "output_dtype": str(out.dtype).replace("torch.", ""),
        "kernel_dtype": layer.kernel.dtype,
        "compute_dtype": layer.compute_dtype,
    }
    keras.config.set_dtype_policy("float32")
    path = Path(__file__).parent / "data" / "mixed_precision_golden.json"
    path.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
