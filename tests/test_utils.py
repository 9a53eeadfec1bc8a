"""myelin.utils: pad_sequences against Keras 3's results (the cases below were produced by keras.utils.pad_sequences)."""

import numpy as np
import pytest

from myelin.utils import pad_sequences

# (sequences, keyword arguments, Keras's result, Keras's dtype), from keras 3 (torch backend)
KERAS_CASES = [
    ([[1], [2, 3], [4, 5, 6]], {}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]], "int32"),
    ([[1], [2, 3], [4, 5, 6]], {"maxlen": 2}, [[0, 1], [2, 3], [5, 6]], "int32"),
    ([[1], [2, 3], [4, 5, 6]], {"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]], "int32"),
    (
        [[1], [2, 3], [4, 5, 6]],
        {"maxlen": 4, "padding": "post", "value": -1},
        [[1, -1, -1, -1], [2, 3, -1, -1], [4, 5, 6, -1]],
        "int32",
    ),
    ([[], [7, 8]], {}, [[0, 0], [7, 8]], "int32"),
    (
        [[[1, 2], [3, 4]], [[5, 6]]],
        {"dtype": "float32", "value": 0.5},
        [[[1.0, 2.0], [3.0, 4.0]], [[0.5, 0.5], [5.0, 6.0]]],
        "float32",
    ),
    ([[1.5, 2.5], [3.25]], {"dtype": "float32", "padding": "post"}, [[1.5, 2.5], [3.25, 0.0]], "float32"),
]


@pytest.mark.parametrize(("sequences", "kwargs", "expected", "dtype"), KERAS_CASES)
def test_pad_sequences_gives_keras_results(sequences, kwargs, expected, dtype):
    got = pad_sequences(sequences, **kwargs)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.asarray(expected, dtype=dtype))


def test_pad_sequences_pads_strings_with_object_dtype():
    got = pad_sequences([["a"], ["b", "c"]], dtype=object, value="")
    assert got.tolist() == [["", "a"], ["b", "c"]]


def test_pad_sequences_takes_arrays_and_maxlen_zero():
    got = pad_sequences([np.arange(3), np.arange(5)], maxlen=4)
    np.testing.assert_array_equal(got, [[0, 0, 1, 2], [1, 2, 3, 4]])
    assert pad_sequences([[1, 2]], maxlen=0).shape == (1, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"padding": "middle"}, "padding must be 'pre' or 'post'"),
        ({"truncating": "both"}, "truncating must be 'pre' or 'post'"),
        ({"maxlen": -1}, "maxlen must be a non-negative integer"),
        ({"value": "x"}, "use dtype=object for strings"),
    ],
)
def test_pad_sequences_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences([[1], [2, 3]], **kwargs)


def test_pad_sequences_names_the_bad_sequence():
    with pytest.raises(ValueError, match=r"sequences\[1\] must be a sequence"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match=r"sequences\[1\] has items of shape \(3,\)"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match="must be a list of sequences"):
        pad_sequences(7)
