"""The distribution API in one process (no mpiexec): a world of one, and the arguments it refuses."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import distribution, layers


def test_a_plain_run_is_a_world_of_one_and_trains_as_without_distribution():
    assert (distribution.rank(), distribution.world_size(), distribution.list_devices()) == (0, 1, ["cpu:0"])
    x = np.random.default_rng(0).normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    results = []
    for dp in (None, distribution.DataParallel()):
        distribution.set_distribution(dp)
        try:
            myelin.utils.set_random_seed(3)
            m = myelin.Sequential([layers.Input(shape=(3,)), layers.Dense(2, activation="softmax")])
            m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            m.fit(x, y, batch_size=8, epochs=2, verbose=0)
            results.append([w.numpy() for w in m.weights])
        finally:
            distribution.set_distribution(None)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="job_addresses"):
        distribution.initialize(job_addresses="10.0.0.1:1234")
    with pytest.raises(ValueError, match="num_processes=4 but MPI started 1"):
        distribution.initialize(num_processes=4)
    with pytest.raises(ValueError, match=r"devices must be \['cpu:0'\]"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="1-D device mesh"):
        distribution.DataParallel(device_mesh=distribution.DeviceMesh((1, 1), ["batch", "model"], ["cpu:0"]))
    with pytest.raises(ValueError, match="holds 2 devices but 1"):
        distribution.DeviceMesh((2,), ["batch"], ["cpu:0"])
    with pytest.raises(TypeError, match="DataParallel or None"):
        distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="device_type"):
        distribution.list_devices("gpu")
