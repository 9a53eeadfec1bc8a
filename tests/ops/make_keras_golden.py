"""Regenerate tests/data/keras_ops_golden.json from Keras 3.

Run where Keras is installed: ``KERAS_BACKEND=torch /work/peers/bin/python tests/ops/make_keras_golden.py``.
"""

import json
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def main() -> None:
    import keras

    sys.path.insert(0, str(HERE))
    from keras_cases import cases

    out = {}
    for name, fn in cases.items():
        value = keras.ops.convert_to_numpy(fn(keras.ops))
        out[name] = {"dtype": str(value.dtype), "shape": list(value.shape), "values": value.astype("float64").ravel().tolist()}
    path = HERE.parent / "data" / "keras_ops_golden.json"
    path.write_text(json.dumps({"keras": keras.__version__, "backend": keras.backend.backend(), "cases": out}, indent=0))
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
