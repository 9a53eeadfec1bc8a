"""bench/attention_bench.py: myelin's and PyTorch's transformer encoders are the same network (timing is never tested)."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import attention_bench


def test_the_two_networks_have_the_same_parameters(torch):
    model = attention_bench._myelin_model()
    net, _, _ = attention_bench._torch_model(torch)
    mine = sorted(int(np.prod(w.shape)) for w in model.weights)
    theirs = sorted(p.numel() for p in net.parameters())
    assert sum(mine) == sum(theirs) == model.count_params()
    x, y = attention_bench._data(4, 0)
    assert x.shape == (4, attention_bench.LENGTH) and (y == x[:, ::-1]).all()
    assert model.output_shape == (None, attention_bench.LENGTH, 10)


def test_layer_norm_micro_benchmark_runs():
    fused, composed = attention_bench.layer_norm_micro(reps=1)
    assert fused > 0 and composed > 0
