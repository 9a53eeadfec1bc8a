"""Float64 central-difference checks of the convolution and pooling primitives (myelin/ops/convolution.py),
and their agreement with PyTorch: the committed tests/data/conv_ops_golden.npz everywhere, torch itself
where it is installed (tests/golden.py).

Every primitive is checked through its backward: N-d convolution with strides, padding,
dilation, groups, bias and fused activations in both layouts, the transposed convolution
with Keras's padding and output_padding, depthwise and separable convolution, max pooling
(with ties, which go to the first maximum) and average pooling (padding not counted).
"""

import itertools

import numpy as np
import pytest

from myelin import Tensor, gradcheck, ops

from .. import golden

rng = np.random.default_rng(15)
TOL = {"atol": 1e-8, "rtol": 1e-6}

CONV_CASES = [
    (rank, s, p, d, g, fmt)
    for rank, s, p, d, g, fmt in itertools.product(
        (1, 2, 3), (1, 2), ("valid", "same"), (1, 2), (1, 2), ("channels_last", "channels_first")
    )
    if not (s > 1 and d > 1) and (rank < 3 or (g == 1 and fmt == "channels_last"))
]


def _image(rank, channels, fmt, size=6):
    spatial = (size,) * rank if rank < 3 else (min(size, 5),) * 3
    shape = (2, *spatial, channels) if fmt == "channels_last" else (2, channels, *spatial)
    return rng.standard_normal(shape)


