"""PyTorch's nn.LSTM / nn.GRU / nn.RNN from Keras-layout weights (the mapping of docs/sequences.md).

Used by tests/layers/test_rnn.py (when torch is installed) and by tests/make_rnn_golden.py,
which writes the golden values tests/data/rnn_golden.json for runs without torch.

    python -m tests.make_rnn_golden        # regenerate, from the repository root (needs torch)
"""

from __future__ import annotations

import numpy as np

B, T, D, U = 3, 6, 5, 4


def case_arrays(kind: str, seed: int = 0) -> dict:
    """Inputs, Keras-layout weights and the output weights R of one comparison case (float64)."""
    gen = np.random.default_rng(seed)
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[kind]
    arrays = {
        "x": gen.standard_normal((B, T, D)),
        "kernel": gen.standard_normal((D, gates * U)) * 0.4,
        "recurrent_kernel": gen.standard_normal((U, gates * U)) * 0.4,
        "bias": gen.standard_normal((2, 3 * U) if kind == "gru" else (gates * U,)) * 0.3,
        "r_seq": gen.standard_normal((B, T, U)),
        "r_h": gen.standard_normal((B, U)),
    }
    if kind == "lstm":
        arrays["r_c"] = gen.standard_normal((B, U))
    return arrays


def _gru_to_torch(w: np.ndarray) -> np.ndarray:
    """Keras's GRU gate blocks z, r, h (last axis) as PyTorch's r, z, n."""
    u = w.shape[-1] // 3
    return np.concatenate([w[..., u : 2 * u], w[..., :u], w[..., 2 * u :]], axis=-1)


def _gru_from_torch(w: np.ndarray) -> np.ndarray:
    u = w.shape[-1] // 3
    return np.concatenate([w[..., u : 2 * u], w[..., :u], w[..., 2 * u :]], axis=-1)


def torch_run(torch, kind: str, arrays: dict, go_backwards: bool = False) -> dict:
    """PyTorch's outputs (every step, final states) and gradients of sum(R * outputs) in Keras's layout."""
    k, rk, b = arrays["kernel"], arrays["recurrent_kernel"], arrays["bias"]
    if kind == "lstm":
        net = torch.nn.LSTM(D, U, batch_first=True).double()
        w_ih, w_hh, b_ih, b_hh = k.T, rk.T, b, np.zeros_like(b)
    elif kind == "gru":
        net = torch.nn.GRU(D, U, batch_first=True).double()
        w_ih, w_hh, b_ih, b_hh = _gru_to_torch(k).T, _gru_to_torch(rk).T, _gru_to_torch(b[0]), _gru_to_torch(b[1])
    else:
        net = torch.nn.RNN(D, U, batch_first=True, nonlinearity="tanh").double()
        w_ih, w_hh, b_ih, b_hh = k.T, rk.T, b, np.zeros_like(b)
    with torch.no_grad():
        for name, value in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh), ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(net, name).copy_(torch.tensor(np.ascontiguousarray(value)))
    x = torch.tensor(arrays["x"], requires_grad=True)
    inp = torch.flip(x, [1]) if go_backwards else x
    out, state = net(inp)
    h = state[0][0] if kind == "lstm" else state[0]
    loss = (out * torch.tensor(arrays["r_seq"])).sum() + (h * torch.tensor(arrays["r_h"])).sum()
    result = {"sequence": out.detach().numpy(), "h": h.detach().numpy()}
    if kind == "lstm":
        c = state[1][0]
        loss = loss + (c * torch.tensor(arrays["r_c"])).sum()
        result["c"] = c.detach().numpy()
    loss.backward()
    g_ih, g_hh = net.weight_ih_l0.grad.numpy().T, net.weight_hh_l0.grad.numpy().T
    g_bih, g_bhh = net.bias_ih_l0.grad.numpy(), net.bias_hh_l0.grad.numpy()
    if kind == "gru":
        result.update(
            grad_kernel=_gru_from_torch(g_ih),
            grad_recurrent_kernel=_gru_from_torch(g_hh),
            grad_bias=np.stack([_gru_from_torch(g_bih), _gru_from_torch(g_bhh)]),
        )
    else:
        # Keras has one bias where PyTorch has two that add up: its gradient is either one's.
        result.update(grad_kernel=g_ih, grad_recurrent_kernel=g_hh, grad_bias=g_bih)
    result["grad_x"] = x.grad.numpy()
    return result


def torch_bidirectional_lstm(torch, arrays: dict) -> np.ndarray:
    """torch's bidirectional nn.LSTM: the forward half with ``arrays``' weights, the backward half with the
    kernel halved (so the halves differ), zero recurrent biases; the sequence output (B, T, 2U)."""
    net = torch.nn.LSTM(D, U, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for suffix, scale in (("", 1.0), ("_reverse", 0.5)):
            getattr(net, f"weight_ih_l0{suffix}").copy_(torch.tensor(arrays["kernel"].T * scale))
            getattr(net, f"weight_hh_l0{suffix}").copy_(torch.tensor(arrays["recurrent_kernel"].T.copy()))
            getattr(net, f"bias_ih_l0{suffix}").copy_(torch.tensor(arrays["bias"]))
            getattr(net, f"bias_hh_l0{suffix}").zero_()
        out, _ = net(torch.tensor(arrays["x"]))
    return out.numpy()
