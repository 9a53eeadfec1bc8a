"""The vision layers' comparison cases, computed by PyTorch and by myelin from the same inputs and weights.

``torch_results(torch)`` and ``myelin_results()`` return dicts with the same keys (float64
arrays); ``tests/make_vision_golden.py`` writes the first to ``tests/data/vision_golden.json``
so that myelin is checked against PyTorch's numbers where torch is not installed.

Batch normalization's mapping: torch ``momentum = 1 - keras momentum``; torch's ``running_var``
is updated with the unbiased batch variance, Keras's ``moving_variance`` with the biased one,
so the torch side also reports the moving average of the biased variance (``torch.var(...,
correction=0)``, from the same batches), which is what myelin must equal.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "vision_golden.json"

MOMENTUM = 0.9  # Keras's; torch's is 1 - MOMENTUM
EPSILON = 1e-3
STEPS = 3


def _inputs():
    rng = np.random.default_rng(11)
    return {
        "bn1d_x": [rng.standard_normal((6, 4)) * 2 + 1 for _ in range(STEPS)],
        "bn2d_x": [rng.standard_normal((4, 3, 5, 5)) * 1.5 - 0.5 for _ in range(STEPS)],
        "bn_gamma4": rng.uniform(0.5, 1.5, 4),
        "bn_beta4": rng.standard_normal(4),
        "bn_gamma3": rng.uniform(0.5, 1.5, 3),
        "bn_beta3": rng.standard_normal(3),
        "r1d": rng.standard_normal((6, 4)),
        "r2d": rng.standard_normal((4, 3, 5, 5)),
        "gn_x": rng.standard_normal((2, 6, 4, 3)) * 2 + 0.5,
        "gn_gamma": rng.uniform(0.5, 1.5, 6),
        "gn_beta": rng.standard_normal(6),
        "r_gn": rng.standard_normal((2, 6, 4, 3)),
        "img": rng.standard_normal((2, 3, 4, 5)),
        "seq": rng.standard_normal((2, 3, 5)),
        "vol": rng.standard_normal((1, 2, 3, 4, 2)),
    }


INPUTS = _inputs()


def torch_results(torch) -> dict:
    """PyTorch's numbers for every case (float64)."""
    F = torch.nn.functional
    i = INPUTS
    out = {}

    def bn_run(module, xs, r, key, gamma, beta):
        with torch.no_grad():
            module.weight.copy_(torch.tensor(gamma))
            module.bias.copy_(torch.tensor(beta))
        module.train()
        dims = [d for d in range(xs[0].ndim) if d != 1]
        biased = torch.ones(xs[0].shape[1], dtype=torch.float64)
        for k, x in enumerate(xs):
            t = torch.tensor(x, requires_grad=True)
            module.weight.grad = module.bias.grad = None
            y = module(t)
            (y * torch.tensor(r)).sum().backward()
            out[f"{key}_train{k}_y"] = y.detach().numpy()
            out[f"{key}_train{k}_gx"] = t.grad.numpy()
            out[f"{key}_train{k}_ggamma"] = module.weight.grad.numpy()
            out[f"{key}_train{k}_gbeta"] = module.bias.grad.numpy()
            biased = MOMENTUM * biased + (1 - MOMENTUM) * torch.var(t.detach(), dim=dims, correction=0)
            out[f"{key}_train{k}_running_mean"] = module.running_mean.numpy().copy()
            out[f"{key}_train{k}_running_var_unbiased"] = module.running_var.numpy().copy()
            out[f"{key}_train{k}_moving_variance"] = biased.numpy().copy()
        module.eval()
        t = torch.tensor(xs[0], requires_grad=True)
        module.weight.grad = module.bias.grad = None
        y = module(t)
        (y * torch.tensor(r)).sum().backward()
        # eval normalizes with the running statistics: give torch Keras's moving variance to compare
        with torch.no_grad():
            module.running_var.copy_(biased)
        t2 = torch.tensor(xs[0], requires_grad=True)
        module.weight.grad = module.bias.grad = None
        y2 = module(t2)
        (y2 * torch.tensor(r)).sum().backward()
        out[f"{key}_eval_y"] = y2.detach().numpy()
        out[f"{key}_eval_gx"] = t2.grad.numpy()
        out[f"{key}_eval_ggamma"] = module.weight.grad.numpy()
        out[f"{key}_eval_gbeta"] = module.bias.grad.numpy()

    bn1 = torch.nn.BatchNorm1d(4, eps=EPSILON, momentum=1 - MOMENTUM, dtype=torch.float64)
    bn_run(bn1, i["bn1d_x"], i["r1d"], "bn1d", i["bn_gamma4"], i["bn_beta4"])
    bn2 = torch.nn.BatchNorm2d(3, eps=EPSILON, momentum=1 - MOMENTUM, dtype=torch.float64)
    bn_run(bn2, i["bn2d_x"], i["r2d"], "bn2d", i["bn_gamma3"], i["bn_beta3"])

    gn = torch.nn.GroupNorm(3, 6, eps=EPSILON, dtype=torch.float64)
    with torch.no_grad():
        gn.weight.copy_(torch.tensor(i["gn_gamma"]))
        gn.bias.copy_(torch.tensor(i["gn_beta"]))
    t = torch.tensor(i["gn_x"], requires_grad=True)
    y = gn(t)
    (y * torch.tensor(i["r_gn"])).sum().backward()
    out.update(gn_y=y.detach().numpy(), gn_gx=t.grad.numpy(), gn_ggamma=gn.weight.grad.numpy(), gn_gbeta=gn.bias.grad.numpy())

    def with_grad(key, fn, x):
        t = torch.tensor(x, requires_grad=True)
        y = fn(t)
        r = np.cos(np.arange(y.numel()).reshape(tuple(y.shape)))
        (y * torch.tensor(r)).sum().backward()
        out[f"{key}_y"], out[f"{key}_gx"] = y.detach().numpy(), t.grad.numpy()

    # reshaping layers, channels_first in torch's layout
    with_grad("zeropad2d", lambda t: F.pad(t, (3, 1, 2, 0)), i["img"])  # W: (3, 1), H: (2, 0)
    with_grad("zeropad1d", lambda t: F.pad(t, (0, 0, 1, 2)), i["seq"])  # steps axis 1 of (b, steps, c)
    with_grad("zeropad3d", lambda t: F.pad(t, (1, 0, 0, 2, 1, 1)), i["vol"])  # on axes 4, 3, 2
    with_grad("crop2d", lambda t: t[:, :, 1:3, 2:4], i["img"])
    with_grad("up2d_nearest", lambda t: F.interpolate(t, scale_factor=(2, 3), mode="nearest"), i["img"])
    with_grad("up2d_bilinear", lambda t: F.interpolate(t, scale_factor=(2, 3), mode="bilinear", align_corners=False), i["img"])
    with_grad("up1d", lambda t: torch.repeat_interleave(t, 2, dim=1), i["seq"])
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def myelin_results() -> dict:
    """myelin's numbers for the same cases (run under float64)."""
    from myelin import Tensor, backend, layers

    assert backend.floatx() == "float64"
    i = INPUTS
    out = {}

    def bn_run(xs, r, key, gamma, beta, axis, to_layout, from_layout):
        layer = layers.BatchNormalization(axis=axis, momentum=MOMENTUM, epsilon=EPSILON)
        layer(to_layout(xs[0]), training=False)  # builds it; inference leaves the moving statistics alone
        layer.gamma.data[...] = gamma
        layer.beta.data[...] = beta
        for k, x in enumerate(xs):
            t = Tensor(to_layout(x), requires_grad=True)
            layer.gamma.grad = layer.beta.grad = None
            y = layer(t, training=True)
            (y * Tensor(to_layout(r))).sum().backward()
            out[f"{key}_train{k}_y"] = from_layout(y.data)
            out[f"{key}_train{k}_gx"] = from_layout(t.grad)
            out[f"{key}_train{k}_ggamma"] = layer.gamma.grad.copy()
            out[f"{key}_train{k}_gbeta"] = layer.beta.grad.copy()
            out[f"{key}_train{k}_running_mean"] = layer.moving_mean.data.copy()
            out[f"{key}_train{k}_moving_variance"] = layer.moving_variance.data.copy()
        t = Tensor(to_layout(xs[0]), requires_grad=True)
        layer.gamma.grad = layer.beta.grad = None
        y = layer(t, training=False)
        (y * Tensor(to_layout(r))).sum().backward()
        out[f"{key}_eval_y"] = from_layout(y.data)
        out[f"{key}_eval_gx"] = from_layout(t.grad)
        out[f"{key}_eval_ggamma"] = layer.gamma.grad.copy()
        out[f"{key}_eval_gbeta"] = layer.beta.grad.copy()

    same = lambda a: a
    last = lambda a: np.moveaxis(a, 1, -1)
    first = lambda a: np.moveaxis(a, -1, 1)
    bn_run(i["bn1d_x"], i["r1d"], "bn1d", i["bn_gamma4"], i["bn_beta4"], -1, same, same)
    bn_run(i["bn2d_x"], i["r2d"], "bn2d", i["bn_gamma3"], i["bn_beta3"], 1, same, same)
    bn_run(i["bn2d_x"], i["r2d"], "bn2d_last", i["bn_gamma3"], i["bn_beta3"], -1, last, first)

    for key, axis, to_layout, from_layout in (("gn", 1, same, same), ("gn_last", -1, last, first)):
        gn = layers.GroupNormalization(groups=3, axis=axis, epsilon=EPSILON)
        gn(to_layout(i["gn_x"]))  # builds it
        gn.gamma.data[...] = i["gn_gamma"]
        gn.beta.data[...] = i["gn_beta"]
        t = Tensor(to_layout(i["gn_x"]), requires_grad=True)
        y = gn(t)
        (y * Tensor(to_layout(i["r_gn"]))).sum().backward()
        out[f"{key}_y"], out[f"{key}_gx"] = from_layout(y.data), from_layout(t.grad)
        out[f"{key}_ggamma"], out[f"{key}_gbeta"] = gn.gamma.grad.copy(), gn.beta.grad.copy()

    def with_grad(key, layer, x, to_layout=same, from_layout=same):
        t = Tensor(to_layout(x), requires_grad=True)
        y = layer(t)
        yf = from_layout(y.data)
        r = np.cos(np.arange(yf.size).reshape(yf.shape))
        (y * Tensor(to_layout(r))).sum().backward()
        out[f"{key}_y"], out[f"{key}_gx"] = yf, from_layout(t.grad)

    for fmt, to_layout, from_layout in (("", same, same), ("_last", last, first)):
        df = "channels_first" if fmt == "" else "channels_last"
        with_grad(f"zeropad2d{fmt}", layers.ZeroPadding2D(((2, 0), (3, 1)), data_format=df), i["img"], to_layout, from_layout)
        with_grad(
            f"zeropad3d{fmt}", layers.ZeroPadding3D(((1, 1), (0, 2), (1, 0)), data_format=df), i["vol"], to_layout, from_layout
        )
        with_grad(f"crop2d{fmt}", layers.Cropping2D(((1, 1), (2, 1)), data_format=df), i["img"], to_layout, from_layout)
        with_grad(f"up2d_nearest{fmt}", layers.UpSampling2D((2, 3), data_format=df), i["img"], to_layout, from_layout)
        with_grad(
            f"up2d_bilinear{fmt}",
            layers.UpSampling2D((2, 3), data_format=df, interpolation="bilinear"),
            i["img"],
            to_layout,
            from_layout,
        )
    with_grad("zeropad1d", layers.ZeroPadding1D((1, 2)), i["seq"])
    with_grad("up1d", layers.UpSampling1D(2), i["seq"])
    return out


