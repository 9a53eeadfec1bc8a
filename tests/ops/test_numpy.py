"""ops' numpy family against NumPy (forward: shapes, broadcasting, dtypes, edge cases) and central differences."""

import numpy as np
import pytest

from myelin import Tensor, ops

from .checks import assert_grads

RNG = np.random.default_rng(0)


def r(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape)


POS = dict(lo=0.2, hi=2.0)
UNIT = dict(lo=-0.9, hi=0.9)

# name -> (myelin fn, numpy fn, inputs); inputs are float64 arrays for the gradient check
UNARY = {
    "exp": (ops.exp, np.exp, [r(3, 4)]),
    "log": (ops.log, np.log, [r(3, 4, **POS)]),
    "sqrt": (ops.sqrt, np.sqrt, [r(3, 4, **POS)]),
    "square": (ops.square, np.square, [r(3, 4)]),
    "abs": (ops.abs, np.abs, [r(3, 4)]),
    "negative": (ops.negative, np.negative, [r(3, 4)]),
    "sin": (ops.sin, np.sin, [r(3, 4)]),
    "cos": (ops.cos, np.cos, [r(3, 4)]),
    "tan": (ops.tan, np.tan, [r(3, 4, lo=-1, hi=1)]),
    "arcsin": (ops.arcsin, np.arcsin, [r(3, 4, **UNIT)]),
    "arccos": (ops.arccos, np.arccos, [r(3, 4, **UNIT)]),
    "arctan": (ops.arctan, np.arctan, [r(3, 4)]),
    "sinh": (ops.sinh, np.sinh, [r(3, 4)]),
    "cosh": (ops.cosh, np.cosh, [r(3, 4)]),
    "tanh": (ops.tanh, np.tanh, [r(3, 4)]),
    "arcsinh": (ops.arcsinh, np.arcsinh, [r(3, 4)]),
    "arccosh": (ops.arccosh, np.arccosh, [r(3, 4, lo=1.2, hi=3)]),
    "arctanh": (ops.arctanh, np.arctanh, [r(3, 4, **UNIT)]),
    "expm1": (ops.expm1, np.expm1, [r(3, 4)]),
    "log1p": (ops.log1p, np.log1p, [r(3, 4, **POS)]),
    "log2": (ops.log2, np.log2, [r(3, 4, **POS)]),
    "log10": (ops.log10, np.log10, [r(3, 4, **POS)]),
    "exp2": (ops.exp2, np.exp2, [r(3, 4)]),
    "cbrt": (ops.cbrt, np.cbrt, [r(3, 4, **POS)]),
    "reciprocal": (ops.reciprocal, np.reciprocal, [r(3, 4, **POS)]),
    "rsqrt": (ops.rsqrt, lambda x: 1 / np.sqrt(x), [r(3, 4, **POS)]),
    "sinc": (ops.sinc, np.sinc, [r(3, 4)]),
    "deg2rad": (ops.deg2rad, np.deg2rad, [r(3, 4)]),
    "rad2deg": (ops.rad2deg, np.rad2deg, [r(3, 4)]),
    "erf": (ops.erf, None, [r(3, 4)]),
}

BINARY = {
    "add": (ops.add, np.add),
    "subtract": (ops.subtract, np.subtract),
    "multiply": (ops.multiply, np.multiply),
    "divide": (ops.divide, np.divide),
    "maximum": (ops.maximum, np.maximum),
    "minimum": (ops.minimum, np.minimum),
    "arctan2": (ops.arctan2, np.arctan2),
    "hypot": (ops.hypot, np.hypot),
    "logaddexp": (ops.logaddexp, np.logaddexp),
    "logaddexp2": (ops.logaddexp2, np.logaddexp2),
    "mod": (ops.mod, np.mod),
    "fmod": (ops.fmod, np.fmod),
    "power": (ops.power, np.power),
}

