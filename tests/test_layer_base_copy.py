"""copy.deepcopy of a layer keeps which of its weights are non-trainable."""

import copy

import numpy as np

from myelin import layers


def test_a_deep_copy_of_batchnorm_keeps_its_moving_statistics_non_trainable():
    bn = layers.BatchNormalization()
    bn(np.ones((4, 3), np.float32))
    twin = copy.deepcopy(bn)
    names = [w.name.split("/")[-1] for w in twin.trainable_weights]
    assert names == [w.name.split("/")[-1] for w in bn.trainable_weights] == ["gamma", "beta"]
    assert len(twin.non_trainable_weights) == 2
    assert all(t is not o for t, o in zip(twin.weights, bn.weights))
    twin.trainable = False
    twin.trainable = True  # unfreezing must not make the moving statistics trainable
    assert len(twin.trainable_weights) == 2