# Which myelin key is compared with which torch key (the channels_last runs are compared with torch's channels_first).
PAIRS = {}
for _k in ("bn1d", "bn2d", "bn2d_last"):
    _src = "bn2d" if _k == "bn2d_last" else _k
    for _s in range(STEPS):
        for _q in ("y", "gx", "ggamma", "gbeta", "running_mean", "moving_variance"):
            PAIRS[f"{_k}_train{_s}_{_q}"] = f"{_src}_train{_s}_{_q}"
    for _q in ("y", "gx", "ggamma", "gbeta"):
        PAIRS[f"{_k}_eval_{_q}"] = f"{_src}_eval_{_q}"
for _k in ("gn", "gn_last"):
    for _q in ("y", "gx", "ggamma", "gbeta"):
        PAIRS[f"{_k}_{_q}"] = f"gn_{_q}"
for _k in ("zeropad2d", "zeropad3d", "crop2d", "up2d_nearest", "up2d_bilinear"):
    for _q in ("y", "gx"):
        PAIRS[f"{_k}_{_q}"] = f"{_k}_{_q}"
        PAIRS[f"{_k}_last_{_q}"] = f"{_k}_{_q}"
for _k in ("zeropad1d", "up1d"):
    for _q in ("y", "gx"):
        PAIRS[f"{_k}_{_q}"] = f"{_k}_{_q}"


def golden() -> dict:
    """torch's numbers as committed in tests/data/vision_golden.json."""
    raw = json.loads(GOLDEN.read_text())
    return {k: np.array(v["values"], dtype=np.float64).reshape(v["shape"]) for k, v in raw.items()}


def check_golden(prefixes: tuple, mine: dict, close) -> int:
    """Compare myelin's results whose keys start with one of ``prefixes`` with the golden file; how many were compared."""
    numbers = golden()
    n = 0
    for key, source in PAIRS.items():
        if key.startswith(prefixes):
            close(mine[key], numbers[source], rtol=1e-10, atol=1e-12, what=key)
            n += 1
    return n
