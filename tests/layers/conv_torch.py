"""The convolution and pooling cases compared with PyTorch, and how PyTorch computes each from the same arrays.

``CASES`` names each case: the myelin layer (Keras's constructor arguments) and the input
shape. ``case_arrays`` draws the input, the weights (in Keras's layouts) and the output
weighting ``r`` from a fixed seed; ``torch_run`` computes, with ``torch.nn.functional``,
the output and the gradients of ``sum(r * output)`` with respect to the input and every
weight; ``myelin_run`` does the same with the layer. ``tests/make_conv_golden.py`` writes
PyTorch's results to ``tests/data/conv_golden.json`` so the comparison runs without torch.
"""

from __future__ import annotations

import numpy as np

from myelin import Tensor, layers

CL, CF = "channels_last", "channels_first"

# name: (layer class name, constructor arguments, input shape)
CASES = {
    "conv1d_same_s2": ("Conv1D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 4)),
    "conv1d_causal_d2": ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 8, 2)),
    "conv1d_groups_cf": ("Conv1D", {"filters": 4, "kernel_size": 2, "groups": 2, "data_format": CF}, (2, 4, 7)),
    "conv2d_valid_relu": ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}, (2, 7, 6, 3)),
    "conv2d_same_s2": ("Conv2D", {"filters": 3, "kernel_size": (3, 2), "strides": 2, "padding": "same"}, (2, 7, 8, 2)),
    "conv2d_dilated_cf": (
        "Conv2D",
        {"filters": 2, "kernel_size": 3, "padding": "same", "dilation_rate": (2, 1), "data_format": CF},
        (2, 3, 7, 6),
    ),
    "conv2d_groups_tanh": ("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 3, "activation": "tanh"}, (1, 6, 6, 6)),
    "conv2d_sigmoid_nobias": (
        "Conv2D",
        {"filters": 2, "kernel_size": 2, "activation": "sigmoid", "use_bias": False},
        (2, 5, 5, 2),
    ),
    "conv3d_same": ("Conv3D", {"filters": 2, "kernel_size": 2, "padding": "same"}, (1, 4, 5, 4, 2)),
    "conv3d_s2_cf": ("Conv3D", {"filters": 2, "kernel_size": 3, "strides": 2, "data_format": CF}, (1, 2, 5, 5, 5)),
    "conv1d_transpose_same": ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 5, 3)),
    "conv2d_transpose_valid": ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}, (2, 4, 3, 2)),
    "conv2d_transpose_outpad_cf": (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1, "data_format": CF},
        (1, 3, 4, 4),
    ),
    "conv3d_transpose_same": (
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"},
        (1, 2, 3, 2, 2),
    ),
    "depthwise2d_same_m2": ("DepthwiseConv2D", {"kernel_size": 3, "padding": "same", "depth_multiplier": 2}, (2, 5, 6, 3)),
    "depthwise1d_cf": ("DepthwiseConv1D", {"kernel_size": 3, "strides": 2, "data_format": CF}, (2, 3, 9)),
    "separable2d_m2": (
        "SeparableConv2D",
        {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "activation": "relu"},
        (2, 6, 6, 2),
    ),
    "separable1d_same": ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "padding": "same"}, (2, 7, 2)),
    "maxpool1d_s1": ("MaxPooling1D", {"pool_size": 3, "strides": 1}, (2, 8, 3)),
    "maxpool2d": ("MaxPooling2D", {}, (2, 6, 7, 3)),
    "maxpool2d_same_cf": ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same", "data_format": CF}, (2, 2, 7, 6)),
    "maxpool3d": ("MaxPooling3D", {"pool_size": 2, "padding": "same"}, (1, 5, 4, 3, 2)),
    "avgpool1d_same": ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 8, 3)),
    "avgpool2d": ("AveragePooling2D", {"pool_size": (2, 3)}, (2, 6, 7, 2)),
    "avgpool2d_same_cf": (
        "AveragePooling2D",
        {"pool_size": 3, "strides": 1, "padding": "same", "data_format": CF},
        (2, 2, 5, 5),
    ),
    "avgpool3d_cf": ("AveragePooling3D", {"pool_size": 2, "data_format": CF}, (1, 2, 4, 4, 5)),
    "gmaxpool2d": ("GlobalMaxPooling2D", {}, (2, 4, 5, 3)),
    "gavgpool2d_keep_cf": ("GlobalAveragePooling2D", {"keepdims": True, "data_format": CF}, (2, 3, 4, 5)),
    "gavgpool1d": ("GlobalAveragePooling1D", {}, (2, 6, 3)),
    "gmaxpool1d_cf": ("GlobalMaxPooling1D", {"data_format": CF}, (2, 3, 6)),
}


