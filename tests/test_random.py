"""myelin.random: Keras's seeding rules (int seed: same values; SeedGenerator: advancing; None: myelin's generator)."""

import numpy as np
import pytest

from myelin import Tensor, ops, random
from myelin.backend import set_seed


@pytest.mark.parametrize(
    "draw",
    [
        lambda s: random.normal((50,), seed=s),
        lambda s: random.uniform((50,), -1.0, 2.0, seed=s),
        lambda s: random.randint((50,), 0, 10, seed=s),
        lambda s: random.truncated_normal((50,), seed=s),
        lambda s: random.shuffle(np.arange(50), seed=s),
        lambda s: random.dropout(np.ones(50, np.float32), 0.3, seed=s),
        lambda s: random.categorical(np.zeros((2, 5)), 10, seed=s),
        lambda s: random.gamma((50,), 2.0, seed=s),
        lambda s: random.binomial((50,), 10, 0.5, seed=s),
        lambda s: random.beta((50,), 2.0, 3.0, seed=s),
    ],
)
def test_seeding_semantics(draw):
    np.testing.assert_array_equal(draw(7).data, draw(7).data)
    assert not np.array_equal(draw(7).data, draw(8).data)
    gen = random.SeedGenerator(3)
    first, second = draw(gen).data, draw(gen).data
    assert not np.array_equal(first, second)
    again = random.SeedGenerator(3)
    np.testing.assert_array_equal(draw(again).data, first)
    np.testing.assert_array_equal(draw(again).data, second)
    set_seed(11)
    a = draw(None).data
    set_seed(11)
    np.testing.assert_array_equal(draw(None).data, a)


def test_seed_generator_state_and_config():
    gen = random.SeedGenerator(5)
    random.normal((2,), seed=gen)
    random.normal((2,), seed=gen)
    assert gen.state.data.tolist() == [5, 2]
    assert random.SeedGenerator.from_config(gen.get_config()).initial_seed == 5


def test_distributions_and_dtypes():
    x = random.normal((20000,), mean=1.0, stddev=2.0, seed=0)
    assert x.dtype == np.float32
    assert abs(float(x.data.mean()) - 1.0) < 0.05 and abs(float(x.data.std()) - 2.0) < 0.05
    u = random.uniform((1000,), 2.0, 3.0, dtype="float64", seed=0)
    assert u.dtype == np.float64 and u.data.min() >= 2.0 and u.data.max() < 3.0
    t = random.truncated_normal((5000,), mean=0.0, stddev=0.5, seed=0)
    assert np.abs(t.data).max() <= 1.0
    assert random.randint((10,), 0, 3, seed=0).dtype == np.int32
    with pytest.raises(ValueError, match="floating"):
        random.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="seed"):
        random.normal((2,), seed="x")


def test_dropout_and_shuffle_are_differentiable():
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    out = random.dropout(x, 0.5, seed=1)
    ops.sum(out).backward()
    np.testing.assert_array_equal(x.grad, out.data)  # gradient is the mask / (1 - rate)
    y = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    ops.sum(random.shuffle(y, seed=0) * np.array([1.0, 2.0])).backward()
    np.testing.assert_array_equal(y.grad, [[1.0, 2.0]] * 3)
    shared = random.dropout(np.ones((3, 4), np.float32), 0.5, noise_shape=(1, 4), seed=2).data
    assert (shared == shared[0]).all()
