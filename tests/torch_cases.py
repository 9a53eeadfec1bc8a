"""The comparisons with PyTorch that must run everywhere: each case's inputs, myelin's side and PyTorch's side.

``tests/make_torch_golden.py`` runs PyTorch's side of every case and writes the results to
``tests/data/torch_golden.json``; ``tests/test_torch_golden.py`` checks myelin's side against
that file on every machine, and, where torch is installed, the file against torch itself.
Inputs come from generators seeded per case, so they do not depend on which tests ran before.
Everything is float64.
"""

from __future__ import annotations

import numpy as np

from myelin import Tensor, losses, ops, optimizers

# Keras puts epsilon in another place than PyTorch (Adam: outside the bias correction; RMSprop:
# inside the square root); one far below the square roots of the second moments makes the rules equal.
TINY = 1e-20


# ---------------------------------------------------------------------------- optimizers: ten steps
def _problem():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(16, 4))
    labels = rng.integers(0, 3, 16)
    w0 = [rng.normal(size=(4, 5)) * 0.5, rng.normal(size=5) * 0.1, rng.normal(size=(5, 3)) * 0.5, rng.normal(size=3) * 0.1]
    return x, labels, w0


def _run_ours(make_opt, steps=10):
    x, labels, w0 = _problem()
    params = [Tensor(w.copy(), requires_grad=True) for w in w0]
    opt = make_opt()
    for _ in range(steps):
        h = ops.dense(Tensor(x), params[0], params[1], "tanh")
        losses.SparseCategoricalCrossentropy(from_logits=True)(labels, ops.dense(h, params[2], params[3])).backward()
        opt.step(params)
        opt.zero_grad()
    return {f"w{i}": p.data for i, p in enumerate(params)}


def _run_torch(torch, make_opt, steps=10, clip=None):
    x, labels, w0 = _problem()
    params = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        h = torch.tanh(torch.tensor(x) @ params[0] + params[1])
        torch.nn.functional.cross_entropy(h @ params[2] + params[3], torch.tensor(labels)).backward()
        if clip:
            clip(params)
        opt.step()
    return {f"w{i}": p.detach().numpy() for i, p in enumerate(params)}


OPTIMIZERS = {
    "sgd": (lambda: optimizers.SGD(0.1), lambda t, p: t.optim.SGD(p, lr=0.1)),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), lambda t, p: t.optim.SGD(p, lr=0.1, momentum=0.9)),
    "sgd_nesterov": (
        lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
        lambda t, p: t.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (lambda: optimizers.Adam(0.01, epsilon=TINY), lambda t, p: t.optim.Adam(p, lr=0.01, eps=TINY)),
    "adam_betas": (
        lambda: optimizers.Adam(0.02, beta_1=0.8, beta_2=0.99, epsilon=TINY),
        lambda t, p: t.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=TINY),
    ),
    "amsgrad": (
        lambda: optimizers.Adam(0.01, epsilon=TINY, amsgrad=True),
        lambda t, p: t.optim.Adam(p, lr=0.01, eps=TINY, amsgrad=True),
    ),
    "adamw": (
        lambda: optimizers.AdamW(0.01, weight_decay=0.1, epsilon=TINY),
        lambda t, p: t.optim.AdamW(p, lr=0.01, weight_decay=0.1, eps=TINY),
    ),
    "rmsprop": (lambda: optimizers.RMSprop(0.01, epsilon=TINY), lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=TINY)),
    "rmsprop_centered_momentum": (
        lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True, epsilon=TINY),
        lambda t, p: t.optim.RMSprop(p, lr=0.01, alpha=0.8, momentum=0.5, centered=True, eps=TINY),
    ),
    "adagrad": (
        lambda: optimizers.Adagrad(0.1, epsilon=TINY),
        lambda t, p: t.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=TINY),
    ),
}


