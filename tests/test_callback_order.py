"""Every callback hook fires where Keras 3 fires it, with a dict of logs (tests/callback_order.py's program).

The golden sequence in tests/data/callback_order_golden.json is Keras 3's own (regenerate with
``KERAS_BACKEND=torch python -m tests.make_callback_golden`` where Keras is installed), so these
tests run without Keras.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import myelin
from tests import callback_order

GOLDEN = json.loads((Path(__file__).with_name("data") / "callback_order_golden.json").read_text())


def test_every_hook_in_keras_order_with_dict_logs():
    got = callback_order.run(myelin)
    assert got["every"] == GOLDEN["every"]
    fired = {e[0] for e in got["every"]}
    assert fired == set(callback_order.HOOKS) - {"on_batch_begin", "on_batch_end"}  # overridden train hooks replace them


def test_keras2_batch_names_are_the_train_hooks_defaults():
    assert callback_order.run(myelin)["legacy"] == GOLDEN["legacy"]


def test_steps_per_execution_calls_batch_hooks_once_per_round():
    # Keras 3 (JAX backend) with steps_per_execution=2: one begin and one end per two batches; the end's
    # index is the round's last as if it were full (3 in an epoch of 3 batches), as Keras's EpochIterator says
    got = callback_order.run(myelin, steps_per_execution=2)
    assert got["every"] == GOLDEN["every_spe2"]
    assert got["legacy"] == GOLDEN["legacy_spe2"]
    assert [e[1] for e in got["every"] if e[0] == "on_train_batch_end"] == [1, 3, 1, 3]


def test_steps_per_execution_trains_the_same_and_hands_each_round_its_outputs():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((20, 3)).astype("float32"), rng.standard_normal((20, 2)).astype("float32")

    def trained(spe):
        myelin.utils.set_random_seed(3)
        m = myelin.Sequential([myelin.Input(shape=(3,)), myelin.layers.Dense(2)])
        m.compile(optimizer="adam", loss="mse", steps_per_execution=spe)
        h = m.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        return m, h.history["loss"]

    (m1, l1), (m3, l3) = trained(1), trained(3)
    np.testing.assert_array_equal(m1.get_weights()[0], m3.get_weights()[0])
    assert l1 == l3
    seen = []
    cb = myelin.callbacks.LambdaCallback(on_predict_batch_end=lambda b, logs: seen.append((b, logs["outputs"].shape)))
    m3.predict(x, batch_size=4, callbacks=[cb], verbose=0)
    assert seen == [(2, (12, 2)), (5, (8, 2))]  # 20 samples in 5 batches: rounds of 3 and 2
    assert m3.get_compile_config()["steps_per_execution"] == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_steps_per_execution_must_be_a_positive_integer(bad):
    m = myelin.Sequential([myelin.Input(shape=(3,)), myelin.layers.Dense(1)])
    with pytest.raises((TypeError, ValueError), match="steps_per_execution"):
        m.compile(optimizer="sgd", loss="mse", steps_per_execution=bad)


def test_auto_scale_loss_must_be_a_bool():
    m = myelin.Sequential([myelin.Input(shape=(3,)), myelin.layers.Dense(1)])
    with pytest.raises(TypeError, match="auto_scale_loss"):
        m.compile(optimizer="sgd", loss="mse", auto_scale_loss="yes")


def test_progress_line_counts_real_batches_with_steps_per_execution(capsys):
    m = myelin.Sequential([myelin.Input(shape=(3,)), myelin.layers.Dense(1)])
    m.compile(optimizer="sgd", loss="mse", steps_per_execution=2)
    m.fit(np.zeros((10, 3)), np.zeros(10), batch_size=4, epochs=1, verbose=2)
    out = capsys.readouterr().out
    assert " 3/3 " in out and "4/3" not in out