@pytest.mark.parametrize("rank,strides,padding,dilation,groups,fmt", CONV_CASES)
def test_conv_gradients(rank, strides, padding, dilation, groups, fmt):
    x, k = _image(rank, 4, fmt), rng.standard_normal((*(3,) * rank, 4 // groups, 4)) * 0.5

    def fn(x, k):
        return ops.conv(x, k, strides=strides, padding=padding, data_format=fmt, dilation_rate=dilation)

    assert gradcheck(fn, [x, k], **TOL).passed


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh"])
@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_fused_conv_bias_activation_gradients(activation, padding):
    x, k, b = _image(1, 3, "channels_last", 7), rng.standard_normal((3, 3, 5)), rng.standard_normal(5)

    def fn(x, k, b):
        return ops.conv_nd(x, k, b, padding=padding, activation=activation)

    assert gradcheck(fn, [x, k, b], **TOL).passed


def test_fused_conv_matches_composition():
    x, k, b = _image(2, 3, "channels_last"), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)
    fused = ops.conv_nd(x, k, b, strides=2, padding="same", activation="relu").data
    composed = ops.relu(ops.conv(x, k, strides=2, padding="same") + b).data
    np.testing.assert_allclose(fused, composed, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "rank,strides,padding,output_padding,dilation,ksize,fmt",
    [
        (1, 2, "valid", None, 1, 3, "channels_last"),
        (1, 3, "valid", None, 1, 2, "channels_first"),  # stride above the kernel: zeros between windows
        (1, 1, "same", None, 2, 3, "channels_last"),
        (2, 2, "same", None, 1, 3, "channels_last"),
        (2, 2, "same", 1, 1, 3, "channels_first"),
        (2, 2, "valid", 1, 1, 2, "channels_last"),
        (3, 2, "same", None, 1, 2, "channels_last"),
    ],
)
def test_conv_transpose_gradients(rank, strides, padding, output_padding, dilation, ksize, fmt):
    x, k = _image(rank, 3, fmt, 4), rng.standard_normal((*(ksize,) * rank, 2, 3))

    def fn(x, k):
        return ops.conv_transpose(x, k, strides, padding, output_padding, fmt, dilation)

    assert gradcheck(fn, [x, k], **TOL).passed


def test_fused_conv_transpose_bias_relu_gradients():
    x, k, b = _image(2, 3, "channels_last", 4), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(2)

    def fn(x, k, b):
        return ops.conv_transpose_nd(x, k, b, strides=2, padding="same", activation="relu")

    assert gradcheck(fn, [x, k, b], **TOL).passed


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_depthwise_and_separable_gradients(fmt):
    x, dk, pk = _image(2, 3, fmt), rng.standard_normal((3, 3, 3, 2)), rng.standard_normal((1, 1, 6, 4))
    assert gradcheck(lambda x, dk: ops.depthwise_conv(x, dk, 2, "same", fmt), [x, dk], **TOL).passed
    assert gradcheck(lambda x, dk, pk: ops.separable_conv(x, dk, pk, 1, "valid", fmt, 2), [x, dk, pk], **TOL).passed


def test_depthwise_conv_is_one_filter_bank_per_channel():
    x, dk = _image(2, 3, "channels_last"), rng.standard_normal((3, 3, 3, 2))
    got = ops.depthwise_conv(x, dk).data
    for c in range(3):
        for m in range(2):
            want = ops.conv(x[..., c : c + 1], dk[:, :, c : c + 1, m : m + 1]).data[..., 0]
            np.testing.assert_allclose(got[..., c * 2 + m], want, rtol=1e-12, atol=1e-12)


POOL_CASES = list(itertools.product((1, 2, 3), (2, 3), (None, 1), ("valid", "same"), ("channels_last", "channels_first")))


@pytest.mark.parametrize("rank,pool,strides,padding,fmt", POOL_CASES)
def test_pool_gradients(rank, pool, strides, padding, fmt):
    x = _image(rank, 2, fmt, 5)  # distinct values: max pooling is differentiable there
    assert gradcheck(lambda x: ops.max_pool(x, pool, strides, padding, fmt), [x], **TOL).passed
    assert gradcheck(lambda x: ops.average_pool(x, pool, strides, padding, fmt), [x], **TOL).passed


def test_max_pool_ties_route_to_the_first_maximum():
    x = Tensor(np.array([[[1.0], [3.0], [3.0], [2.0]]]), requires_grad=True)
    y = ops.max_pool(x, 2, 1)  # windows [1,3], [3,3], [3,2]
    y.sum().backward()
    assert y.data.ravel().tolist() == [3.0, 3.0, 3.0]
    assert x.grad.ravel().tolist() == [0.0, 2.0, 1.0, 0.0]  # the tied window [3, 3] sends its gradient to the first 3


def test_average_pool_same_padding_does_not_count_zeros():
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    y = ops.average_pool(x, 2, padding="same").data.ravel()
    assert y.tolist() == [1.5, 3.5, 5.0]


def test_conv_on_known_values():
    x = np.arange(5.0).reshape(1, 5, 1)
    k = np.array([1.0, 0.0, -1.0]).reshape(3, 1, 1)
    assert ops.conv(x, k).data.ravel().tolist() == [-2.0, -2.0, -2.0]
    assert ops.conv(x, k, padding="same").data.ravel().tolist() == [-1.0, -2.0, -2.0, -2.0, 3.0]
    assert ops.conv(x, k, dilation_rate=2).data.ravel().tolist() == [-4.0]
    assert ops.conv_nd(x, k, padding="causal").data.ravel().tolist() == [0.0, -1.0, -2.0, -2.0, -2.0]


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: ops.conv(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1))), "larger than the padded input"),
        (lambda: ops.conv(np.ones((2, 2, 1)), np.ones((3, 3, 1, 1))), "kernel must have rank 3"),
        (lambda: ops.conv(np.ones((1, 4, 4, 3)), np.ones((3, 3, 2, 1))), "multiple of the kernel's 2"),
        (lambda: ops.conv(np.ones((4, 4)), np.ones((3, 1, 1))), "rank 3 or 4 or 5"),
        (lambda: ops.conv(np.ones((1, 4, 1)), np.ones((3, 1, 1)), padding="full"), "padding must be one of"),
        (lambda: ops.conv(np.ones((1, 4, 1)), np.ones((3, 1, 1)), strides=0), "strides must be a positive"),
        (lambda: ops.max_pool(np.ones((1, 2, 1)), 3), "pool_size (3,) is larger"),
        (lambda: ops.conv_transpose(np.ones((1, 4, 2)), np.ones((3, 1, 3))), "expected 3 input channels"),
        (lambda: ops.conv_transpose(np.ones((1, 4, 3)), np.ones((3, 1, 3)), 2, output_padding=2), "output_padding"),
    ],
)
def test_bad_arguments_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


