"""Regenerate tests/data/callback_order_golden.json from Keras 3 (run where Keras 3 is installed).

Usage, from the repository root::

    KERAS_BACKEND=torch python -m tests.make_callback_golden   # "every", "legacy"
    KERAS_BACKEND=jax python -m tests.make_callback_golden     # also "every_spe2", "legacy_spe2"

It runs ``tests/callback_order.py``'s program on Keras 3 and stores the sequence of hooks each
recording callback saw (hook, index, type and keys of ``logs``), keeping what the file already
holds from the other backend. Keras's PyTorch backend refuses ``steps_per_execution > 1``, so
the ``steps_per_execution=2`` sequences come from its JAX backend (the trainer's loop and
``EpochIterator`` are shared by every backend; both give the same default sequence).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests import callback_order

PATH = Path(__file__).with_name("data") / "callback_order_golden.json"


def main() -> None:
    import keras  # only this script needs it (pytest imports the file for doctests)

    out = json.loads(PATH.read_text()) if PATH.exists() else {}
    out["keras_version"] = keras.__version__
    plain = callback_order.run(keras)
    if out.get("every") not in (None, plain["every"]) or out.get("legacy") not in (None, plain["legacy"]):
        raise SystemExit(f"backend {keras.backend.backend()} gives another default sequence than the file holds")
    out.update(plain)
    if keras.backend.backend() != "torch":
        spe2 = callback_order.run(keras, steps_per_execution=2)
        out["every_spe2"], out["legacy_spe2"] = spe2["every"], spe2["legacy"]
    PATH.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
