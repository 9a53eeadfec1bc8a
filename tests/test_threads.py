"""The BLAS thread policy (issue 18): myelin picks each product's thread count during fit/evaluate/predict."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import backend, config, native


class FakeBLAS:
    """Stands in for NumPy's OpenBLAS: records every thread count set."""

    def __init__(self, threads: int):
        self.n, self.calls = threads, []

    def threads(self) -> int:
        return self.n

    def set_threads(self, n: int) -> None:
        self.n = n
        self.calls.append(n)


@pytest.fixture
def fake(monkeypatch):
    blas = FakeBLAS(4)
    monkeypatch.setattr(backend, "_numpy_openblas", lambda: blas)
    monkeypatch.setattr(backend, "cpu_count", lambda: 4)
    monkeypatch.setattr(backend, "busy_cores", lambda: 0)  # a quiet machine, whatever this one is doing
    monkeypatch.setattr(backend, "_first_seen_threads", None)
    monkeypatch.setattr(backend, "_explicit_threads", None)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(native, "pool_gemm_available", lambda: False)  # OpenBLAS's own threads (see the pool tests)
    return blas


def test_with_the_c_pool_the_policy_keeps_openblas_at_one_thread_and_pools_the_products(fake, monkeypatch):
    monkeypatch.setattr(native, "pool_gemm_available", lambda: True)
    with backend.thread_policy():
        assert backend.pool_products() and backend.native_threads() == 4 and fake.n == 1
        backend.blas_threads_for(1e9)  # a large product outside native.matmul: still one thread (none spins)
        assert fake.n == 1
    assert fake.n == 4 and not backend.pool_products() and backend.native_threads() == 1
    with backend.thread_policy(workers=3):  # one free core: nothing to pool over
        assert not backend.pool_products() and backend.native_threads() == 1
    config.set_num_threads(2)
    try:
        with backend.thread_policy():  # the user's count: OpenBLAS's threads, as asked
            assert not backend.pool_products() and fake.n == 2
    finally:
        config.set_num_threads(None)


def test_small_products_one_thread_large_ones_every_core(fake):
    big, small = backend.THREAD_CROSSOVER_FLOPS, backend.THREAD_CROSSOVER_FLOPS - 1
    with backend.thread_policy():
        backend.blas_threads_for(small)
        assert fake.n == 1
        backend.blas_threads_for(small)  # unchanged: no call
        backend.blas_threads_for(big)
        assert fake.n == 4
    assert fake.calls == [1, 4, 4]  # the last one restores the caller's count
    backend.blas_threads_for(small)  # outside the policy: nothing happens
    assert fake.calls == [1, 4, 4]


def test_workers_and_processes_take_cores_away(fake):
    with backend.thread_policy(workers=2):
        backend.blas_threads_for(1e9)
        assert fake.n == 2
    with backend.thread_policy(workers=1, processes=2):
        backend.blas_threads_for(1e9)
        assert fake.n == 2  # 4 cores - 1 worker - 1 other rank
    with backend.thread_policy(workers=8):
        backend.blas_threads_for(1e9)
        assert fake.n == 1  # never fewer than one, never more than the free cores


def test_cores_other_programs_keep_busy_are_left_alone(fake, monkeypatch):
    monkeypatch.setattr(backend, "busy_cores", lambda: 3)
    with backend.thread_policy():
        backend.blas_threads_for(1e9)
        assert fake.n == 1 and backend.native_threads() == 1  # 4 cores, 3 busy elsewhere
    monkeypatch.setattr(backend, "busy_cores", lambda: 1)
    with backend.thread_policy(workers=2):
        backend.blas_threads_for(1e9)
        assert fake.n == 2  # our 2 workers count, not the 1 busy core on top of them (it may be one of them)


def test_busy_cores_reads_the_runnable_tasks_and_remembers_them_for_a_second(monkeypatch, tmp_path):
    import builtins

    real_open, reads = builtins.open, []

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            reads.append(path)
            return real_open(tmp_path / "loadavg", *args, **kwargs)
        return real_open(path, *args, **kwargs)

    (tmp_path / "loadavg").write_text("3.10 2.00 1.50 3/250 12345\n")
    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(backend, "_busy_seen", [-1e9, 0])
    monkeypatch.setattr(backend, "_own_runnable", lambda: 1)
    assert backend.busy_cores() == 2  # 3 runnable, this thread one of them
    assert len(reads) == 10  # busy: five looks, and five more 10 ms later
    (tmp_path / "loadavg").write_text("0.10 0.00 0.00 1/250 12345\n")
    assert backend.busy_cores() == 2 and len(reads) == 10  # remembered: no new look within a second
    monkeypatch.setattr(backend, "_busy_seen", [-1e9, 0])
    assert backend.busy_cores() == 0 and len(reads) == 15  # quiet: five looks are enough