def _clip_torch(torch, kind):
    """Keras's clipping rules through torch's own utilities: g * c / max(norm, c) (per weight or over
    all) with torch.nn.utils.clip_grad_norm_, g cut to [-c, c] with clip_grad_value_.

    clip_grad_norm_ scales by max_norm / (norm + 1e-6) where Keras scales by c / norm: handing it
    max_norm = c (norm + 1e-6) / norm makes its factor Keras's (to the last bits).
    """

    def keras_max_norm(ps):
        norm = float(torch.sqrt(sum(torch.sum(q.grad * q.grad) for q in ps)))
        return 0.1 * (norm + 1e-6) / norm

    def clip(params):
        if kind == "clipvalue":
            torch.nn.utils.clip_grad_value_(params, 0.05)
        elif kind == "clipnorm":
            for p in params:
                torch.nn.utils.clip_grad_norm_([p], keras_max_norm([p]))
        else:
            torch.nn.utils.clip_grad_norm_(params, keras_max_norm(params))

    return clip


CLIPPING = ("clipnorm", "global_clipnorm", "clipvalue")


# ---------------------------------------------------------------------------- losses: value and gradient
def _loss_inputs(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "categorical":
        return rng.normal(size=(6, 4)) * 2, rng.integers(0, 4, 6)
    if kind == "binary":
        return rng.normal(size=(5, 3)) * 3, rng.integers(0, 2, (5, 3)).astype(float)
    if kind == "probabilities":
        return rng.dirichlet(np.ones(4), size=6), rng.integers(0, 4, 6)
    if kind == "binary_probabilities":
        return rng.uniform(0.05, 0.95, (5, 3)), rng.integers(0, 2, (5, 3)).astype(float)
    return rng.normal(size=(8, 2)) * 2, rng.normal(size=(8, 2))  # regression: predictions, targets


def _our_loss(loss, target, values, through=None):
    z = Tensor(values, requires_grad=True)
    out = loss(target, through(z) if through else z)
    out.backward()
    return {"loss": np.array(out.item()), "grad": z.grad}


def _torch_loss(torch, fn, values):
    z = torch.tensor(values, requires_grad=True)
    out = fn(z)
    out.backward()
    return {"loss": np.array(out.item()), "grad": z.grad.numpy()}


def _loss_cases():
    cases = {}
    for smoothing in (0.0, 0.1):
        for from_logits in (True, False):

            def ours(s=smoothing, f=from_logits):
                logits, labels = _loss_inputs("categorical", 11)
                loss = losses.CategoricalCrossentropy(from_logits=f, label_smoothing=s)
                return _our_loss(loss, np.eye(4)[labels], logits, None if f else ops.softmax)

            def theirs(torch, s=smoothing):
                logits, labels = _loss_inputs("categorical", 11)
                fn = lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(labels), label_smoothing=s)
                return _torch_loss(torch, fn, logits)

            cases[f"categorical_crossentropy_smoothing{smoothing}_logits{from_logits}"] = (ours, theirs)
    for from_logits in (True, False):

        def ours(f=from_logits):
            logits, labels = _loss_inputs("categorical", 12)
            return _our_loss(losses.SparseCategoricalCrossentropy(from_logits=f), labels, logits, None if f else ops.softmax)

        def theirs(torch):
            logits, labels = _loss_inputs("categorical", 12)
            return _torch_loss(torch, lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(labels)), logits)

        cases[f"sparse_categorical_crossentropy_logits{from_logits}"] = (ours, theirs)

    def ours_probs():
        probs, labels = _loss_inputs("probabilities", 13)
        return _our_loss(losses.CategoricalCrossentropy(), np.eye(4)[labels], probs)

    def theirs_probs(torch):
        probs, labels = _loss_inputs("probabilities", 13)
        fn = lambda p: torch.nn.functional.nll_loss(torch.log(p / p.sum(dim=1, keepdim=True)), torch.tensor(labels))
        return _torch_loss(torch, fn, probs)

    cases["categorical_crossentropy_probabilities"] = (ours_probs, theirs_probs)
    for smoothing in (0.0, 0.2):
        for from_logits in (True, False):

            def ours(s=smoothing, f=from_logits):
                logits, target = _loss_inputs("binary", 14)
                loss = losses.BinaryCrossentropy(from_logits=f, label_smoothing=s)
                return _our_loss(loss, target, logits, None if f else ops.sigmoid)

            def theirs(torch, s=smoothing):
                logits, target = _loss_inputs("binary", 14)
                smoothed = torch.tensor(target * (1 - s) + 0.5 * s)
                return _torch_loss(torch, lambda z: torch.nn.functional.binary_cross_entropy_with_logits(z, smoothed), logits)

            cases[f"binary_crossentropy_smoothing{smoothing}_logits{from_logits}"] = (ours, theirs)

    def ours_bprobs():
        probs, target = _loss_inputs("binary_probabilities", 15)
        return _our_loss(losses.BinaryCrossentropy(), target, probs)

    def theirs_bprobs(torch):
        probs, target = _loss_inputs("binary_probabilities", 15)
        return _torch_loss(torch, lambda p: torch.nn.functional.binary_cross_entropy(p, torch.tensor(target)), probs)

    cases["binary_crossentropy_probabilities"] = (ours_bprobs, theirs_bprobs)
    regression = {
        "mean_squared_error": (losses.MeanSquaredError, {}, "mse_loss", {}),
        "mean_absolute_error": (losses.MeanAbsoluteError, {}, "l1_loss", {}),
        "huber_delta1": (losses.Huber, {"delta": 1.0}, "huber_loss", {"delta": 1.0}),
        "huber_delta0.5": (losses.Huber, {"delta": 0.5}, "huber_loss", {"delta": 0.5}),
    }
    for name, (cls, kwargs, tname, tkwargs) in regression.items():

        def ours(cls=cls, kwargs=kwargs):
            p, y = _loss_inputs("regression", 16)
            return _our_loss(cls(**kwargs), y, p)

        def theirs(torch, tname=tname, tkwargs=tkwargs):
            p, y = _loss_inputs("regression", 16)
            return _torch_loss(torch, lambda z: getattr(torch.nn.functional, tname)(z, torch.tensor(y), **tkwargs), p)

        cases[name] = (ours, theirs)
    return cases


