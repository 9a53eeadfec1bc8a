"""Data-parallel training on two MPI processes (``mpiexec -n 2`` on this machine) against one process.

Skipped where mpi4py or mpiexec is missing (``pip install 'myelin[mpi]'`` brings both).
Each test runs ``mpi_worker.py`` (one scenario) under mpiexec and, for a reference, alone.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
WORKER = Path(__file__).with_name("mpi_worker.py")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
if MPIEXEC is None:
    pytest.skip("no mpiexec (pip install 'myelin[mpi]' installs MPICH's)", allow_module_level=True)

# Two processes sum a batch's gradient in two halves instead of one pass: float64 rounding
# (~1e-16 per sum) grows through a few dozen steps of an adaptive optimizer to ~1e-14 at most.
RTOL, ATOL = 1e-12, 1e-13
TIMEOUT = 120


def _env() -> dict:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"  # two processes on two cores
    return env


def run(scenario: str, out: Path, arg: str = "", processes: int = 2) -> subprocess.CompletedProcess:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(WORKER), scenario, str(out), arg]
    if processes > 1:
        cmd = [MPIEXEC, "-n", str(processes)] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=_env(), cwd=out)


def results(out: Path, processes: int = 2) -> list[dict]:
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(processes)]


def ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]


def close_weights(a: list, b: list) -> None:
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(np.array(wa), np.array(wb), rtol=RTOL, atol=ATOL)


def test_two_processes_train_as_one_for_every_optimizer(tmp_path):
    ok(run("equal", tmp_path / "two"))
    ok(run("single", tmp_path / "one", processes=1))
    r0, r1 = results(tmp_path / "two")
    (one,) = results(tmp_path / "one", 1)
    assert (r0["size"], r1["size"], one["size"]) == (2, 2, 1)
    names = [k for k in one if k not in ("rank", "size")]
    assert len(names) == 8
    for name in names:
        assert r0[name]["weights"] == r1[name]["weights"], f"{name}: the processes' weights differ"
        close_weights(r0[name]["weights"], one[name]["weights"])
        assert r0[name]["history"] == r1[name]["history"]
        for key, values in one[name]["history"].items():  # metrics and losses reduced over processes
            np.testing.assert_allclose(r0[name]["history"][key], values, rtol=RTOL, err_msg=f"{name} {key}")
        for key, value in one[name]["evaluate"].items():
            np.testing.assert_allclose(r0[name]["evaluate"][key], value, rtol=RTOL, err_msg=f"{name} evaluate {key}")


def test_each_process_with_its_own_data_trains_as_one_process_on_the_union(tmp_path):
    ok(run("own_data", tmp_path / "two"))
    ok(run("single_own_data", tmp_path / "one", processes=1))
    r0, r1 = results(tmp_path / "two")
    (one,) = results(tmp_path / "one", 1)
    assert r0["adam"]["weights"] == r1["adam"]["weights"]
    close_weights(r0["adam"]["weights"], one["adam"]["weights"])
    np.testing.assert_allclose(r0["adam"]["history"]["loss"], one["adam"]["history"]["loss"], rtol=RTOL)


def test_only_process_0_writes_files_and_the_logs_are_the_reduced_ones(tmp_path):
    out = tmp_path / "files"
    ok(run("files", out))
    r0, r1 = results(out)
    assert r0["history"] == r1["history"]
    written = sorted(p.name for p in out.iterdir())
    assert written == ["ckpt-1.myelin", "ckpt-2.myelin", "final.myelin", "log.csv", "rank0.json", "rank1.json"]
    with open(out / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(row["loss"]) for row in rows] == r0["history"]["loss"]
    import myelin

    assert myelin.models.load_model(out / "final.myelin").count_params() == 6 * 16 + 16 + 16 * 3 + 3


def test_an_exception_in_one_process_stops_every_process(tmp_path):
    start = time.monotonic()
    proc = run("raise", tmp_path)
    assert proc.returncode != 0
    assert time.monotonic() - start < 60  # 50 epochs would take longer: the others were stopped
    assert "process 1 of 2 failed" in proc.stderr and "boom on process 1" in proc.stderr


@pytest.mark.parametrize(("what", "named"), [("batch_size", "'batch_size'"), ("data", "'data'"), ("model", "'weights'")])
def test_a_mismatch_between_processes_is_named_before_the_first_step(tmp_path, what, named):
    proc = run("mismatch", tmp_path, what)
    assert proc.returncode != 0
    assert f"the processes disagree on {named}" in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.count("the processes disagree") == 1  # every process raises it; process 0 tells it once


def test_a_killed_process_resumes_from_the_last_backup_exactly(tmp_path):
    ok(run("backup", tmp_path / "through"))
    killed = run("backup", tmp_path / "resumed", "kill")
    assert killed.returncode != 0
    assert (tmp_path / "resumed" / "backup" / "backup.myelin").exists()
    assert not (tmp_path / "resumed" / "rank0.json").exists()
    ok(run("backup", tmp_path / "resumed"))
    through, resumed = results(tmp_path / "through"), results(tmp_path / "resumed")
    assert resumed[0]["weights"] == through[0]["weights"] == resumed[1]["weights"]
    assert resumed[0]["history"] == through[0]["history"]
    assert not (tmp_path / "resumed" / "backup").exists()  # deleted when training completed


def test_one_collective_call_per_training_step(tmp_path):
    # every MPI call counted (a wrapper around the communicator): two fits that differ only in their steps
    ok(run("count", tmp_path))
    r0, r1 = results(tmp_path)
    for case in ("arrays", "pydataset", "generator", "verbose", "own arrays", "own pydataset", "own generator"):
        assert r0[case] == r1[case] == 1.0, f"{case}: {r0[case]} collective calls per step"
    # BatchNormalization(synchronized=True): its forward sums [sum x, count] and sum (x - mean)^2, its backward
    # [sum g, sum g xhat]: three more per step, and still one for the gradients, the loss and the count
    assert r0["syncbn"] == r0["own syncbn"] == 4.0
    assert set(r0["calls"]) == {"Allgather", "Allgatherv", "Bcast", "Allreduce"}


def _same_as_one_process(two: list[dict], one: dict, names) -> None:
    for name in names:
        r0, r1 = two
        assert r0[name]["weights"] == r1[name]["weights"], f"{name}: the processes' weights differ"
        close_weights(r0[name]["weights"], one[name]["weights"])
        assert r0[name]["history"] == r1[name]["history"]
        for key, values in one[name]["history"].items():
            np.testing.assert_allclose(r0[name]["history"][key], values, rtol=RTOL, err_msg=f"{name} {key}")
        for key, value in (one[name].get("evaluate") or {}).items():
            np.testing.assert_allclose(r0[name]["evaluate"][key], value, rtol=RTOL, err_msg=f"{name} evaluate {key}")


def test_a_pydataset_and_a_generator_are_sharded_by_batch_and_train_as_one_process(tmp_path):
    # process r reads batches r, r + 2, ...: a step's global batch is two of the dataset's batches; the last step
    # of the 9-batch PyDataset has one (process 1 idles); the reference trains on the pairs, joined, on one process
    ok(run("streams", tmp_path / "two"))
    ok(run("single_streams", tmp_path / "one", processes=1))
    two, (one,) = results(tmp_path / "two"), results(tmp_path / "one", 1)
    _same_as_one_process(two, one, ("pydataset", "generator", "endless", "ran_out"))
    assert len(one["pydataset"]["history"]["val_loss"]) == 3
    # the generator ran out at epoch 2's third step, on every process alike: 3 + 2 updates, and fit's warning
    assert two[0]["ran_out"]["iterations"] == two[1]["ran_out"]["iterations"] == one["ran_out"]["iterations"] == 5
    for res in (*two, one):
        assert any("ran out of data after 2 of the 3 batches" in w for w in res["ran_out"]["warnings"])
    # shuffled: each epoch, the two processes read disjoint halves of one permutation of the 9 batches
    r0, r1 = (r["shuffled"] for r in two)
    assert r0["weights"] == r1["weights"] and r0["history"] == r1["history"]
    assert (len(r0["read"]), len(r1["read"])) == (10, 8)  # 5 + 5 and 4 + 4 batches in 2 epochs
    for epoch in range(2):
        mine0, mine1 = r0["read"][epoch * 5 : epoch * 5 + 5], r1["read"][epoch * 4 : epoch * 4 + 4]
        assert sorted(mine0 + mine1) == list(range(9))
    assert r0["read"][:5] != [0, 2, 4, 6, 8] or r0["read"][5:] != [0, 2, 4, 6, 8]


def test_each_process_with_its_own_pydataset_or_generator_trains_as_one_process_on_the_union(tmp_path):
    ok(run("own_streams", tmp_path / "two"))
    ok(run("single_own_streams", tmp_path / "one", processes=1))
    two, (one,) = results(tmp_path / "two"), results(tmp_path / "one", 1)
    _same_as_one_process(two, one, ("pydataset", "endless"))


def test_a_generator_that_runs_out_on_one_process_stops_every_process_at_the_same_step(tmp_path):
    proc = run("ran_out", tmp_path)
    ok(proc)
    r0, r1 = results(tmp_path)
    # process 1 had 6 batches for 3 epochs of 4 steps: epoch 2 ends at its 3rd step (process 1 without data)
    assert r0["iterations"] == r1["iterations"] == 7
    assert r0["weights"] == r1["weights"] and r0["history"] == r1["history"]
    assert len(r0["history"]["loss"]) == 2
    assert any("the generator of 1 of the 2 processes ran out of data at batch 3" in w for w in r0["warnings"])
    assert any("ran out of data after 2 of the 4 batches" in w for w in r1["warnings"])


@pytest.mark.parametrize(
    ("what", "named"),
    [
        ("own_lengths", "the processes disagree on 'steps per epoch'"),
        ("data", "the processes disagree on 'x first batch'"),
        ("own_no_steps", "with a generator: give steps_per_epoch"),
        ("syncbn_empty_shard", "the last global batch of an epoch has 1 sample(s) for the 2 processes"),
    ],
)
def test_a_stream_or_sync_batchnorm_mismatch_is_named_before_the_first_step(tmp_path, what, named):
    proc = run("stream_mismatch", tmp_path, what)
    assert proc.returncode != 0
    assert named in proc.stderr, proc.stderr[-2000:]
    assert proc.stderr.count("ValueError: ") == 1  # every process raises it; process 0 tells it once


# Synchronized batch statistics divide by the global variance and Adam normalises near-zero gradient sums (beta's):
# the order of float64 additions (two halves vs one pass) shows up to ~3e-12 after 9 steps.
BN_RTOL, BN_ATOL = 1e-9, 1e-10


@pytest.mark.parametrize("masked", [False, True])
def test_synchronized_batchnorm_on_two_processes_equals_one_process_on_the_global_batch(tmp_path, masked):
    tail = ",masked" if masked else ""
    ok(run("syncbn", tmp_path / "sync", "sync" + tail))
    ok(run("syncbn", tmp_path / "local", "local" + tail))
    ok(run("single_syncbn", tmp_path / "one", "sync" + tail, processes=1))
    sync, local, (one,) = results(tmp_path / "sync"), results(tmp_path / "local"), results(tmp_path / "one", 1)
    assert sync[0]["weights"] == sync[1]["weights"] and sync[0]["moving"] == sync[1]["moving"]
    for a, b in zip(sync[0]["weights"] + sync[0]["moving"], one["weights"] + one["moving"]):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=BN_RTOL, atol=BN_ATOL)
    np.testing.assert_allclose(sync[0]["history"]["loss"], one["history"]["loss"], rtol=1e-12)
    # each process's own statistics (synchronized=False) give other moving statistics and weights
    assert np.abs(np.array(local[0]["moving"]) - np.array(one["moving"])).max() > 0.05
    assert max(np.abs(np.array(a) - np.array(b)).max() for a, b in zip(local[0]["weights"], one["weights"])) > 1e-3
    if not masked:  # the recorded step is replayed with its collectives (a mask makes the step not replayable)
        assert sync[0]["compile_status"].startswith("compiled"), sync[0]["compile_status"]


@pytest.mark.parametrize("masked", [False, True])
def test_synchronized_batchnorm_gradients_match_central_differences_of_the_global_loss(tmp_path, masked):
    # 5 rows on process 0 and 3 on process 1; the global loss is sum_r share_r * loss_r, each process's gradient is
    # weighted by its share as the gradient allreduce weights it; differences in float64 with h = 1e-6
    ok(run("bn_gradcheck", tmp_path, "masked" if masked else "plain"))
    for res in results(tmp_path):
        assert res["x_scale"] > 0.05
        assert res["x_error"] < 1e-8, res
        assert res["gamma_error"] < 1e-8, res
