"""PyTorch's nn.MultiheadAttention, nn.LayerNorm, nn.RMSNorm and F.normalize from Keras-layout weights.

The weight mapping (docs/sequences.md, "Attention"): for embed dim E, H heads of D = E / H,
Keras's query kernel (E, H, D) reshaped to (E, H * D) is the transpose of the query block of
``in_proj_weight`` (rows 0..E), likewise key (E..2E) and value (2E..3E); the biases (H, D)
flattened are the blocks of ``in_proj_bias``; the output kernel (H, D, E) reshaped to (H * D, E)
is ``out_proj.weight`` transposed, its bias ``out_proj.bias``. Keras masks say True = attend,
PyTorch's ``key_padding_mask`` and boolean ``attn_mask`` say True = do not attend.

Used by tests/layers/test_attention.py and tests/layers/test_normalization.py (when torch is
installed) and by tests/make_attention_golden.py, which writes tests/data/attention_golden.json.
"""

from __future__ import annotations

import numpy as np

B, T, S, E, H = 3, 5, 6, 8, 2
D = E // H


def mha_arrays(case: str, seed: int = 0) -> dict:
    """Inputs, Keras-layout weights, masks and output weights R of one MultiHeadAttention case (float64)."""
    gen = np.random.default_rng(seed)
    s = T if case in ("self", "causal") else S
    arrays = {
        "query": gen.standard_normal((B, T, E)),
        "query_kernel": gen.standard_normal((E, H, D)) * 0.4,
        "query_bias": gen.standard_normal((H, D)) * 0.2,
        "key_kernel": gen.standard_normal((E, H, D)) * 0.4,
        "key_bias": gen.standard_normal((H, D)) * 0.2,
        "value_kernel": gen.standard_normal((E, H, D)) * 0.4,
        "value_bias": gen.standard_normal((H, D)) * 0.2,
        "output_kernel": gen.standard_normal((H, D, E)) * 0.4,
        "output_bias": gen.standard_normal((E,)) * 0.2,
        "r": gen.standard_normal((B, T, E)),
    }
    valid = np.ones((B, s), dtype=bool)
    valid[1, -2:] = False  # padding at the end of the second sequence
    valid[2, -1] = False
    arrays["value_mask"] = valid
    if case == "cross":
        arrays["value"] = gen.standard_normal((B, s, E))
        arrays["key"] = gen.standard_normal((B, s, E))
    return arrays


def weights_in_keras_order(a: dict) -> list:
    return [a[k] for k in ("query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel", "value_bias")] + [
        a["output_kernel"],
        a["output_bias"],
    ]


def mha_torch(torch, case: str, a: dict) -> dict:
    """PyTorch's output, per-head attention probabilities and gradients of sum(R * output), in Keras's layout."""
    net = torch.nn.MultiheadAttention(E, H, bias=True, batch_first=True).double()
    w_in = np.concatenate([a[f"{n}_kernel"].reshape(E, E).T for n in ("query", "key", "value")])
    b_in = np.concatenate([a[f"{n}_bias"].reshape(E) for n in ("query", "key", "value")])
    with torch.no_grad():
        net.in_proj_weight.copy_(torch.tensor(w_in))
        net.in_proj_bias.copy_(torch.tensor(b_in))
        net.out_proj.weight.copy_(torch.tensor(a["output_kernel"].reshape(E, E).T.copy()))
        net.out_proj.bias.copy_(torch.tensor(a["output_bias"]))
    q = torch.tensor(a["query"], requires_grad=True)
    v = torch.tensor(a["value"], requires_grad=True) if case == "cross" else q
    k = torch.tensor(a["key"], requires_grad=True) if case == "cross" else v
    s = v.shape[1]
    attn_mask = None
    if case == "causal":
        attn_mask = torch.tensor(~np.tril(np.ones((T, s), dtype=bool)))
    out, probs = net(
        q,
        k,
        v,
        key_padding_mask=torch.tensor(~a["value_mask"]),
        attn_mask=attn_mask,
        need_weights=True,
        average_attn_weights=False,
    )
    (out * torch.tensor(a["r"])).sum().backward()
    gw, gb = net.in_proj_weight.grad.numpy(), net.in_proj_bias.grad.numpy()
    result = {"output": out.detach().numpy(), "scores": probs.detach().numpy()}
    for i, n in enumerate(("query", "key", "value")):
        result[f"grad_{n}_kernel"] = gw[i * E : (i + 1) * E].T.reshape(E, H, D)
        result[f"grad_{n}_bias"] = gb[i * E : (i + 1) * E].reshape(H, D)
    result["grad_output_kernel"] = net.out_proj.weight.grad.numpy().T.reshape(H, D, E)
    result["grad_output_bias"] = net.out_proj.bias.grad.numpy()
    result["grad_query"] = q.grad.numpy()
    if case == "cross":
        result["grad_value"], result["grad_key"] = v.grad.numpy(), k.grad.numpy()
    return result


NORM_SHAPE = (4, 3, 10)


def norm_arrays(seed: int = 1) -> dict:
    gen = np.random.default_rng(seed)
    return {
        "x": gen.standard_normal(NORM_SHAPE) * 2 + 0.5,
        "gamma": gen.standard_normal(NORM_SHAPE[-1]) * 0.5 + 1,
        "beta": gen.standard_normal(NORM_SHAPE[-1]) * 0.3,
        "r": gen.standard_normal(NORM_SHAPE),
    }


def norm_torch(torch, kind: str, a: dict) -> dict:
    """PyTorch's layer_norm (eps 1e-3), rms_norm (eps 1e-6) or normalize, and gradients of sum(R * y)."""
    x = torch.tensor(a["x"], requires_grad=True)
    n = NORM_SHAPE[-1]
    params = []
    if kind == "layer_norm":
        g, b = torch.tensor(a["gamma"], requires_grad=True), torch.tensor(a["beta"], requires_grad=True)
        y, params = torch.nn.functional.layer_norm(x, (n,), g, b, eps=1e-3), [g, b]
    elif kind == "rms_norm":
        g = torch.tensor(a["gamma"], requires_grad=True)
        y, params = torch.nn.functional.rms_norm(x, (n,), g, eps=1e-6), [g]
    else:
        y = torch.nn.functional.normalize(x, dim=-1, eps=1e-12)
    (y * torch.tensor(a["r"])).sum().backward()
    out = {"y": y.detach().numpy(), "grad_x": x.grad.numpy()}
    for name, p in zip(("grad_gamma", "grad_beta"), params):
        out[name] = p.grad.numpy()
    return out