LOSSES = _loss_cases()


# ---------------------------------------------------------------------------- ops and a whole network
UNARY = {
    "exp": (ops.exp, "exp"),
    "log": (ops.log, "log"),
    "sqrt": (ops.sqrt, "sqrt"),
    "tanh": (ops.tanh, "tanh"),
    "sigmoid": (ops.sigmoid, "sigmoid"),
    "relu": (ops.relu, "relu"),
    "softplus": (ops.softplus, "nn.functional.softplus"),
    "silu": (ops.silu, "nn.functional.silu"),
    "gelu": (lambda x: ops.gelu(x, approximate=False), "nn.functional.gelu"),
    "gelu_tanh": (ops.gelu, "nn.functional.gelu", {"approximate": "tanh"}),
    "elu": (ops.elu, "nn.functional.elu"),
    "selu": (ops.selu, "nn.functional.selu"),
    "softmax": (ops.softmax, "softmax"),
    "log_softmax": (ops.log_softmax, "log_softmax"),
}


def _unary_inputs(name):
    rng = np.random.default_rng(21)
    positive = rng.uniform(0.5, 2.0, size=(4, 5))
    signed = rng.uniform(0.2, 1.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5)) * 3
    return (positive if name in ("log", "sqrt") else signed), rng.normal(size=(4, 5))


def _unary_ours(name):
    x, w = _unary_inputs(name)
    t = Tensor(x, requires_grad=True)
    out = UNARY[name][0](t)
    (out * Tensor(w)).sum().backward()
    return {"value": out.data, "grad": t.grad}