def make_layer(name: str):
    cls_name, kwargs, _ = CASES[name]
    return getattr(layers, cls_name)(**kwargs)


def case_arrays(name: str) -> dict:
    """Input ``x``, weights (Keras's layouts, in the layer's order) and the output weighting ``r``: float64, seeded."""
    _, _, shape = CASES[name]
    gen = np.random.default_rng([ord(c) for c in name])
    x = gen.standard_normal(shape)
    layer = make_layer(name)
    y = layer(Tensor(x))
    weights = [gen.standard_normal(w.shape) * 0.5 for w in layer.weights]
    r = gen.standard_normal(y.shape)
    return {"x": x, "weights": weights, "r": r}


def myelin_run(name: str, arrays: dict) -> dict:
    """myelin's output and gradients of sum(r * output) (float64 weights: use the float64 fixture)."""
    layer = make_layer(name)
    x = Tensor(arrays["x"], requires_grad=True)
    layer(Tensor(arrays["x"]))
    layer.set_weights(arrays["weights"])
    y = layer(x)
    (y * Tensor(arrays["r"])).sum().backward()
    out = {"y": np.asarray(y.data), "dx": np.asarray(x.grad)}
    for i, w in enumerate(layer.weights):
        out[f"dw{i}"] = np.asarray(w.grad)
    return out