# name -> (myelin fn, numpy fn) applied to one (3, 4, 5) input
REDUCTIONS = {
    "sum": (ops.sum, np.sum),
    "mean": (ops.mean, np.mean),
    "max": (ops.max, np.max),
    "min": (ops.min, np.min),
    "prod": (ops.prod, np.prod),
    "var": (ops.var, np.var),
    "std": (ops.std, np.std),
    "logsumexp": (ops.logsumexp, lambda x, axis=None, keepdims=False: np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))),
}

# name -> (fn of x, numpy fn of x) on a (3, 4) input: shape and indexing ops
SHAPE = {
    "reshape": (lambda x: ops.reshape(x, (4, -1)), lambda x: x.reshape(4, -1)),
    "transpose": (lambda x: ops.transpose(x), lambda x: x.T),
    "expand_dims": (lambda x: ops.expand_dims(x, -1), lambda x: x[..., None]),
    "squeeze": (lambda x: ops.squeeze(ops.expand_dims(x, 0), 0), lambda x: x),
    "concatenate": (lambda x: ops.concatenate([x, x * 2], axis=-1), lambda x: np.concatenate([x, x * 2], -1)),
    "stack": (lambda x: ops.stack([x, x * 2], axis=1), lambda x: np.stack([x, x * 2], 1)),
    "split": (lambda x: ops.split(x, 2, axis=1)[1], lambda x: np.split(x, 2, axis=1)[1]),
    "tile": (lambda x: ops.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1))),
    "repeat": (lambda x: ops.repeat(x, 2, axis=0), lambda x: np.repeat(x, 2, axis=0)),
    "take": (lambda x: ops.take(x, [3, 0, 0, -1], axis=1), lambda x: np.take(x, [3, 0, 0, -1], axis=1)),
    "take_along_axis": (
        lambda x: ops.take_along_axis(x, np.array([[0, 2], [1, 1], [3, 0]]), axis=1),
        lambda x: np.take_along_axis(x, np.array([[0, 2], [1, 1], [3, 0]]), axis=1),
    ),
    "where": (lambda x: ops.where(x > 0, x, x * 3), lambda x: np.where(x > 0, x, x * 3)),
    "pad_constant": (
        lambda x: ops.pad(x, ((1, 0), (2, 1)), constant_values=5.0),
        lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=5.0),
    ),
    "pad_reflect": (
        lambda x: ops.pad(x, ((1, 1), (2, 2)), mode="reflect"),
        lambda x: np.pad(x, ((1, 1), (2, 2)), mode="reflect"),
    ),
    "pad_symmetric": (
        lambda x: ops.pad(x, ((2, 1), (0, 3)), mode="symmetric"),
        lambda x: np.pad(x, ((2, 1), (0, 3)), mode="symmetric"),
    ),
    "flip": (lambda x: ops.flip(x, axis=-1), lambda x: np.flip(x, -1)),
    "roll": (lambda x: ops.roll(x, 3, axis=1), lambda x: np.roll(x, 3, axis=1)),
    "roll_flat": (lambda x: ops.roll(x, -2), lambda x: np.roll(x, -2)),
    "sort": (lambda x: ops.sort(x, axis=0), lambda x: np.sort(x, axis=0)),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1)),
    "cumprod": (lambda x: ops.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=0)),
    "clip": (lambda x: ops.clip(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0)),
    "triu": (lambda x: ops.triu(x, 1), lambda x: np.triu(x, 1)),
    "tril": (lambda x: ops.tril(x, -1), lambda x: np.tril(x, -1)),
    "diagonal": (lambda x: ops.diagonal(x, 1), lambda x: np.diagonal(x, 1)),
    "trace": (lambda x: ops.trace(x), lambda x: np.trace(x)),
    "diff": (lambda x: ops.diff(x, 2, axis=1), lambda x: np.diff(x, 2, axis=1)),
    "moveaxis": (lambda x: ops.moveaxis(ops.reshape(x, (3, 2, 2)), 0, -1), lambda x: np.moveaxis(x.reshape(3, 2, 2), 0, -1)),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 1), lambda x: np.swapaxes(x, 0, 1)),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (2, 3, 4)), lambda x: np.broadcast_to(x, (2, 3, 4))),
    "rot90": (lambda x: ops.rot90(x), lambda x: np.rot90(x)),
    "outer": (lambda x: ops.outer(x[0], x[1]), lambda x: np.outer(x[0], x[1])),
    "tensordot": (lambda x: ops.tensordot(x, x, axes=([1], [1])), lambda x: np.tensordot(x, x, axes=([1], [1]))),
    "einsum": (lambda x: ops.einsum("ij,kj->ik", x, x), lambda x: np.einsum("ij,kj->ik", x, x)),
    "einsum_diag_sum": (lambda x: ops.einsum("ii->i", x[:, :3]), lambda x: np.einsum("ii->i", x[:, :3])),
    "einsum_ellipsis": (lambda x: ops.einsum("...j,j->...", x, x[0]), lambda x: np.einsum("...j,j->...", x, x[0])),
    "matmul": (lambda x: ops.matmul(x, ops.transpose(x)), lambda x: x @ x.T),
    "dot": (lambda x: ops.dot(x[0], x[1]), lambda x: np.dot(x[0], x[1])),
    "kron": (lambda x: ops.kron(x[:2, :2], x[1:, 2:]), lambda x: np.kron(x[:2, :2], x[1:, 2:])),
    "quantile": (lambda x: ops.quantile(x, [0.25, 0.5], axis=1), lambda x: np.quantile(x, [0.25, 0.5], axis=1)),
    "median": (lambda x: ops.median(x, axis=0), lambda x: np.median(x, axis=0)),
    "average": (
        lambda x: ops.average(x, axis=1, weights=[1.0, 2.0, 3.0, 4.0]),
        lambda x: np.average(x, 1, np.arange(1.0, 5.0)),
    ),
    "cross": (lambda x: ops.cross(x[:, :3], x[:, 1:]), lambda x: np.cross(x[:, :3], x[:, 1:])),
    "correlate": (lambda x: ops.correlate(x[0], x[1][:2], mode="full"), lambda x: np.correlate(x[0], x[1][:2], mode="full")),
    "trapezoid": (lambda x: ops.trapezoid(x, axis=1), lambda x: np.trapezoid(x, axis=1)),
    "vander": (lambda x: ops.vander(x[0], 3), lambda x: np.vander(x[0], 3)),
    "getitem": (lambda x: x[1:, ::2], lambda x: x[1:, ::2]),
    "nan_to_num": (lambda x: ops.nan_to_num(x), lambda x: np.nan_to_num(x)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_float32_and_gradient(name):
    fn, ref, (x,) = UNARY[name]
    out = fn(x.astype(np.float32))
    assert out.dtype == np.float32
    if ref is not None:
        np.testing.assert_allclose(out.data, ref(x.astype(np.float32)), rtol=2e-6, atol=1e-6)
    assert_grads(fn, x)


def test_erf_values():
    # erf at a few points (Abramowitz & Stegun tables)
    np.testing.assert_allclose(
        ops.erf(np.array([0.0, 0.5, 1.0, -2.0])).data, [0.0, 0.5204999, 0.8427008, -0.9953223], atol=2e-7
    )


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (3, 4))])
def test_binary_forward_broadcasting_and_gradient(name, shapes):
    fn, ref = BINARY[name]
    pos = name in ("power", "mod", "fmod", "divide")
    a = r(*shapes[0], lo=0.5, hi=2.0) if pos else r(*shapes[0])
    b = r(*shapes[1], lo=0.5, hi=2.0) if pos else r(*shapes[1])
    np.testing.assert_allclose(fn(a, b).data, ref(a, b), rtol=1e-12, atol=1e-12)
    assert fn(a.astype(np.float32), b.astype(np.float32)).dtype == np.float32
    assert_grads(fn, a, b, tol=1e-5)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_axes_keepdims_and_gradient(name, axis, keepdims):
    fn, ref = REDUCTIONS[name]
    x = r(3, 4, 5, lo=0.5, hi=1.5) if name == "prod" else r(3, 4, 5)
    np.testing.assert_allclose(fn(x, axis=axis, keepdims=keepdims).data, ref(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    if (axis in (None, -1) and not keepdims) or (axis == (0, 2) and keepdims):
        assert_grads(lambda t: fn(t, axis=axis, keepdims=keepdims), x[:2, :3, :2], tol=1e-5)


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_shape_and_indexing_ops_forward_and_gradient(name):
    fn, ref = SHAPE[name]
    x = r(3, 4)
    out = fn(Tensor(x))
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-12)
    assert fn(Tensor(x.astype(np.float32))).dtype == np.float32
    assert_grads(fn, x, tol=1e-5)


def test_prod_and_cumprod_gradients_are_exact_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5]])
    assert_grads(lambda t: ops.prod(t, axis=1), x)
    assert_grads(lambda t: ops.cumprod(t, axis=1), x)