def _unary_torch(torch, name):
    x, w = _unary_inputs(name)
    fn = torch
    for part in UNARY[name][1].split("."):
        fn = getattr(fn, part)
    t = torch.tensor(x, requires_grad=True)
    kwargs = UNARY[name][2] if len(UNARY[name]) > 2 else {}
    out = fn(t, dim=-1) if name in ("softmax", "log_softmax") else fn(t, **kwargs)
    (out * torch.tensor(w)).sum().backward()
    return {"value": out.detach().numpy(), "grad": t.grad.numpy()}


def _network_inputs():
    rng = np.random.default_rng(31)
    sizes = [(4, 8), (8, 6), (6, 5), (5, 3)]
    weights = []
    for n_in, n_out in sizes:
        weights += [rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), rng.normal(size=n_out) * 0.1]
    return rng.normal(size=(16, 4)), rng.integers(0, 3, 16), weights


def _network_ours():
    x, y, weights = _network_inputs()
    w = [Tensor(v, requires_grad=True) for v in weights]
    h = ops.dense(Tensor(x), w[0], w[1], "tanh")
    h = ops.dense(h, w[2], w[3], "relu")
    h = ops.sigmoid(ops.dense(h, w[4], w[5]))
    loss = losses.SparseCategoricalCrossentropy()(y, ops.softmax(ops.dense(h, w[6], w[7])))
    loss.backward()
    return {"loss": np.array(loss.item()), **{f"grad{i}": t.grad for i, t in enumerate(w)}}


def _sequential_ours():
    """The same network built from myelin's layers (Sequential of Dense), its weights set from the same draws."""
    from myelin import Sequential, layers

    x, y, weights = _network_inputs()
    model = Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(8, activation="tanh"),
            layers.Dense(6, activation="relu"),
            layers.Dense(5, activation="sigmoid"),
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.set_weights(weights)
    loss = losses.SparseCategoricalCrossentropy()(y, model(Tensor(x)))
    loss.backward()
    return {"loss": np.array(loss.item()), **{f"grad{i}": w.grad for i, w in enumerate(model.trainable_weights)}}


def _network_torch(torch):
    x, y, weights = _network_inputs()
    w = [torch.tensor(v, requires_grad=True) for v in weights]
    h = torch.tanh(torch.tensor(x) @ w[0] + w[1])
    h = torch.relu(h @ w[2] + w[3])
    h = torch.sigmoid(h @ w[4] + w[5])
    loss = torch.nn.functional.cross_entropy(h @ w[6] + w[7], torch.tensor(y))
    loss.backward()
    return {"loss": np.array(loss.item()), **{f"grad{i}": t.grad.numpy() for i, t in enumerate(w)}}


def _matmul_inputs():
    rng = np.random.default_rng(41)
    return rng.uniform(-1, 1, (2, 3, 4)), rng.uniform(-1, 1, (4, 5)), rng.uniform(-1, 1, 5)


def _matmul_ours():
    a, b, c = (Tensor(v, requires_grad=True) for v in _matmul_inputs())
    out = ((a @ b) * c / (c * c + 1.0)).max(axis=1)
    out.sum().backward()
    return {"value": out.data, "grad_a": a.grad, "grad_b": b.grad, "grad_c": c.grad}


def _matmul_torch(torch):
    a, b, c = (torch.tensor(v, requires_grad=True) for v in _matmul_inputs())
    out = ((a @ b) * c / (c * c + 1.0)).max(dim=1).values
    out.sum().backward()
    return {"value": out.detach().numpy(), "grad_a": a.grad.numpy(), "grad_b": b.grad.numpy(), "grad_c": c.grad.numpy()}


# (interpolation, torch's mode, antialias): tests/layers/test_image_preprocessing.py's live check
RESIZE = (
    ("bilinear", "bilinear", False),
    ("bilinear", "bilinear", True),
    ("bicubic", "bicubic", False),
    ("bicubic", "bicubic", True),
    ("nearest", "nearest-exact", False),
)