def test_a_burst_that_has_ended_ten_ms_later_is_not_a_busy_core(monkeypatch):
    """PyTorch's OpenMP workers spin ~8 ms after its last call: a fit started then still gets both cores."""
    looks = iter([1, 0])
    monkeypatch.setattr(backend, "_busy_looks", lambda: next(looks))
    monkeypatch.setattr(backend, "_busy_seen", [-1e9, 0])
    assert backend.busy_cores() == 0
    looks = iter([2, 1])
    monkeypatch.setattr(backend, "_busy_looks", lambda: next(looks))
    monkeypatch.setattr(backend, "_busy_seen", [-1e9, 0])
    assert backend.busy_cores() == 1  # still busy 10 ms later: it counts


def test_this_process_own_threads_are_not_counted_as_busy_cores():
    assert backend._own_runnable() >= 1  # the thread asking is running


def test_nested_policy_keeps_the_outer_one(fake):
    with backend.thread_policy():
        backend.blas_threads_for(1e9)
        with backend.thread_policy(workers=3):  # validation inside fit
            backend.blas_threads_for(1e9)
            assert fake.n == 4
        backend.blas_threads_for(1.0)
        assert fake.n == 1
    assert fake.n == 4


@pytest.mark.parametrize("var", ["OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"])
def test_the_environment_wins(fake, monkeypatch, var):
    monkeypatch.setenv(var, "3")
    assert config.num_threads() == 3
    with backend.thread_policy():
        backend.blas_threads_for(1.0)
        backend.blas_threads_for(1e9)
    assert fake.calls == [4]  # only the restore: nothing was chosen


def test_set_num_threads_wins_and_is_restored(fake):
    config.set_num_threads(2)
    with backend.thread_policy():
        assert fake.n == 2
        backend.blas_threads_for(1e9)
        assert fake.n == 2
    assert fake.n == 4
    config.set_num_threads(None)
    with pytest.raises(ValueError, match="positive integer or None"):
        config.set_num_threads(0)


def test_a_threadpoolctl_limit_wins(fake):
    assert backend.explicit_threads() is None  # myelin has now seen OpenBLAS's own count (4)
    fake.n = 1  # what threadpoolctl.threadpool_limits(1) does to OpenBLAS
    assert backend.explicit_threads() == 1
    with backend.thread_policy():
        backend.blas_threads_for(1e9)
        assert fake.n == 1


def test_the_primitives_ask_for_their_size(fake):
    from myelin import Tensor, ops

    x = Tensor(np.ones((128, 784), np.float32))
    w = Tensor(np.ones((784, 64), np.float32), requires_grad=True)
    with backend.thread_policy():
        ops.matmul(Tensor(np.ones((4, 4), np.float32)), w[:4]).sum()  # 2 kFLOP: one thread
        assert fake.calls == [1]
        ops.dense(x, w, activation="relu").sum().backward()  # 12.8 MFLOP each way: every core
        assert fake.calls == [1, 4]


@pytest.mark.skipif(backend.blas_info()["library"] is None, reason="NumPy does not use a bundled OpenBLAS here")
def test_the_real_openblas_is_restored():
    before = backend.blas_info()["threads"]
    with backend.thread_policy():
        backend.blas_threads_for(1.0)
    assert backend.blas_info()["threads"] == before


def test_fit_evaluate_predict_run_under_the_policy_and_restore(fake):
    import myelin
    from myelin import layers

    m = myelin.Sequential([layers.Input(shape=(784,)), layers.Dense(64, activation="relu"), layers.Dense(10)])
    m.compile(optimizer="adam", loss="mse")
    x, y = np.ones((256, 784), np.float32), np.zeros((256, 10), np.float32)
    m.fit(x, y, batch_size=128, epochs=1, verbose=0)  # 12.8 MFLOP products: every core; 128x64x10: one thread
    assert 1 in fake.calls and fake.n == 4  # both chosen during fit, the caller's 4 restored after
    fake.calls.clear()
    m.predict(x[:2], verbose=0)  # tiny products only
    assert fake.calls == [1, 4]
    fake.calls.clear()
    m.evaluate(x, y, verbose=0)
    assert fake.calls[-1] == 4 and fake.n == 4


def test_the_policy_from_several_threads_restores_once_the_last_one_leaves(fake):
    """One model's predict from several threads: the first call in sets the policy, the last one out restores."""
    import threading

    fake.n = 2
    inside, release = threading.Barrier(3), threading.Event()

    def call():
        with backend.thread_policy():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()  # both are inside
    assert backend._policy_users == 2 and backend._policy_depth == 1
    release.set()
    for t in threads:
        t.join()
    assert backend._policy_users == 0 and backend._policy_depth == 0 and backend._policy_blas is None
    assert fake.n == 2  # the caller's count, restored once
    backend.blas_threads_for(1e9)  # (a no-op again: the policy is off)
    assert fake.n == 2