def _torch_conv(torch, x, k, strides, padding, dilation, groups):
    F = torch.nn.functional
    rank = x.ndim - 2
    X = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    K = torch.tensor(np.moveaxis(np.moveaxis(k, -1, 0), -1, 1).copy(), requires_grad=True)
    pads = [ops.padding_amounts(n, (kk - 1) * dilation + 1, strides, padding) for n, kk in zip(X.shape[2:], k.shape[:rank])]
    flat = [a for lo_hi in reversed(pads) for a in lo_hi]
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return X, K, conv(F.pad(X, flat), K, stride=strides, dilation=dilation, groups=groups)


TORCH_CONV = [c for c in CONV_CASES if c[-1] == "channels_last"]


def _torch_case_arrays(rank, strides, padding, dilation, groups):
    """The input, kernel and output weighting of one case, from a seed of its own (sizes kept small for the golden file)."""
    case_rng = np.random.default_rng([rank, strides, dilation, groups, ("valid", "same").index(padding)])
    size = (7, 6, 5)[rank - 1]
    x = case_rng.standard_normal((2, *(size,) * rank, 4))
    k = case_rng.standard_normal((*(3,) * rank, 4 // groups, 6))
    return x, k, case_rng


def _ours_conv(rank, strides, padding, dilation, groups):
    x, k, case_rng = _torch_case_arrays(rank, strides, padding, dilation, groups)
    X, K = Tensor(x, requires_grad=True), Tensor(k, requires_grad=True)
    y = ops.conv(X, K, strides=strides, padding=padding, dilation_rate=dilation)
    r = case_rng.standard_normal(y.shape)
    (y * Tensor(r)).sum().backward()
    return {"y": y.data, "grad_x": X.grad, "grad_k": K.grad}


def _theirs_conv(torch, rank, strides, padding, dilation, groups):
    x, k, case_rng = _torch_case_arrays(rank, strides, padding, dilation, groups)
    tx, tk, ty = _torch_conv(torch, x, k, strides, padding, dilation, groups)
    ty = torch.movedim(ty, 1, -1)
    r = case_rng.standard_normal(tuple(ty.shape))
    (ty * torch.tensor(r)).sum().backward()
    return {
        "y": ty.detach().numpy(),
        "grad_x": np.moveaxis(tx.grad.numpy(), 1, -1),
        "grad_k": np.moveaxis(np.moveaxis(tk.grad.numpy(), 0, -1), 0, -2),
    }


# tests/golden.py: each case against the committed tests/data/conv_ops_golden.npz everywhere, against
# torch.nn.functional where torch is installed (float64: a few dozen products per output, 1e-10)
GOLDEN_FILE = "conv_ops_golden.npz"
TORCH_CASES = {
    f"conv{rank}d_s{s}_{p}_d{d}_g{g}": (
        lambda a=(rank, s, p, d, g): _ours_conv(*a),
        lambda torch, a=(rank, s, p, d, g): _theirs_conv(torch, *a),
        1e-10,
        1e-12,
    )
    for rank, s, p, d, g, _ in TORCH_CONV
}


def test_the_golden_file_holds_every_case():
    golden.holds_every_case(TORCH_CASES, GOLDEN_FILE)


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_conv_matches_torch(name, torch_if_installed):
    golden.check(TORCH_CASES, GOLDEN_FILE, name, torch_if_installed)
