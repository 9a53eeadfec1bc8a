"""Runs of Dense nodes replayed by the native chain kernels: the ordinary replay's numbers bit for bit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import myelin
from myelin import Tensor, backend, layers, native, ops
from myelin.ops import dense_chain
from myelin.tape import Plan, Tape

pytestmark = pytest.mark.skipif(not dense_chain.available(), reason="no native chain kernels (C pool, NumPy's OpenBLAS)")

RNG = np.random.default_rng(11)


def _unfused(monkeypatch):
    monkeypatch.setattr(dense_chain, "fuse", lambda nodes, order, protected: (nodes, order))


def _train(stack, x, y, batch, loss="sparse_categorical_crossentropy", epochs=2, dtype=None):
    myelin.utils.set_random_seed(4)
    model = myelin.Sequential([layers.Input((x.shape[1],), dtype=dtype), *stack()])
    model.compile(myelin.optimizers.Adam(1e-2), loss, metrics=["accuracy"])
    history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, shuffle=False)
    plans = [repr(p) for p in model._plans.values()]
    return [w.copy() for w in model.get_weights()], history.history, model.predict(x, verbose=0), plans


def _same(monkeypatch, stack, x, y, batch, **kwargs):
    fused = _train(stack, x, y, batch, **kwargs)
    with monkeypatch.context() as m:
        _unfused(m)
        plain = _train(stack, x, y, batch, **kwargs)
    for a, b in zip(fused[0], plain[0]):
        np.testing.assert_array_equal(a, b)
    assert fused[1] == plain[1]
    np.testing.assert_array_equal(fused[2], plain[2])
    return fused[3], plain[3]


def _seed():
    return [layers.Dense(32, activation="relu"), layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")]


X = RNG.standard_normal((203, 20)).astype(np.float32)  # 203: a partial last batch
Y = RNG.integers(0, 3, 203)


@pytest.mark.parametrize("batch", [32, 7, 203])
def test_seed_like_stack_is_one_node_and_trains_bit_for_bit(monkeypatch, batch):
    fused, plain = _same(monkeypatch, _seed, X, Y, batch)
    # Dense, Dense, Dense, Softmax, cross-entropy: the three Dense nodes are one
    assert fused[0] == "<Plan: 3 nodes, 6 weights>" and plain[0] == "<Plan: 5 nodes, 6 weights>"


def test_without_bias_tanh_between_and_dropout_between(monkeypatch):
    def stack():
        return [
            layers.Dense(16, activation="relu", use_bias=False),
            layers.Dense(12),
            layers.Dense(8, activation="tanh"),  # (tanh: not chained, it splits the run)
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ]

    fused, plain = _same(monkeypatch, stack, X, Y, 32)
    # runs: [Dense, Dense], [tanh Dense], [Dense], Dropout, [Dense], Softmax, loss
    assert fused[0] == "<Plan: 7 nodes, 9 weights>" and plain[0] == "<Plan: 8 nodes, 9 weights>"


def test_float64_model(monkeypatch):
    previous = myelin.config.floatx()
    myelin.config.set_floatx("float64")
    try:
        x = X.astype(np.float64)
        fused, _ = _same(monkeypatch, _seed, x, Y, 32)
    finally:
        myelin.config.set_floatx(previous)
    assert fused[0] == "<Plan: 3 nodes, 6 weights>"


def test_regression_head_of_one_unit_keeps_its_node(monkeypatch):
    """A Dense(1) takes NumPy's matrix-vector product: that layer keeps its own node."""
    y = X[:, :1] * 2.0 - X[:, 1:2]

    def stack():
        return [layers.Dense(16, activation="relu"), layers.Dense(8, activation="relu"), layers.Dense(1)]

    fused, plain = _same(monkeypatch, stack, X, y, 32, loss="mse")
    nodes = [int(p[0].split()[1]) for p in (fused, plain)]
    assert nodes[1] - nodes[0] == 1  # the two relu layers are one node, the last keeps its own


