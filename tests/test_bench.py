"""The benchmark suite (bench/): its arithmetic, its statistics, its NumPy reference, and that it runs.

Timing never decides a test: the runs below check that every number is there and reported
where it should be, not how large it is.
"""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import myelin
from bench import data as bench_data
from bench import flops, report, scaling, stats
from bench.client import WorkerClient, WorkerError
from bench.impls import numpy_impl

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", [flops, stats, report, scaling, bench_data])
def test_doctests_of_bench_modules(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_flop_formula_of_the_seed_network():
    sizes = [784, 64, 64, 10]
    forward = 2 * (784 * 64 + 64 * 64 + 64 * 10)
    assert flops.forward_flops(sizes) == forward == 109_824
    # backward = 2 x forward, less the input gradient of the first layer
    assert flops.train_flops(sizes, 128) == 128 * (3 * forward - 2 * 784 * 64)
    assert flops.epoch_flops(sizes, 48_000, 12_000) == 48_000 * 229_120 + 12_000 * 109_824  # 12.3 GFLOP


def test_step_shapes_add_up_to_the_training_flops():
    for sizes, batch in (([784, 64, 64, 10], 32), ([4, 16, 16, 3], 16), ([784, 1024, 1024, 10], 256)):
        shapes = flops.step_shapes(sizes, batch)
        assert sum(2 * m * k * n for m, k, n in shapes) == flops.train_flops(sizes, batch)
        assert len(shapes) == 3 * (len(sizes) - 1) - 1  # no input gradient for the data


def test_flops_reject_a_network_without_layers():
    with pytest.raises(ValueError, match="at least two sizes"):
        flops.forward_flops([784])


def test_statistics_helpers():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    s = stats.summarize(values)
    assert (s["median"], s["q1"], s["q3"], s["min"], s["max"], s["n"]) == (3.0, 2.0, 4.0, 1.0, 5.0, 5)
    assert stats.quantile([10.0, 20.0], 0.25) == 12.5
    assert stats.paired_ratios([1.0, 2.0, 4.0], [3.0, 3.0, 2.0]) == [3.0, 1.5, 0.5]
    assert [stats.rotate([1, 2, 3], k) for k in range(4)] == [[1, 2, 3], [2, 3, 1], [3, 1, 2], [1, 2, 3]]
    with pytest.raises(ValueError):
        stats.summarize([])
    with pytest.raises(ValueError):
        stats.quantile([1.0], 1.5)


def test_synthetic_data_is_the_same_in_every_process():
    a, b = bench_data.synthetic(50, 6, 3, seed=7), bench_data.synthetic(50, 6, 3, seed=7)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert a.x.dtype == np.float32 and a.n_train == 40 and len(a.x_val) == 10
    assert set(np.unique(a.y)) <= {0, 1, 2}


def test_numpy_reference_step_equals_myelin_from_the_same_weights():
    """The hand-written reference computes the same Adam step as myelin (forward, fused gradient, update)."""
    sizes = [6, 5, 4, 3]
    ref = numpy_impl.Trainer(sizes, 1e-2, seed=0)
    rng = np.random.default_rng(1)
    for b in ref.b:
        b[...] = rng.normal(size=b.shape)  # non-zero biases, so their gradients are exercised
    model = myelin.models.Sequential(
        [
            myelin.layers.Input(shape=(6,)),
            myelin.layers.Dense(5, "relu"),
            myelin.layers.Dense(4, "relu"),
            myelin.layers.Dense(3, "softmax"),
        ]
    )
    model.set_weights([a.copy() for pair in zip(ref.W, ref.b) for a in pair])
    model.compile(optimizer=myelin.optimizers.Adam(learning_rate=1e-2), loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(8, 6)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    p_ref = ref.predict(x, 8)
    np.testing.assert_allclose(p_ref, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    buf = ref.buffers(8)
    loss_sum, _ = ref.step(x.copy(), y.copy(), buf)
    loss = model.train_on_batch(x, y)
    assert loss_sum / 8 == pytest.approx(float(loss), rel=1e-5)
    for mine, theirs in zip(model.get_weights(), [a for pair in zip(ref.W, ref.b) for a in pair]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_numpy_reference_learns():
    data = bench_data.synthetic(600, 8, 2, seed=0)
    data.y[:] = (data.x[:, 0] > 0.5).astype(np.int64)  # a learnable rule
    trainer = numpy_impl.Trainer([8, 16, 2], 1e-2, seed=0)
    seconds, logs = trainer.fit(data, 32, 20)
    assert len(seconds) == 20
    assert logs["val_accuracy"] > 0.9


def test_crossover_finds_where_arithmetic_overtakes_overhead():
    def point(x, step_flops, t):
        return {"x": x, "step_flops": step_flops, "shape_peak_gflops": 100.0}, {"summary": {"median": t}, "peak_fraction": 0.1}

    # fixed cost 100 µs; arithmetic at 100 GFLOP/s: 1 µs, 10 µs, 200 µs
    c = scaling.crossover([point(16, 1e5, 1.01e-4), point(128, 1e6, 1.1e-4), point(1024, 2e7, 3e-4)])
    assert c["x"] == 1024 and c["overhead_s"] == pytest.approx(1e-4)
    assert scaling.crossover([]) is None


def test_a_worker_that_cannot_import_says_why():
    client = WorkerClient("no_such_impl", None, 1)
    with pytest.raises(WorkerError, match="No module named"):
        client.start(timeout=60)


def _quick_run(tmp_path, peers: str, workloads: str, envs_dir: Path | None = None) -> dict:
    out = tmp_path / "run.json"
    env = {**__import__("os").environ}
    if envs_dir is not None:
        env["BENCH_ENVS_DIR"] = str(envs_dir)
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--reps",
        "1",
        "--peers",
        peers,
        "--workloads",
        workloads,
        "--json",
        str(out),
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    result["stdout"] = proc.stdout
    return result


def test_quick_run_of_myelin_and_the_numpy_reference(tmp_path):
    result = _quick_run(tmp_path, "numpy", "seed-b128,predict-b1")
    assert result["machine"]["threads"] == 1
    assert result["machine"]["cpu"]
    by_id = {w["id"]: w for w in result["workloads"]}
    epoch = by_id["seed-b128"]
    assert epoch["flops"] == flops.epoch_flops([784, 64, 64, 10], 4_800, 1_200)
    for name in ("myelin", "numpy"):
        res = epoch["results"][name]
        assert res["status"] == "ok"
        assert len(res["values"]) == 1 and res["values"][0] > 0
        assert res["peak_fraction"] > 0
        assert np.isfinite(res["final_logs"]["val_loss"])
    assert set(epoch["ratios"]) == {"numpy"}
    assert by_id["predict-b1"]["results"]["numpy"]["status"] == "ok"
    assert "seed MNIST MLP 784-64-64-10" in result["stdout"] and "myelin speed-up" in result["stdout"]


def test_a_missing_peer_is_reported_as_missing(tmp_path):
    result = _quick_run(tmp_path, "torch,sklearn", "predict-b1,import", envs_dir=tmp_path / "no-envs")
    for w in result["workloads"]:
        for name in ("torch", "sklearn"):
            res = w["results"][name]
            assert res["status"] == "missing"
            assert "python -m bench setup" in res["reason"]
        assert w["results"]["myelin"]["status"] == "ok"
    assert "missing: not set up" in result["stdout"]


def test_report_rewrites_only_its_own_sections(tmp_path):
    result = _quick_run(tmp_path, "numpy", "seed-b1024")
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nA note of ours.\n\n## Saving (another engineer's section)\n\nkept\n")
    report.write_results(run=result, path=path)
    first = path.read_text()
    assert "A note of ours." in first and "kept" in first
    assert "<!-- bench:run:begin -->" in first and "seed MNIST MLP 784-64-64-10, Adam, batch 1,024" in first
    report.write_results(run=result, path=path)
    assert path.read_text() == first  # rewritten in place, not appended twice
