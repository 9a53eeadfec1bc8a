"""Every data adapter against the array path: generators, iterators, PyDataset (threads, processes), memory maps.

Same batches in, bit-identical weights and the same history out; the faults of issue 13
(a batch that changes shape, an exception in a worker, Ctrl-C with workers, an endless
generator without steps_per_epoch); a memory map several times larger than what fitting it
may hold resident.
"""

import os
import subprocess
import sys
import textwrap
import threading
import traceback

import numpy as np
import pytest

import myelin
from myelin import layers
from myelin.utils import PyDataset

RNG = np.random.default_rng(0)
X = RNG.normal(size=(100, 4)).astype(np.float32)
Y = RNG.integers(0, 3, 100)
W = RNG.random(100).astype(np.float32)
BS = 16
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model(seed=0):
    myelin.utils.set_random_seed(seed)
    m = myelin.Sequential(
        [layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")]
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


def _batches(x=X, y=Y, sw=None):
    for s in range(0, len(x), BS):
        yield (x[s : s + BS], y[s : s + BS]) if sw is None else (x[s : s + BS], y[s : s + BS], sw[s : s + BS])


class Batches(PyDataset):
    """Batch i of X, Y (and weights), as fit(X, Y, shuffle=False) cuts them."""

    def __init__(self, x=X, y=Y, sw=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.sw = x, y, sw

    def __len__(self):
        return -(-len(self.x) // BS)

    def __getitem__(self, i):
        s = slice(i * BS, (i + 1) * BS)
        return (self.x[s], self.y[s]) if self.sw is None else (self.x[s], self.y[s], self.sw[s])


@pytest.fixture(scope="module")
def reference():
    m = _model()
    h = m.fit(X, Y, batch_size=BS, epochs=3, shuffle=False, verbose=0)
    return m, h.history


def test_a_generator_of_the_array_batches_gives_bit_identical_weights_and_history(reference):
    ref, history = reference
    m = _model()
    gen = (b for _ in range(3) for b in _batches())
    h = m.fit(gen, steps_per_epoch=7, epochs=3, verbose=0)
    assert _same_weights(ref, m)
    assert h.history == history
    # the recorded, replayed step serves the generator's batches too: one plan per batch shape
    assert m.compile_status == "compiled: 2 training step shape(s) recorded"


def test_an_iterator_and_a_finite_generator_for_one_epoch():
    ref = _model()
    ref.fit(X, Y, batch_size=BS, epochs=1, shuffle=False, verbose=0)
    for data in (iter(list(_batches())), _batches()):
        m = _model()
        h = m.fit(data, verbose=0)
        assert _same_weights(ref, m)
        assert len(h.history["loss"]) == 1


def test_sample_weights_and_class_weights_in_batches_match_arrays():
    ref = _model()
    ref.fit(X, Y, sample_weight=W, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    m = _model()
    m.fit(Batches(sw=W), epochs=2, shuffle=False, verbose=0)
    assert _same_weights(ref, m)
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    ref = _model()
    ref.fit(X, Y, class_weight=cw, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    m = _model()
    m.fit(Batches(), class_weight=cw, epochs=2, shuffle=False, verbose=0)
    assert _same_weights(ref, m)


@pytest.mark.parametrize("workers,processes", [(0, False), (1, False), (2, False), (3, True)])
def test_pydataset_with_threads_or_processes_matches_arrays(reference, workers, processes):
    ref, history = reference
    m = _model()
    h = m.fit(Batches(workers=workers, use_multiprocessing=processes, max_queue_size=2), epochs=3, shuffle=False, verbose=0)
    assert _same_weights(ref, m)
    assert h.history == history
    assert len(m._plans) == 2


def test_shuffled_pydataset_is_the_same_for_every_kind_of_worker():
    results = []
    for workers, processes in [(0, False), (2, False), (2, True)]:
        m = _model()
        m.fit(Batches(workers=workers, use_multiprocessing=processes), epochs=3, shuffle=True, verbose=0)
        results.append(m.get_weights())
    unshuffled = _model()
    unshuffled.fit(Batches(), epochs=3, shuffle=False, verbose=0)
    for other in results[1:]:
        assert all(np.array_equal(u, v) for u, v in zip(results[0], other))
    assert not all(np.array_equal(u, v) for u, v in zip(results[0], unshuffled.get_weights()))


def test_on_epoch_begin_and_end_are_called_each_epoch():
    class Counting(Batches):
        begins = ends = 0

        def on_epoch_begin(self):
            self.begins += 1

        def on_epoch_end(self):
            self.ends += 1

    ds = Counting(workers=2)
    _model().fit(ds, epochs=3, verbose=0)
    assert (ds.begins, ds.ends) == (3, 3)


def test_validation_data_as_generator_and_pydataset_matches_arrays():
    ref = _model()
    h_ref = ref.fit(X, Y, batch_size=BS, epochs=2, shuffle=False, validation_data=(X[:50], Y[:50]), verbose=0)
    m = _model()
    val = Batches(X[:50], Y[:50], workers=2)
    h = m.fit(Batches(), epochs=2, shuffle=False, validation_data=val, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"], h_ref.history["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(h.history["val_accuracy"], h_ref.history["val_accuracy"], rtol=1e-6)
    m = _model()
    endless_val = (b for _ in range(100) for b in _batches(X[:48], Y[:48]))
    h = m.fit(Batches(), epochs=2, shuffle=False, validation_data=endless_val, validation_steps=3, verbose=0)
    assert len(h.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="validation_steps"):
        _model().fit(Batches(), epochs=2, validation_data=_batches(), verbose=0)


def test_predict_and_evaluate_on_a_pydataset_and_a_generator(reference):
    ref, _ = reference
    expected = ref.predict(X, verbose=0)
    for data in (Batches(workers=2), Batches(workers=2, use_multiprocessing=True), (x for x, _ in _batches())):
        np.testing.assert_array_equal(ref.predict(data, verbose=0), expected)
    loss, acc = ref.evaluate(X, Y, verbose=0)
    loss2, acc2 = ref.evaluate(Batches(workers=2), verbose=0)
    assert acc2 == acc and loss2 == pytest.approx(loss, rel=1e-6)
    assert len(ref.predict(Batches(), steps=2, verbose=0)) == 2 * BS


def test_batches_of_named_inputs_as_dicts():
    def build():
        myelin.utils.set_random_seed(0)
        a, b = layers.Input(shape=(3,), name="a"), layers.Input(shape=(1,), name="b")
        out = layers.Dense(3, activation="softmax")(layers.Concatenate()([a, b]))
        m = myelin.Model([a, b], out)
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return m

    ref = build()
    ref.fit({"a": X[:, :3], "b": X[:, 3:]}, Y, batch_size=BS, epochs=2, shuffle=False, verbose=0)
    m = build()
    gen = (({"b": x[:, 3:], "a": x[:, :3]}, y) for _ in range(2) for x, y in _batches())
    m.fit(gen, steps_per_epoch=7, epochs=2, verbose=0)
    assert _same_weights(ref, m)


def test_a_batch_that_changes_width_or_dtype_names_the_batch_and_both_shapes():
    def widths():
        yield X[:16], Y[:16]
        yield X[16:32], Y[16:32]
        yield np.zeros((16, 5), np.float32), Y[:16]

    with pytest.raises(ValueError, match=r"generator batch 2: x has shape \(16, 5\).*had shape \(16, 4\)"):
        _model().fit(widths(), verbose=0)

    class Dtypes(Batches):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return (x.astype(np.float64) if i == 3 else x), y

    with pytest.raises(ValueError, match=r"Dtypes batch 3: x has shape \(16, 4\) and dtype float64.*dtype float32"):
        _model().fit(Dtypes(workers=2), shuffle=False, verbose=0)


def test_bad_batches_and_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="must not be given"):
        _model().fit(_batches(), Y, verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        _model().fit(Batches(), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        _model().fit(Batches(), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="no targets"):
        _model().fit((x for x, _ in _batches()), verbose=0)
    with pytest.raises(ValueError, match="yielded no batch"):
        _model().fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch=9, but Batches has only 7"):
        _model().fit(Batches(), steps_per_epoch=9, verbose=0)
    with pytest.raises(ValueError, match="generator batch 1: x contains NaN"):
        _model().fit(iter([(X[:4], Y[:4]), (np.full((4, 4), np.nan, np.float32), Y[:4])]), verbose=0)


def test_an_endless_generator_without_steps_per_epoch_is_an_error_not_a_hang():
    def endless():
        while True:
            yield X[:16], Y[:16]

    with pytest.raises(ValueError, match="give steps_per_epoch"):
        _model().fit(endless(), epochs=2, verbose=0)
    import itertools

    for it in (itertools.cycle(_batches()), itertools.repeat((X[:16], Y[:16]))):  # endless even for one epoch
        with pytest.raises(ValueError, match=r"endless iterator \((cycle|repeat)\): give steps_per_epoch"):
            _model().fit(it, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="endless iterator"):
        _model().evaluate(itertools.repeat((X[:16], Y[:16])), verbose=0)

    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, i):
            return X[:16], Y[:16]

    with pytest.raises(ValueError, match=r"endless.*steps_per_epoch"):
        _model().fit(Endless(), verbose=0)
    h = _model().fit(Endless(workers=2), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    h = _model().fit(endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2


def test_a_generator_that_runs_out_stops_training_with_a_warning():
    with pytest.warns(UserWarning, match="ran out of data after 7 of the 10 batches"):
        h = _model().fit(_batches(), steps_per_epoch=10, epochs=3, verbose=0)
    assert len(h.history["loss"]) == 1


def _boom(i):
    raise KeyError(f"no batch {i} here")


class Failing(Batches):
    def __getitem__(self, i):
        if i == 2:
            _boom(i)
        return super().__getitem__(i)


@pytest.mark.parametrize("workers,processes", [(0, False), (2, False), (2, True)])
def test_an_exception_in_a_worker_reaches_the_caller_with_its_traceback(workers, processes):
    with pytest.raises(KeyError, match="no batch 2 here") as info:
        _model().fit(Failing(workers=workers, use_multiprocessing=processes), shuffle=False, verbose=0)
    text = "".join(traceback.format_exception(info.value))
    assert "_boom" in text and "__getitem__" in text  # the worker's own frames
    if processes:
        assert "_boom" in str(info.value.__cause__)  # a process's traceback, as concurrent.futures gives it


@pytest.mark.parametrize("processes", [False, True])
def test_ctrl_c_during_fit_with_workers_leaves_no_process_or_thread(processes):
    script = textwrap.dedent(
        f"""
        import multiprocessing, os, signal, threading, time
        import numpy as np, myelin
        from myelin import layers, callbacks
        class Slow(myelin.utils.PyDataset):
            def __len__(self):
                return 50
            def __getitem__(self, i):
                time.sleep(0.01)
                return np.ones((8, 4), np.float32), np.zeros(8)
        class CtrlC(callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if batch == 3:
                    os.kill(os.getpid(), signal.SIGINT)
        m = myelin.Sequential([layers.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        ds = Slow(workers=3, use_multiprocessing={processes}, max_queue_size=6)
        try:
            m.fit(ds, epochs=5, verbose=0, callbacks=[CtrlC()])
            print("no interrupt")
        except KeyboardInterrupt as e:
            print("interrupted:", e)
        time.sleep(0.2)
        print("children", len(multiprocessing.active_children()), "threads", threading.active_count())
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "interrupted: training stopped by Ctrl-C after batch 4/50 of epoch 1/5" in out.stdout
    assert "children 0 threads 1" in out.stdout, out.stdout


def test_a_memory_map_larger_than_what_fit_may_hold_is_read_batch_by_batch(tmp_path):
    rows, width = 60_000, 784  # 188 MB of float32 on disk
    path = tmp_path / "x.dat"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, width))
    for s in range(0, rows, 10_000):
        mm[s : s + 10_000] = np.random.default_rng(s).random((10_000, width), dtype=np.float32)
    mm.flush()
    del mm
    size_mb = os.path.getsize(path) / 2**20
    script = textwrap.dedent(
        f"""
        import resource, numpy as np, myelin
        from myelin import layers
        x = np.memmap({str(path)!r}, dtype=np.float32, mode="r", shape=({rows}, {width}))
        y = (np.arange({rows}) % 10)
        dense = [layers.Dense(16, activation="relu"), layers.Dense(10, activation="softmax")]
        m = myelin.Sequential([layers.Input(shape=({width},)), *dense])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        m.predict(x[:256], verbose=0)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        h = m.fit(x, y, batch_size=512, epochs=1, validation_split=0.1, verbose=0)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("grew", after - before, "loss", h.history["loss"][0], "val", h.history["val_loss"][0])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    grew = float(out.stdout.split()[1])
    assert np.isfinite(float(out.stdout.split()[3]))
    assert grew < size_mb / 3, f"peak RSS grew by {grew:.0f} MB while fitting a {size_mb:.0f} MB memory map"


def test_a_memory_map_trains_as_the_same_array_in_memory(tmp_path):
    path = tmp_path / "x.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    mapped = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    ref = _model()
    ref.fit(X.astype(np.float64), Y, batch_size=BS, epochs=2, validation_split=0.2, verbose=0)
    m = _model()
    m.fit(mapped, Y, batch_size=BS, epochs=2, validation_split=0.2, verbose=0)
    assert _same_weights(ref, m)
    np.testing.assert_array_equal(m.predict(mapped, verbose=0), ref.predict(X, verbose=0))
    bad = np.memmap(tmp_path / "nan.dat", dtype=np.float32, mode="w+", shape=(10, 4))
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _model().fit(bad, Y[:10], verbose=0)


def test_pydataset_interface_as_keras_has_it():
    assert myelin.utils.Sequence is PyDataset
    ds = Batches(workers=4, use_multiprocessing=True, max_queue_size=3)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size, ds.num_batches) == (4, True, 3, 7)
    assert [len(x) for x, _ in ds] == [16] * 6 + [4]

    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, i):
            return X[:4], Y[:4]

    with pytest.warns(UserWarning, match="super"):
        assert NoSuper().workers == 1


def test_progress_bar_and_callbacks_with_a_generator_of_unknown_length(capsys):
    class Seen(myelin.callbacks.Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1

    seen = Seen()
    h = _model().fit(_batches(), verbose=1, callbacks=[seen])
    assert seen.batches == 7 and len(h.history["loss"]) == 1
    assert "7/7" in capsys.readouterr().out


def test_a_custom_train_step_reads_x_only_batches_from_a_generator():
    class Autoencoder(myelin.Sequential):
        def train_step(self, data):
            x = data
            with myelin.GradientTape() as tape:
                loss = self.compute_loss(x, x, self(x, training=True))
            self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
            self._loss_tracker.update_state(loss)
            return self.get_metrics_result()

    def build():
        myelin.utils.set_random_seed(0)
        m = Autoencoder([layers.Input(shape=(4,)), layers.Dense(4)])
        m.compile(optimizer="adam", loss="mse")
        return m

    ref = build()
    h_ref = ref.fit(X, batch_size=BS, epochs=3, shuffle=False, verbose=0)
    m = build()
    h = m.fit((x for _ in range(3) for x, _ in _batches()), steps_per_epoch=7, epochs=3, verbose=0)
    assert _same_weights(ref, m) and h.history == h_ref.history
    assert h.history["loss"][-1] < h.history["loss"][0]


def test_an_endless_pydataset_as_validation_data_needs_validation_steps():
    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, i):
            return X[:16], Y[:16]

    with pytest.raises(ValueError, match=r"endless PyDataset.*validation_steps"):
        _model().fit(Batches(), validation_data=Endless(), verbose=0)
    h = _model().fit(Batches(), validation_data=Endless(), validation_steps=2, epochs=2, verbose=0)
    assert len(h.history["val_loss"]) == 2


def test_the_thread_policy_counts_only_workers_that_run_beside_the_step():
    from myelin.trainers.threads import _data_workers

    assert _data_workers((Batches(),), {}) == 0  # workers=1: batches made in the loop, as Keras does
    assert _data_workers((), {"x": Batches(workers=3)}) == 3
    assert _data_workers((Batches(workers=1, use_multiprocessing=True),), {}) == 1
    assert _data_workers((X,), {}) == 0


def _prefetch_on(monkeypatch):
    from myelin.trainers import epoch_iterator

    monkeypatch.setattr(epoch_iterator, "PREFETCH_BYTES", 1)
    monkeypatch.setattr(myelin.backend, "native_threads", lambda: 2)
    return epoch_iterator


def test_shuffled_batches_gathered_ahead_are_the_same_batches(monkeypatch):
    x = np.arange(60, dtype=np.float32).reshape(30, 2)
    y = np.arange(30)
    from myelin.trainers import epoch_iterator

    plain = list(epoch_iterator._array_batches([x], [y], None, 4, None, True, np.random.default_rng(3)))
    threads = threading.active_count()
    ahead = list(_prefetch_on(monkeypatch)._array_batches([x], [y], None, 4, None, True, np.random.default_rng(3)))
    assert len(ahead) == len(plain) == 8
    for (xa, ya, _), (xb, yb, _) in zip(ahead, plain):
        np.testing.assert_array_equal(xa[0], xb[0])
        np.testing.assert_array_equal(ya[0], yb[0])
    assert threading.active_count() == threads  # the helper thread has ended


def test_batches_gathered_ahead_stop_early_and_raise_in_the_caller(monkeypatch):
    epoch_iterator = _prefetch_on(monkeypatch)
    x = np.zeros((30, 2), np.float32)
    threads = threading.active_count()
    batches = epoch_iterator._array_batches([x], [np.zeros(30)], None, 4, None, True, np.random.default_rng(0))
    next(batches)
    batches.close()  # (fit stops after a callback's stop_training): the helper thread ends
    assert threading.active_count() == threads

    class Broken(np.ndarray):
        def __getitem__(self, idx):
            raise MemoryError("no room for the batch")

    broken = np.zeros((30, 2), np.float32).view(Broken)
    with pytest.raises(MemoryError, match="no room"):
        list(epoch_iterator._array_batches([broken], [np.zeros(30)], None, 4, None, True, np.random.default_rng(0)))
    assert threading.active_count() == threads


def test_fit_with_batches_gathered_ahead_trains_bit_for_bit(monkeypatch):
    x = np.random.default_rng(1).standard_normal((200, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    def train():
        myelin.utils.set_random_seed(2)
        m = myelin.Sequential([myelin.layers.Input((8,)), myelin.layers.Dense(4, activation="relu"), myelin.layers.Dense(2)])
        m.compile("adam", myelin.losses.SparseCategoricalCrossentropy(from_logits=True))
        h = m.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return m.get_weights(), h.history

    plain = train()
    from myelin.trainers import epoch_iterator

    monkeypatch.setattr(epoch_iterator, "PREFETCH_BYTES", 1)
    monkeypatch.setattr(myelin.backend, "busy_cores", lambda: 0)  # a quiet machine, whatever this one is doing
    seen = []
    real = epoch_iterator._prefetched
    monkeypatch.setattr(epoch_iterator, "_prefetched", lambda *a: seen.append(1) or real(*a))
    ahead = train()
    if myelin.backend.cpu_count() >= 2 and myelin.backend.explicit_threads() is None:
        assert seen  # (inside fit the policy has two threads on two cores)
    assert plain[1] == ahead[1]
    for a, b in zip(plain[0], ahead[0]):
        np.testing.assert_array_equal(a, b)