def _resize_inputs():
    return np.random.default_rng(1).standard_normal((2, 6, 9, 3)), np.random.default_rng(2).standard_normal((2, 4, 5, 3))


def _resize_ours(interpolation, antialias):
    from myelin.ops import image as image_ops

    x, r = _resize_inputs()
    m = Tensor(x, requires_grad=True)
    y = image_ops.resize(m, (4, 5), interpolation=interpolation, antialias=antialias)
    (y * Tensor(r)).sum().backward()
    return {"value": y.data, "grad": m.grad}


def _resize_torch(torch, mode, antialias):
    x, r = _resize_inputs()
    t = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    extra = {} if mode == "nearest-exact" else {"align_corners": False}
    y = torch.nn.functional.interpolate(t, size=(4, 5), mode=mode, antialias=antialias, **extra)
    (y * torch.tensor(r.transpose(0, 3, 1, 2))).sum().backward()
    return {"value": y.detach().numpy().transpose(0, 2, 3, 1), "grad": t.grad.numpy().transpose(0, 2, 3, 1)}


# ---------------------------------------------------------------------------- every case
def _cases():
    """name -> (myelin's side, PyTorch's side given the torch module, relative tolerance, absolute tolerance, why)."""
    cases = {}
    for name, (ours, theirs) in OPTIMIZERS.items():
        cases[f"optimizer/{name}"] = (
            lambda ours=ours: _run_ours(ours),
            lambda torch, theirs=theirs: _run_torch(torch, lambda p: theirs(torch, p)),
            *OPTIMIZER_TOLERANCE.get(name, (1e-10, 1e-13)),
        )
    for kind in CLIPPING:
        value = 0.05 if kind == "clipvalue" else 0.1
        cases[f"optimizer/sgd_{kind}"] = (
            lambda kind=kind, value=value: _run_ours(lambda: optimizers.SGD(0.5, momentum=0.5, **{kind: value})),
            lambda torch, kind=kind: _run_torch(
                torch, lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.5), clip=_clip_torch(torch, kind)
            ),
            *CLIP_TOLERANCE[kind],
        )
    for name, (ours, theirs) in LOSSES.items():
        cases[f"loss/{name}"] = (ours, theirs, 1e-12, 1e-15)
    for name in UNARY:
        cases[f"op/{name}"] = (
            lambda name=name: _unary_ours(name),
            lambda torch, name=name: _unary_torch(torch, name),
            1e-12,
            1e-15,
        )
    cases["network/dense_tanh_relu_sigmoid_softmax"] = (_network_ours, _network_torch, 1e-11, 1e-15)
    # the same network through layers.Dense in a Sequential model (tests/test_models.py's check)
    cases["network/sequential_dense_layers"] = (_sequential_ours, _network_torch, 1e-11, 1e-15)
    # a batched matmul, broadcasting, a division and a max over an axis (tests/test_ops.py's live check)
    cases["op/matmul_broadcast_max"] = (_matmul_ours, _matmul_torch, 1e-12, 1e-15)
    for interpolation, mode, antialias in RESIZE:  # weights of a few dozen taps: as the live check, 1e-10
        cases[f"op/resize_{interpolation}{'_antialias' if antialias else ''}"] = (
            lambda i=interpolation, a=antialias: _resize_ours(i, a),
            lambda torch, m=mode, a=antialias: _resize_torch(torch, m, a),
            1e-10,
            1e-12,
        )
    return cases


# Ten steps of a few float64 operations per weight: 1e-10 relative leaves two orders of margin
# over what is measured (1e-14 to 1e-12); atol for weights that pass near zero.
OPTIMIZER_TOLERANCE: dict[str, tuple[float, float]] = {}
CLIP_TOLERANCE = {"clipnorm": (1e-10, 1e-13), "global_clipnorm": (1e-10, 1e-13), "clipvalue": (1e-10, 1e-13)}

CASES = _cases()