def _same(n: int, window: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding along one axis: output ceil(n / stride), the odd zero on the right."""
    out = -(-n // stride)
    total = max((out - 1) * stride + window - n, 0)
    return total // 2, total - total // 2


def _tuple(v, rank):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * rank


def _pad(torch, x, pads, value=0.0):
    flat = [a for lo_hi in reversed(pads) for a in lo_hi]
    return torch.nn.functional.pad(x, flat, value=value)


def _conv_weight(k):
    """Keras (*k, in, out) -> torch (out, in, *k)."""
    rank = k.ndim - 2
    return k.permute(rank + 1, rank, *range(rank))


def _transpose_crop(k, s, padding, out_pad, d):
    """Keras's transposed-convolution output window within torch's full result: (left crop, output length offset)."""
    window = (k - 1) * d + 1
    if padding == "valid":
        extra = max(window, s) - window if out_pad is None else out_pad
        left_pad, right_pad = window - 1, window - 1 + extra
    else:
        total = s + window - 2 if out_pad is None else window + window % 2 - 2 + out_pad
        left_pad = min(total // 2 + total % 2, window - 1)
        right_pad = total - left_pad
    return window - 1 - left_pad, window - 1 - right_pad


def torch_run(torch, name: str, arrays: dict) -> dict:
    """PyTorch's output and gradients of sum(r * output), from the same input and weights."""
    F = torch.nn.functional
    cls_name, kw, _ = CASES[name]
    x = torch.tensor(arrays["x"], requires_grad=True)
    ws = [torch.tensor(w, requires_grad=True) for w in arrays["weights"]]
    cf = kw.get("data_format") == CF
    xt = x if cf else torch.movedim(x, -1, 1)  # torch works channels-first
    rank = xt.ndim - 2
    spatial = xt.shape[2:]
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    strides = _tuple(kw.get("strides", 1), rank)
    dil = _tuple(kw.get("dilation_rate", 1), rank)
    padding = kw.get("padding", "valid")
    act = {None: lambda t: t, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[kw.get("activation")]
    if cls_name.startswith(("Conv1D", "Conv2D", "Conv3D")) and not cls_name.endswith("Transpose"):
        k = _tuple(kw["kernel_size"], rank)
        windows = [(kk - 1) * dd + 1 for kk, dd in zip(k, dil)]
        if padding == "same":
            pads = [_same(n, w, s) for n, w, s in zip(spatial, windows, strides)]
        elif padding == "causal":
            pads = [(windows[0] - 1, 0)]
        else:
            pads = [(0, 0)] * rank
        y = conv(_pad(torch, xt, pads), _conv_weight(ws[0]), None, strides, 0, dil, kw.get("groups", 1))
        if kw.get("use_bias", True):
            y = y + ws[1].reshape(1, -1, *([1] * rank))
        y = act(y)
    elif cls_name.endswith("Transpose"):
        k = _tuple(kw["kernel_size"], rank)
        out_pad = _tuple(kw.get("output_padding"), rank)
        tconv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[rank - 1]
        weight = ws[0].permute(rank + 1, rank, *range(rank))  # (*k, out, in) -> (in, out, *k)
        full = tconv(xt, weight, None, strides, 0, 0, 1, dil)
        crops = [_transpose_crop(kk, s, padding, o, d) for kk, s, o, d in zip(k, strides, out_pad, dil)]
        index = [slice(None), slice(None)] + [
            slice(max(0, lo), full.shape[2 + i] - max(0, hi)) for i, (lo, hi) in enumerate(crops)
        ]
        y = _pad(torch, full[tuple(index)], [(max(0, -lo), max(0, -hi)) for lo, hi in crops])
        y = act(y + ws[1].reshape(1, -1, *([1] * rank)))
    elif cls_name.startswith(("DepthwiseConv", "SeparableConv")):
        k = _tuple(kw["kernel_size"], rank)
        windows = [(kk - 1) * dd + 1 for kk, dd in zip(k, dil)]
        pads = [_same(n, w, s) for n, w, s in zip(spatial, windows, strides)] if padding == "same" else [(0, 0)] * rank
        c = xt.shape[1]
        dk = ws[0]  # (*k, c, m) -> (c * m, 1, *k)
        depth_w = dk.reshape(*k, 1, -1).permute(rank + 1, rank, *range(rank))
        y = conv(_pad(torch, xt, pads), depth_w, None, strides, 0, dil, c)
        if cls_name.startswith("Separable"):
            y = conv(y, _conv_weight(ws[1]))
        y = act(y + ws[-1].reshape(1, -1, *([1] * rank)))
    elif "Global" in cls_name:
        axes = tuple(range(2, 2 + rank))
        y = xt.amax(dim=axes, keepdim=True) if "Max" in cls_name else xt.mean(dim=axes, keepdim=True)
        if not kw.get("keepdims"):
            y = y.reshape(y.shape[0], y.shape[1])
    else:
        pool = _tuple(kw.get("pool_size", 2), rank)
        strides = pool if kw.get("strides") is None else _tuple(kw["strides"], rank)
        pads = [_same(n, p, s) for n, p, s in zip(spatial, pool, strides)] if padding == "same" else [(0, 0)] * rank
        if cls_name.startswith("Max"):
            y = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1](_pad(torch, xt, pads, -float("inf")), pool, strides)
        else:
            avg = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
            total = avg(_pad(torch, xt, pads), pool, strides)
            count = avg(_pad(torch, torch.ones_like(xt), pads), pool, strides)
            y = total / count  # the padding is not counted
    if not cf and y.ndim > 2:
        y = torch.movedim(y, 1, -1)
    (y * torch.tensor(arrays["r"])).sum().backward()
    out = {"y": y.detach().numpy(), "dx": x.grad.numpy()}
    for i, w in enumerate(ws):
        out[f"dw{i}"] = w.grad.numpy()
    return out
