"""myelin.ops gives Keras 3's values, shapes and dtypes on the shared cases (golden values made by Keras)."""

import json
import math
import pathlib

import numpy as np
import pytest

from myelin import ops

from .keras_cases import cases

GOLDEN = json.loads((pathlib.Path(__file__).resolve().parents[1] / "data" / "keras_ops_golden.json").read_text())["cases"]


@pytest.mark.parametrize("name", sorted(cases))
def test_same_as_keras(name):
    expected = GOLDEN[name]
    got = ops.convert_to_numpy(cases[name](ops))
    assert str(got.dtype) == expected["dtype"]
    assert list(got.shape) == expected["shape"]
    want = np.array([math.nan if v is None else v for v in expected["values"]], dtype=np.float64).reshape(expected["shape"])
    # float32 arithmetic on both sides, in different orders: agreement to float32 rounding
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=2e-6, atol=2e-6, equal_nan=True)


def test_every_case_has_a_golden_value():
    assert sorted(cases) == sorted(GOLDEN)
