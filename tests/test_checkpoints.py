"""ModelCheckpoint and BackupAndRestore: files per epoch or batch, best-only, and exact resumption."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import myelin
from myelin import Sequential, callbacks, layers, saving

from .saving_helpers import run_resumable

RNG = np.random.default_rng(3)
X = RNG.normal(size=(80, 4)).astype(np.float32)
Y = (X[:, 0] - X[:, 2] > 0).astype(np.int64) + (X[:, 1] > 0.5)


def model(seed: int = 0, lr: float = 0.01) -> Sequential:
    myelin.utils.set_random_seed(seed)
    m = Sequential(
        [
            layers.Input(shape=(4,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ]
    )
    m.compile(optimizer=myelin.optimizers.Adam(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


class Crash(callbacks.Callback):
    """Raise after ``at`` batches in all (a stand-in for a crash in the middle of an epoch)."""

    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise RuntimeError("simulated crash")


def test_model_checkpoint_every_epoch_with_fields_in_the_name(tmp_path):
    m = model()
    pattern = str(tmp_path / "ckpt" / "e{epoch:02d}-{val_loss:.3f}.myelin")
    h = m.fit(X, Y, epochs=3, validation_split=0.25, callbacks=[callbacks.ModelCheckpoint(pattern)], verbose=0)
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == [f"e{i + 1:02d}-{v:.3f}.myelin" for i, v in enumerate(h.history["val_loss"])]
    last = myelin.models.load_model(tmp_path / "ckpt" / names[-1])
    np.testing.assert_array_equal(last.predict(X, verbose=0), m.predict(X, verbose=0))


def test_model_checkpoint_best_only_weights_only_and_batches(tmp_path):
    m = model()
    values = iter([0.5, 0.7, 0.4, 0.6])

    class Score(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = next(values)

    saved = []  # after each epoch: whether the file holds this epoch's weights, by value (no file times)

    def spy(epoch, logs):
        on_disk = myelin.models.load_model(tmp_path / "best.myelin").get_weights()
        saved.append(all(np.array_equal(a, b) for a, b in zip(on_disk, m.get_weights())))

    best = callbacks.ModelCheckpoint(tmp_path / "best.myelin", monitor="score", mode="min", save_best_only=True)
    original = best.model  # None until fit
    m.fit(X, Y, epochs=4, callbacks=[Score(), best, callbacks.LambdaCallback(on_epoch_end=spy)], verbose=0)
    assert original is None and best.best == 0.4
    assert saved == [True, False, True, False]  # saved after epochs 1 and 3 only

    weights = callbacks.ModelCheckpoint(tmp_path / "w-{epoch}-{batch}.myelin", save_weights_only=True, save_freq=2)
    m.fit(X, Y, epochs=1, batch_size=16, callbacks=[weights], verbose=0)  # 5 batches: saves after 2 and 4
    assert sorted(p.name for p in tmp_path.glob("w-*")) == ["w-1-2.myelin", "w-1-4.myelin"]
    assert saving.read_file(tmp_path / "w-1-4.myelin")[0]["kind"] == "weights"

    with pytest.raises(
        ValueError, match=r"cannot fill in the filepath .*\{nope\}.*available at this save are accuracy, epoch, loss"
    ):
        m.fit(X, Y, epochs=1, callbacks=[callbacks.ModelCheckpoint(tmp_path / "{nope}.myelin")], verbose=0)
    with pytest.warns(RuntimeWarning, match="'val_loss' is not available"):
        m.fit(X, Y, epochs=1, callbacks=[callbacks.ModelCheckpoint(tmp_path / "x.myelin", save_best_only=True)], verbose=0)
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive number"):
        callbacks.ModelCheckpoint("x.myelin", save_freq=0)


def test_model_checkpoint_initial_value_threshold_must_be_beaten_before_the_first_save(tmp_path):
    values = iter([0.5, 0.7, 0.4, 0.6])

    class Score(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = next(values)

    path = tmp_path / "best.myelin"
    exists = []
    best = callbacks.ModelCheckpoint(path, monitor="score", mode="min", save_best_only=True, initial_value_threshold=0.45)
    spy = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: exists.append(path.exists()))
    model().fit(X, Y, epochs=4, callbacks=[Score(), best, spy], verbose=0)
    assert exists == [False, False, True, True] and best.best == 0.4


def test_backup_and_restore_keeps_the_backup_of_a_completed_run_when_asked(tmp_path):
    def run(epochs, delete_checkpoint, seed):
        m = model(seed=seed)
        backup = callbacks.BackupAndRestore(tmp_path / "bk", delete_checkpoint=delete_checkpoint)
        m.fit(X, Y, epochs=epochs, callbacks=[backup], verbose=0)
        return m.get_weights()

    straight = model()
    straight.fit(X, Y, epochs=3, verbose=0)
    run(2, delete_checkpoint=False, seed=0)
    assert (tmp_path / "bk" / "backup.myelin").is_file()  # kept after a completed run
    # a later run resumes from it: epoch 3 on top of the first run's two, whatever its own start
    for a, b in zip(run(3, delete_checkpoint=True, seed=5), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "bk").exists()  # deleted when that one completed
    restarted = run(3, delete_checkpoint=True, seed=5)  # nothing to resume: a fresh start
    assert not all(np.array_equal(a, b) for a, b in zip(restarted, straight.get_weights()))


def train(tmp_path, save_freq, crash_at=None, epochs=4):
    m = model()
    backup = callbacks.BackupAndRestore(tmp_path / "backup", save_freq=save_freq)
    extra = [Crash(crash_at)] if crash_at else []
    h = m.fit(X, Y, epochs=epochs, batch_size=16, validation_split=0.25, callbacks=[backup, *extra], verbose=0)
    return m, h


@pytest.mark.parametrize("save_freq", ["epoch", 3])
def test_backup_and_restore_resumes_exactly_where_an_interrupted_run_stopped(tmp_path, save_freq):
    reference, ref_history = train(tmp_path / "ref", save_freq)
    assert not (tmp_path / "ref" / "backup").exists()  # deleted once training completed

    with pytest.raises(RuntimeError, match="simulated crash"):
        train(tmp_path, save_freq, crash_at=10)  # 4 batches per epoch: crash in the third epoch
    assert (tmp_path / "backup" / "backup.myelin").exists()  # kept: the run did not complete
    state = saving.read_file(tmp_path / "backup" / "backup.myelin")[0]["state"]
    assert (state["epoch"], state["step"]) == ((2, 0) if save_freq == "epoch" else (2, 1))

    resumed, history = train(tmp_path, save_freq)
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 16
    assert history.epoch == [0, 1, 2, 3] and len(history.history["loss"]) == 4
    assert history.history == ref_history.history  # the mid-epoch resume's logged sums included
    assert not (tmp_path / "backup").exists()


def test_backup_restores_the_learning_rate_and_keeps_the_previous_backup(tmp_path):
    m = model()
    m.optimizer.learning_rate = 0.002  # as ReduceLROnPlateau would
    backup = callbacks.BackupAndRestore(tmp_path / "b", double_checkpoint=True)
    with pytest.raises(RuntimeError):
        m.fit(X, Y, epochs=5, batch_size=16, callbacks=[backup, Crash(17)], verbose=0)  # in the fourth epoch
    files = sorted(os.listdir(tmp_path / "b"))
    assert files == ["backup-previous.myelin", "backup.myelin"]
    (tmp_path / "b" / "backup.myelin").write_bytes(b"damaged")
    again = model()
    assert again.optimizer.learning_rate == 0.01
    with pytest.warns(UserWarning, match="the newest backup could not be read"):
        again.fit(
            X,
            Y,
            epochs=2,
            batch_size=16,
            callbacks=[callbacks.BackupAndRestore(tmp_path / "b", double_checkpoint=True)],
            verbose=0,
        )
    assert again.optimizer.learning_rate == pytest.approx(0.002)
    assert again.optimizer.iterations == 10  # resumed after epoch 2 of the previous backup: nothing left to run
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "backup.myelin").write_bytes(b"damaged")
    with pytest.raises(ValueError, match=r"cannot resume from .* Delete that folder"):
        model().fit(X, Y, epochs=1, callbacks=[callbacks.BackupAndRestore(tmp_path / "c")], verbose=0)


@pytest.mark.parametrize("save_freq", ["epoch", "3"])
def test_a_training_process_killed_mid_epoch_and_restarted_finishes_identically(tmp_path, save_freq):
    def run(out: str, backup: str, kill_at: int = 0) -> int:
        return run_resumable(tmp_path, backup, out, save_freq, samples=200, epochs=5, batch=20, kill_at=kill_at)

    assert run("reference.npz", "backup_ref") == 0
    assert run("resumed.npz", "backup", kill_at=19) == -signal.SIGKILL  # 8 batches per epoch: in the third
    assert not (tmp_path / "resumed.npz").exists() and (tmp_path / "backup").exists()
    assert run("resumed.npz", "backup") == 0  # the same command again
    with np.load(tmp_path / "reference.npz") as ref, np.load(tmp_path / "resumed.npz") as got:
        assert len(ref.files) == 4
        for key in ref.files:
            np.testing.assert_array_equal(got[key], ref[key])
    assert not (tmp_path / "backup").exists()


def test_a_mid_epoch_resume_logs_the_same_confusion_metrics_and_never_backs_up_after_an_epochs_last_batch(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")

    def run(folder, crash_at=None):
        myelin.utils.set_random_seed(1)
        m = Sequential([layers.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(1, activation="sigmoid")])
        m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", myelin.metrics.AUC(), "precision"])
        saved = []

        class Watch(callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if os.path.exists(folder / "backup.myelin"):
                    state = saving.read_file(folder / "backup.myelin")[0]["state"]
                    saved.append((state["epoch"], state["step"]))

        extra = [Crash(crash_at)] if crash_at else []
        backup = callbacks.BackupAndRestore(folder, save_freq=2)
        h = m.fit(x, y, epochs=3, batch_size=16, callbacks=[backup, Watch(), *extra], verbose=0)
        return h, saved

    reference, saved = run(tmp_path / "ref")
    assert all(step in (0, 2) for _, step in saved)  # 4 batches an epoch: a backup after the 2nd, none after the 4th
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(tmp_path / "b", crash_at=7)
    state = saving.read_file(tmp_path / "b" / "backup.myelin")[0]["state"]
    assert (state["epoch"], state["step"]) == (1, 2)
    assert [name for name, _ in state["trackers"]] == ["loss", "accuracy", "auc", "precision"]
    resumed, _ = run(tmp_path / "b")
    assert resumed.history == reference.history
