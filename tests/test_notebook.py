"""Notebook friendliness: HTML views of models and histories, and the progress bar in a Jupyter kernel."""

from __future__ import annotations

import sys
import types
import xml.etree.ElementTree as ET

import numpy as np

import myelin
from myelin import callbacks, layers


def parse(html_text: str):
    return ET.fromstring(html_text.replace("&quot;", '"'))  # the views are well-formed XHTML fragments


def test_model_html_is_the_summary_table():
    model = myelin.Sequential(
        [myelin.Input(shape=(4,)), layers.Dense(8, activation="relu", name="hidden"), layers.Dense(3, name="out")]
    )
    model.compile("adam", "mse")
    root = parse(model._repr_html_())
    assert root.find("b").text == "Model: sequential"
    headers = [th.text for th in root.iter("th")]
    assert headers == ["Layer (type)", "Output Shape", "Param #"]
    rows = [[td.text for td in tr.findall("td")] for tr in root.find("table").find("tbody")]
    assert rows == [["hidden (Dense)", "(None, 8)", "40"], ["out (Dense)", "(None, 3)", "27"]]
    totals = [li.text for li in root.iter("li")]
    assert totals[0] == "Total params: 67 (268.00 B)"
    assert totals[1].startswith("Trainable params: 67") and totals[2].startswith("Non-trainable params: 0")
    lines = []
    model.summary(print_fn=lines.append)
    assert " Total params: 67 (268.00 B)" in lines  # the same numbers as the text summary


def test_functional_html_has_connections_and_escapes_names():
    a, b = myelin.Input(shape=(2,), name="a<1>"), myelin.Input(shape=(3,), name="b")
    model = myelin.Model([a, b], layers.Dense(1, name="head")(layers.Concatenate(name="join")([a, b])))
    html_text = model._repr_html_()
    assert "a&lt;1&gt;" in html_text and "<1>" not in html_text
    root = parse(html_text)
    assert [th.text for th in root.iter("th")][-1] == "Connected to"
    rows = {tr.findall("td")[0].text: tr.findall("td")[3].text for tr in root.find("table").find("tbody")}
    assert rows["join (Concatenate)"] == "a<1>, b"
    assert rows["head (Dense)"] == "join"


def test_history_repr_and_html_show_last_and_best_values():
    history = callbacks.History()
    history.on_train_begin()
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.5, 0.9), (0.7, 0.8)]):
        history.on_epoch_end(epoch, {"loss": loss, "accuracy": acc, "val_loss": loss + 0.1})
    assert repr(history) == "<History epochs=3: loss=0.7, accuracy=0.8, val_loss=0.8>"
    root = parse(history._repr_html_())
    rows = {tr.findall("td")[0].text: [td.text for td in tr.findall("td")[1:]] for tr in root.iter("tr") if tr.findall("td")}
    assert rows["loss"] == ["0.7000", "0.5000 (epoch 2)"]
    assert rows["accuracy"] == ["0.8000", "0.9000 (epoch 2)"]
    assert rows["val_loss"] == ["0.8000", "0.6000 (epoch 2)"]
    assert "3 epochs" in "".join(root.itertext())


def test_fit_returns_a_history_with_an_html_view():
    model = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.zeros((4, 2)), np.zeros(4), epochs=2, verbose=0)
    assert "<td>loss</td>" in history._repr_html_()


def fake_kernel(monkeypatch):
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_progress_bar_is_live_in_a_jupyter_kernel(monkeypatch):
    logger = callbacks.ProgbarLogger()
    monkeypatch.setattr(sys, "stdout", types.SimpleNamespace(isatty=lambda: False, write=lambda s: None, flush=lambda: None))
    assert not logger.interactive  # not a terminal, no kernel: plain lines
    fake_kernel(monkeypatch)
    assert callbacks.in_notebook()
    assert logger.interactive  # a kernel: the live bar, which tqdm.auto draws as a widget when ipywidgets is there
    assert not callbacks.ProgbarLogger(stream=types.SimpleNamespace(isatty=lambda: False)).interactive


def test_the_bar_is_made_by_tqdm_auto(monkeypatch):
    import tqdm.auto

    made = []

    class Spy(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            made.append(kwargs)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", Spy)
    logger = callbacks.ProgbarLogger(stream=open("/dev/null", "w"))  # noqa: SIM115
    logger.set_params({"verbose": 1, "epochs": 1, "steps": 2})
    logger._open_bar()
    assert isinstance(logger._bar, Spy)
    assert made[0]["bar_format"] == "{n_fmt}/{total_fmt} {bar:20} {timing}{metrics}"  # the terminal's layout
    logger._bar.close()
    logger.stream.close()


def test_the_notebook_widget_gets_a_plain_bar_field(monkeypatch):
    import tqdm.auto

    made = []

    class Widget(tqdm.auto.tqdm):  # stands in for tqdm.notebook.tqdm, which needs ipywidgets
        def __init__(self, *args, **kwargs):
            made.append(kwargs)
            super().__init__(*args, **kwargs)

    Widget.__module__ = "tqdm.notebook"
    monkeypatch.setattr(tqdm.auto, "tqdm", Widget)
    with open("/dev/null", "w") as sink:
        logger = callbacks.ProgbarLogger(stream=sink)
        logger.set_params({"verbose": 1, "epochs": 1, "steps": 2})
        logger._open_bar()
        logger._bar.close()
    assert made[0]["bar_format"] == "{n_fmt}/{total_fmt} {bar} {timing}{metrics}"