def test_frozen_first_layer(monkeypatch):
    def stack():
        first = layers.Dense(16, activation="relu")
        first.trainable = False
        return [first, layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")]

    _same(monkeypatch, stack, X, Y, 32)


def test_products_split_over_the_pool_as_native_matmul_splits_them(monkeypatch):
    """Large products at two (and, forced, three) threads: rows, columns and the sum split alike."""
    if not native.pool_gemm_available() or backend.cpu_count() < 2 or backend.explicit_threads() is not None:
        pytest.skip("the native pool needs two cores and myelin choosing the threads")
    monkeypatch.setattr(backend, "busy_cores", lambda: 0)  # a quiet machine, whatever this one is doing
    x = RNG.standard_normal((2048, 64)).astype(np.float32)
    y = RNG.integers(0, 3, 2048)

    def wide():
        return [
            layers.Dense(256, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),  # (its kernel's gradient: 64 x 64 of a sum of 1024 rows)
            layers.Dense(3, activation="softmax"),
        ]

    splits = []
    real_split = dense_chain._split
    monkeypatch.setattr(dense_chain, "_split", lambda m, k, n: splits.append(real_split(m, k, n)) or splits[-1])
    _same(monkeypatch, wide, x, y, 1024, epochs=1)
    assert {by for parts, by in splits if parts > 1} == {0, 1, 2}  # columns, rows, the sum
    real_parts = native.parts
    monkeypatch.setattr(native, "parts", lambda items, work: min(3, items) if real_parts(items, work) > 1 else 1)
    splits.clear()
    _same(monkeypatch, wide, x, y, 1024, epochs=1)
    assert {parts for parts, _ in splits} == {1, 3}


def _record(x, weights, activations):
    """A recorded step of Dense nodes on ``x`` (loss: the sum of the last output), and its plan."""
    with Tape([x]) as tape:
        h = Tensor(x)
        for (k, b), act in zip(weights, activations):
            h = ops.dense(h, k, b, activation=act)
        loss = ops.sum(h)
    return Plan(tape, loss, [h])


def _weights(sizes, dtype=np.float32):
    return [
        (
            Tensor(RNG.standard_normal((a, b)).astype(dtype), requires_grad=True),
            Tensor(RNG.standard_normal(b).astype(dtype), requires_grad=True),
        )
        for a, b in itertools.pairwise(sizes)
    ]


def _both(monkeypatch, x, sizes, acts):
    """The plan of Dense nodes on ``x`` recorded with the chain, and the same recorded without it."""
    weights = _weights(sizes)
    fused = _record(x, weights, acts)
    with monkeypatch.context() as m:
        _unfused(m)
        plain = _record(x, weights, acts)
    return fused, plain


def _assert_same_run(fused, plain, batch):
    a, b = fused.run([batch]), plain.run([batch])
    assert a[0] == b[0] and a[1][0].dtype == b[1][0].dtype
    np.testing.assert_array_equal(a[1][0], b[1][0])
    for ga, gb in zip(a[2], b[2]):
        np.testing.assert_array_equal(ga, gb)


def test_plan_of_a_chain_against_the_ordinary_nodes(monkeypatch):
    x = RNG.standard_normal((9, 5)).astype(np.float32)
    fused, plain = _both(monkeypatch, x, [5, 7, 6, 4], ["relu", "linear", "relu"])
    assert repr(fused) == "<Plan: 2 nodes, 6 weights>" and repr(plain) == "<Plan: 4 nodes, 6 weights>"
    for batch in (x, RNG.standard_normal((9, 5)).astype(np.float32)):
        _assert_same_run(fused, plain, batch)


def test_a_batch_the_kernels_do_not_take_runs_the_recorded_nodes(monkeypatch):
    """float64 data into float32 weights, a strided batch: the chain runs its Dense functions (NumPy promotes)."""
    x = RNG.standard_normal((8, 5)).astype(np.float32)
    fused, plain = _both(monkeypatch, x, [5, 6, 3], ["relu", "relu"])
    wide = RNG.standard_normal((8, 10)).astype(np.float32)
    for batch in (x.astype(np.float64), wide[:, ::2], x):
        _assert_same_run(fused, plain, batch)


def test_watched_intermediate_output_and_shared_weights_are_not_chained():
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    (k1, b1), (k2, b2) = _weights([4, 4, 4])
    with Tape([x]) as tape:
        h = ops.dense(Tensor(x), k1, b1, activation="relu")
        out = ops.dense(h, k2, b2)
        loss = ops.sum(out)
    assert repr(Plan(tape, loss, [h, out])) == "<Plan: 3 nodes, 4 weights>"  # h is watched: two nodes
    assert repr(Plan(tape, loss, [out])) == "<Plan: 2 nodes, 4 weights>"
    with Tape([x]) as tape:
        h = ops.dense(Tensor(x), k1, b1, activation="relu")
        out = ops.dense(h, k1, b1)  # the same kernel twice
        loss = ops.sum(out)
    assert repr(Plan(tape, loss, [out])) == "<Plan: 3 nodes, 2 weights>"


def test_kernels_turned_off_leave_the_nodes(monkeypatch):
    monkeypatch.setattr(native, "_lib", None)
    assert not dense_chain.available()
    x = RNG.standard_normal((6, 4)).astype(np.float32)
    assert repr(_record(x, _weights([4, 5, 3]), ["relu", "linear"])) == "<Plan: 3 nodes, 4 weights>"


def test_replayed_gradients_are_written_into_the_optimizer_buffers(monkeypatch):
    """The chain writes each weight's gradient where the update reads it: no copy, and the same training."""
    myelin.utils.set_random_seed(4)
    model = myelin.Sequential([layers.Input((20,)), *_seed()])
    model.compile(myelin.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    opt = model.optimizer
    in_place = []
    real_step = type(opt).step

    def step(self, variables=None):
        buffers = self.grad_buffers(variables)
        in_place.append(all(v.grad is b for v, b in zip(variables, buffers)))
        return real_step(self, variables)

    monkeypatch.setattr(type(opt), "step", step)
    model.fit(X[:64], Y[:64], batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert in_place == [False, True, True, True]  # the recorded first step copies; the replays write in place
    # and the buffers themselves: one view per variable, shaped like it
    assert [b.shape for b in opt.grad_buffers(model.trainable_weights)] == [tuple(w.shape) for w in model.trainable_weights]


def test_predict_from_two_threads_on_one_model_gives_each_its_own_numbers():
    """The chain's kept buffers serve one forward at a time: a second thread meanwhile runs the recorded Dense nodes."""
    import threading

    myelin.utils.set_random_seed(4)
    model = myelin.Sequential([layers.Input((20,)), *_seed()])
    inputs = [RNG.standard_normal((512, 20)).astype(np.float32) for _ in range(4)]
    expected = [model.predict(x, batch_size=512, verbose=0) for x in inputs]
    results: dict = {}

    def work(i):
        for _ in range(20):
            results[i] = model.predict(inputs[i], batch_size=512, verbose=0)
            np.testing.assert_array_equal(results[i], expected[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 1, 2, 3]


def test_a_busy_chain_runs_its_recorded_layers(monkeypatch):
    x = RNG.standard_normal((8, 5)).astype(np.float32)
    fused, plain = _both(monkeypatch, x, [5, 6, 3], ["relu", "relu"])
    chain = next(node[0] for node in fused.nodes if node is not None and isinstance(node[0], dense_chain.DenseChain))
    chain._busy.acquire()  # as if another thread were inside its forward
    try:
        _assert_same_run(fused, plain, x)
        assert not chain._native
    finally:
        chain._busy.release()


def test_a_pickled_or_copied_model_predicts_with_its_own_buffers():
    """The chain's descriptor holds this process's addresses: a copy (its recorded plans too) makes its own."""
    import copy
    import pickle

    myelin.utils.set_random_seed(4)
    model = myelin.Sequential([layers.Input((20,)), *_seed()])
    model.compile(myelin.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(X[:96], Y[:96], batch_size=32, epochs=1, verbose=0, shuffle=False)
    expected = model.predict(X, batch_size=64, verbose=0)  # (recorded and replayed: 64 and the last 11 rows)
    expected = model.predict(X, batch_size=64, verbose=0)
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        plans = other._infer_plans
        assert plans and any("DenseChain" in str(n) for p in plans.values() for n in p.nodes)
        np.testing.assert_array_equal(other.predict(X, batch_size=64, verbose=0), expected)