def test_python_numbers_take_the_tensors_dtype():
    x = ops.ones((2,), dtype="float32")
    for out in (ops.add(x, 2.5), ops.multiply(3, x), ops.power(x, 2.0), ops.maximum(x, 0.5), x + 1.5, ops.where(True, x, 0.0)):
        assert out.dtype == np.float32
    assert ops.add(ops.ones((2,), dtype="float64"), 1.0).dtype == np.float64
    assert ops.add(ops.arange(3), 1.5).dtype == np.float32  # int32 meets a float: floatx
    assert ops.add(ops.arange(3), 1).dtype == np.int32
    assert ops.add(np.ones(2, np.int64), np.ones(2, np.float32)).dtype == np.float32  # int meets float: that float
    assert ops.add(np.ones(2, np.float32), np.ones(2, np.float64)).dtype == np.float64


def test_integer_maths_follows_keras():
    ints = np.array([1, 2, 3, 4], dtype=np.int32)
    assert ops.sqrt(ints).dtype == np.float32
    assert ops.mean(ints).dtype == np.float32 and float(ops.mean(ints).data) == 2.5
    assert ops.sum(ints).dtype == np.int32 and int(ops.sum(ints).data) == 10
    assert ops.sum(np.array([True, True, False])).dtype == np.int32
    assert ops.divide(ints, 2).dtype == np.float32
    np.testing.assert_array_equal(ops.floor_divide(ints, 3).data, [0, 0, 1, 1])
    np.testing.assert_array_equal(ops.cumsum(ints).data, [1, 3, 6, 10])
    assert ops.cumsum(ints).dtype == np.int32
    np.testing.assert_array_equal(ops.prod(ints).data, 24)
    assert ops.max(ints).dtype == np.int32


