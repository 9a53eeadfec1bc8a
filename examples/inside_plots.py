"""The figures of docs/explain.md: the penguin network explained, its training diagnostics, its lr test.

Needs the penguins and matplotlib (pip install ".[demo,plot]"). Run from a checkout:
python examples/inside_plots.py [folder]   (default: docs/images)
"""

import sys
from pathlib import Path

import myelin
import myelin.plot
from myelin.demo import FEATURES, SPECIES, build_model, load_penguins, split

folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
folder.mkdir(parents=True, exist_ok=True)
myelin.utils.set_random_seed(0)
x, y = load_penguins()
(x_train, y_train), (x_val, y_val), _ = split(x, y)

model = build_model()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
finder = myelin.tune.find_learning_rate(model, x_train, y_train, batch_size=16)
finder.plot(path=folder / "lr_finder.png", dpi=80)

model.optimizer.learning_rate = finder.suggestion
history = model.fit(x_train, y_train, epochs=60, batch_size=16, validation_data=(x_val, y_val), verbose=0, diagnostics=True)
myelin.plot.diagnostics(history, path=folder / "diagnostics.png", dpi=80)

names = [name.split(" (")[0] + (" / 10" if "/ 10" in name else " / 100" if "/ 100" in name else "") for name in FEATURES]
myelin.plot.explain(
    model, [37.3, 16.8, 19.2, 30.0], y=1, class_names=SPECIES, input_names=names, path=folder / "explain.png", dpi=80
)
files = [folder / f for f in ("lr_finder.png", "diagnostics.png", "explain.png")]
try:  # 256 colours are plenty for these figures and make the files a few times smaller
    from PIL import Image

    for f in files:
        Image.open(f).convert("RGB").quantize(colors=256).save(f, optimize=True)
except ImportError:
    pass
print("wrote", ", ".join(str(f) for f in files))