def test_comparisons_logic_and_indices_are_not_differentiable():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    for out in (
        ops.greater(x, 0),
        ops.equal(x, 3.0),
        ops.logical_and(ops.greater(x, 0), ops.less(x, 2)),
        ops.argmax(x),
        ops.argsort(x),
        ops.isnan(x),
        ops.sign(x),
        ops.round(x),
        ops.floor(x),
    ):
        assert not out.requires_grad
    np.testing.assert_array_equal(ops.greater_equal(x, 1.0).data, [True, False, True])
    assert ops.argmax(x).dtype == np.int32 and int(ops.argmax(x).data) == 2
    np.testing.assert_array_equal(ops.argsort(x).data, [1, 0, 2])
    np.testing.assert_array_equal(ops.logical_xor([True, False], [True, True]).data, [False, True])


def test_creation_ops_match_numpy_and_keras_dtypes():
    assert ops.arange(5).dtype == np.int32
    np.testing.assert_array_equal(ops.arange(1, 7, 2).data, [1, 3, 5])
    assert ops.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(ops.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(ops.eye(3, 4, k=1).data, np.eye(3, 4, k=1))
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.ones(2, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(ops.full((2,), 3.0).data, [3.0, 3.0])
    np.testing.assert_array_equal(ops.full_like(np.zeros(2, np.int32), 7).data, [7, 7])
    assert ops.zeros_like(np.zeros(3, np.float64)).dtype == np.float64
    np.testing.assert_array_equal(ops.tri(3).data, np.tri(3))


def test_empty_arrays_and_negative_axes():
    e = np.zeros((0, 3))
    assert ops.sum(e, axis=0).shape == (3,)
    np.testing.assert_array_equal(ops.sum(e, axis=0).data, np.zeros(3))
    assert ops.mean(np.zeros((2, 0)), axis=0).shape == (0,)
    assert ops.concatenate([e, np.ones((2, 3))], axis=-2).shape == (2, 3)
    assert ops.max(e, axis=0, initial=-1.0).data.tolist() == [-1.0, -1.0, -1.0]
    with pytest.raises(ValueError, match="empty"):
        ops.max(e)
    x = r(2, 3, 4)
    np.testing.assert_allclose(ops.sum(x, axis=-2).data, x.sum(axis=-2), rtol=1e-12)
    np.testing.assert_allclose(ops.squeeze(np.zeros((1, 3, 1)), axis=-1).shape, (1, 3))
    with pytest.raises(ValueError, match="out of bounds"):
        ops.sum(x, axis=3)
    with pytest.raises(ValueError, match="size 3, not 1"):
        ops.squeeze(x, axis=1)


def test_split_sections_and_points():
    x = np.arange(10.0)
    assert [p.shape[0] for p in ops.split(x, [2, 5])] == [2, 3, 5]
    assert [p.shape[0] for p in ops.array_split(x, 3)] == [4, 3, 3]
    with pytest.raises(ValueError, match="equal parts"):
        ops.split(x, 3)


def test_where_nonzero_and_select():
    x = np.array([[0, 1], [2, 0]])
    rows, cols = ops.where(x)
    np.testing.assert_array_equal(rows.data, [0, 1])
    np.testing.assert_array_equal(cols.data, [1, 0])
    np.testing.assert_array_equal(ops.where([True, False], [1, 2], [3, 4]).data, [1, 4])


def test_pad_refuses_unknown_modes():
    with pytest.raises(ValueError, match="mode"):
        ops.pad(np.ones(3), (1, 1), mode="linear_ramp")


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "maximum", "minimum", "mod", "power"])
def test_integer_binary_ops_stay_integer(name):
    fn, ref = BINARY[name]
    a = np.arange(1, 13, dtype=np.int32).reshape(3, 4)
    b = np.array([1, 2, 3, 2], dtype=np.int32)
    out = fn(a, b)
    assert out.dtype == np.int32 and not out.requires_grad
    np.testing.assert_array_equal(out.data, ref(a, b))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor", "equal", "not_equal"])
def test_bool_ops(name):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    np.testing.assert_array_equal(getattr(ops, name)(a, b).data, getattr(np, name)(a, b))


def test_unique_with_index_inverse_counts_and_size():
    values, index, inverse, counts = ops.unique(
        np.array([3, 1, 3, 2]), return_index=True, return_inverse=True, return_counts=True
    )
    np.testing.assert_array_equal(values.data, [1, 2, 3])
    np.testing.assert_array_equal(index.data, [1, 3, 0])
    np.testing.assert_array_equal(inverse.data, [2, 0, 2, 1])
    np.testing.assert_array_equal(counts.data, [1, 1, 2])
    np.testing.assert_array_equal(ops.unique(np.array([2, 2, 5]), size=4, fill_value=0).data, [2, 5, 0, 0])
