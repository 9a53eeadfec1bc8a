"""Issue 17, the rest of Keras's names: CTC, Circle, Muon, ScheduleFreeAdamW, MultiOptimizer, name_scope,
device, KerasTensor, get_source_inputs, keras.preprocessing and plot_model.

Numbers are checked against Keras 3 (torch backend) and PyTorch through the golden file
tests/data/apirest_golden.json (made by tests/make_apirest_golden.py), so the checks run
without either installed; the CTC gradient also by float64 finite differences.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import myelin
from myelin import Tensor, gradcheck, layers, losses, ops, optimizers, preprocessing, utils

GOLDEN = json.loads((pathlib.Path(__file__).parent / "data" / "apirest_golden.json").read_text())


# ---------------------------------------------------------------------------- CTC
CTC = GOLDEN["ctc"]
LOGITS = np.array(CTC["logits"], dtype=np.float32)


def test_ctc_loss_matches_keras():
    loss = ops.ctc_loss(CTC["target"], LOGITS, CTC["target_length"], CTC["output_length"])
    assert loss.shape == (4,)
    np.testing.assert_allclose(loss.data, CTC["keras_loss"], rtol=1e-5)
    assert ops.nn.ctc_loss is ops.ctc_loss


def test_ctc_loss_with_another_blank_matches_keras():
    target = np.where(np.array(CTC["target"]) == 4, 0, CTC["target"])
    loss = ops.ctc_loss(target, LOGITS, CTC["target_length"], CTC["output_length"], mask_index=4)
    np.testing.assert_allclose(loss.data, CTC["keras_loss_blank4"], rtol=1e-5)


def test_ctc_loss_gradient_matches_pytorch():
    x = Tensor(LOGITS.astype(np.float64), requires_grad=True)
    loss = ops.ctc_loss(CTC["target"], x, CTC["target_length"], CTC["output_length"])
    (loss * Tensor(np.array(CTC["weights"], dtype=np.float64))).sum().backward()
    np.testing.assert_allclose(x.grad, CTC["torch_grad"], rtol=1e-9, atol=1e-12)
    # steps beyond a sample's output length get no gradient
    assert np.all(x.grad[3, 3:] == 0) and np.any(x.grad[3, :3] != 0)


def test_ctc_loss_float64_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6, 4))
    target = np.array([[1, 1, 2], [3, 0, 0], [2, 3, 1]])
    fn = lambda t: (ops.ctc_loss(target, t, [3, 1, 2], [6, 4, 5]) * Tensor(np.array([0.7, -1.3, 2.0]))).sum()
    assert gradcheck(fn, [x], atol=1e-7, rtol=1e-6).passed


def test_ctc_loss_of_a_known_case_and_an_infeasible_target():
    # Two steps, uniform over {blank, a}: the paths for "a" are (a, a), (a, blank), (blank, a): 3/4.
    loss = ops.ctc_loss([[1]], np.zeros((1, 2, 2), np.float32), [1], [2])
    np.testing.assert_allclose(loss.data, [-np.log(0.75)], rtol=1e-6)
    # "a a" needs a blank between: three steps at least; two cannot produce it.
    x = Tensor(np.zeros((1, 2, 2)), requires_grad=True)
    infeasible = ops.ctc_loss([[1, 1]], x, [2], [2])
    assert np.isinf(infeasible.data[0])
    infeasible.sum().backward()
    assert np.all(x.grad == 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([[1]], np.zeros((1, 2)), [1], [2]), "output must be logits"),
        (([1], np.zeros((1, 2, 3)), [1], [2]), "target must have shape"),
        (([[1]], np.zeros((1, 2, 3)), [1], [3]), "output_length must lie in"),
        (([[1]], np.zeros((1, 2, 3)), [2], [2]), "target_length must lie in"),
        (([[5]], np.zeros((1, 2, 3)), [1], [2]), "labels outside"),
    ],
)
def test_ctc_loss_refuses_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        ops.ctc_loss(*args)


def test_ctc_loss_refuses_a_blank_outside_the_classes():
    with pytest.raises(ValueError, match="mask_index"):
        ops.ctc_loss([[1]], np.zeros((1, 2, 3)), [1], [2], mask_index=3)


@pytest.mark.parametrize("case", sorted(CTC["decode"]))
def test_ctc_decode_matches_keras(case):
    expected = CTC["decode"][case]
    paths, scores = ops.ctc_decode(LOGITS, CTC["output_length"], **expected["kwargs"])
    assert paths.data.dtype == np.int32
    assert paths.data.tolist() == expected["paths"]
    np.testing.assert_allclose(scores.data, expected["scores"], rtol=1e-5)


def test_ctc_decode_beam_scores_are_sequence_probabilities():
    # Two steps, p(blank) = 0.6: "" has 0.36, "a" has 0.4 * 0.4 + 2 * 0.4 * 0.6 = 0.64.
    x = np.log(np.array([[[0.6, 0.4], [0.6, 0.4]]], dtype=np.float32))
    paths, scores = ops.ctc_decode(x, [2], strategy="beam_search", top_paths=2)
    assert paths.data[:, 0].tolist() == [[1, -1], [-1, -1]]
    np.testing.assert_allclose(np.exp(scores.data), [[0.64, 0.36]], rtol=1e-6)
    # Only two sequences are possible: a third is -1 with score -inf.
    paths, scores = ops.ctc_decode(x, [2], strategy="beam_search", top_paths=3, beam_width=3)
    assert paths.data[2, 0].tolist() == [-1, -1] and scores.data[0, 2] == -np.inf


def test_ctc_decode_refuses_bad_arguments():
    with pytest.raises(ValueError, match="strategy"):
        ops.ctc_decode(LOGITS, CTC["output_length"], strategy="prefix")
    with pytest.raises(ValueError, match="top_paths"):
        ops.ctc_decode(LOGITS, CTC["output_length"], strategy="beam_search", beam_width=2, top_paths=3)
    with pytest.raises(ValueError, match="sequence_lengths"):
        ops.ctc_decode(LOGITS, [9, 1, 1, 1])


def test_ctc_losses_match_keras():
    target = CTC["target"]
    assert losses.CTC()(target, LOGITS).item() == pytest.approx(CTC["CTC_default"], rel=1e-5)
    assert losses.CTC(reduction="sum")(target, LOGITS).item() == pytest.approx(CTC["CTC_sum"], rel=1e-5)
    np.testing.assert_allclose(losses.ctc(target, LOGITS).data, CTC["ctc_fn"], rtol=1e-5)
    assert isinstance(losses.get("CTC"), losses.CTC)
    assert losses.CTC(name="c").get_config() == {"name": "c", "reduction": "sum_over_batch_size"}
    with pytest.raises(ValueError, match="y_true must be integer labels"):
        losses.ctc([1, 2], LOGITS)


def test_ctc_loss_trains_a_model():
    # Each sample shows its two labels as one-hot steps (label, label, blank, label, label, blank) plus noise:
    # a Dense layer per step learns to read them, and the greedy decoding gives back the targets.
    rng = np.random.default_rng(0)
    y = rng.integers(1, 4, size=(32, 2))
    y[:, 1] = np.where(y[:, 1] == y[:, 0], y[:, 0] % 3 + 1, y[:, 1])
    steps = np.stack([y[:, 0], y[:, 0], np.zeros(32, int), y[:, 1], y[:, 1], np.zeros(32, int)], axis=1)
    x = (np.eye(4)[steps] + 0.1 * rng.standard_normal((32, 6, 4))).astype(np.float32)
    model = myelin.Sequential([myelin.Input(shape=(6, 4)), layers.Dense(4)])
    model.compile(optimizer=optimizers.Adam(0.1), loss=losses.CTC())
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    paths, _ = ops.ctc_decode(model.predict(x, verbose=0), [6] * 32)
    assert paths.data[0, :, :2].tolist() == y.tolist()
    assert np.all(paths.data[0, :, 2:] == -1)


# ---------------------------------------------------------------------------- Circle
CIRCLE = GOLDEN["circle"]
LABELS = np.array(CIRCLE["labels"])
EMB = np.array(CIRCLE["embeddings"], dtype=np.float32)


def test_circle_function_matches_keras():
    np.testing.assert_allclose(losses.circle(LABELS, EMB).data, CIRCLE["fn_default"], rtol=2e-5, atol=1e-5)
    ref = losses.circle(
        LABELS,
        EMB,
        ref_labels=CIRCLE["ref_labels"],
        ref_embeddings=np.array(CIRCLE["ref_embeddings"], dtype=np.float32),
        gamma=10,
        margin=0.25,
    )
    np.testing.assert_allclose(ref.data, CIRCLE["fn_ref"], rtol=2e-5, atol=1e-5)
    keep = losses.circle(LABELS, EMB, remove_diagonal=False, gamma=5)
    np.testing.assert_allclose(keep.data, CIRCLE["fn_keep_diagonal"], rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CIRCLE["classes"]))
def test_circle_class_matches_keras_with_its_mask(case):
    expected = CIRCLE["classes"][case]
    loss = losses.Circle(**expected["kwargs"])
    np.testing.assert_allclose(loss(LABELS, EMB).data, expected["value"], rtol=2e-5, atol=1e-5)
    weighted = loss(LABELS, EMB, sample_weight=CIRCLE["sample_weight"])
    np.testing.assert_allclose(weighted.data, expected["weighted"], rtol=2e-5, atol=1e-5)


def test_circle_mean_leaves_out_samples_without_positives():
    values = losses.circle(LABELS, EMB, gamma=10.0).data
    assert values[5] == 0.0 and values[3] == 0.0  # labels 3 and 2 have no other sample
    mean = losses.Circle(gamma=10.0)(LABELS, EMB).item()
    assert mean == pytest.approx(values.sum() / 4, rel=1e-6)  # over the 4 unmasked samples, not 6


def test_circle_gradient_is_finite_and_checks_by_finite_differences():
    x = Tensor(EMB.astype(np.float64), requires_grad=True)
    losses.Circle(gamma=10.0)(LABELS, x).backward()
    assert np.all(np.isfinite(x.grad)) and np.any(x.grad != 0)
    fn = lambda t: losses.Circle(gamma=4.0, margin=0.3)(LABELS, t)
    assert gradcheck(fn, [EMB.astype(np.float64)], atol=1e-7, rtol=1e-5).passed


def test_circle_config_round_trip():
    loss = losses.Circle(gamma=12.0, margin=0.1, remove_diagonal=False, reduction="sum", name="c")
    config = loss.get_config()
    assert config == {"name": "c", "reduction": "sum", "gamma": 12.0, "margin": 0.1, "remove_diagonal": False}
    assert losses.Circle.from_config(config).get_config() == config
    assert losses.deserialize(losses.serialize(loss)).get_config() == config


# ---------------------------------------------------------------------------- optimizers
OPT = GOLDEN["optimizers"]


def _variables():
    return [Tensor(np.array(v, dtype=np.float32), requires_grad=True, name=k) for k, v in OPT["values"].items()]


@pytest.mark.parametrize("case", sorted(OPT["cases"]))
def test_new_optimizers_match_keras(case):
    expected = OPT["cases"][case]
    variables = _variables()
    opt = getattr(optimizers, expected["class_name"])(**expected["kwargs"])
    for step in OPT["grads"]:
        opt.apply([np.array(step[v.name], dtype=np.float32) for v in variables], variables)
    for v in variables:
        np.testing.assert_allclose(v.data, expected["final"][v.name], rtol=1e-5, atol=1e-6, err_msg=v.name)
    config = opt.get_config()
    for key, value in expected["config"].items():
        if key in ("name", "learning_rate"):
            continue
        assert config[key] == (pytest.approx(value) if isinstance(value, float) else value), key
    rebuilt = type(opt).from_config(config)
    assert rebuilt.get_config() == config


def test_muon_uses_adam_for_vectors_embeddings_and_excluded_layers():
    opt = optimizers.Muon(exclude_layers=["head"])
    named = {v.name: v for v in _variables()}
    assert [opt._uses_adam(named[k]) for k in ("dense/kernel", "dense/bias", "embedding/embeddings", "head/kernel")] == [
        False,
        True,
        True,
        True,
    ]


def test_muon_step_is_nearly_orthogonal():
    w = Tensor(np.zeros((6, 4), np.float32), requires_grad=True, name="dense/kernel")
    opt = optimizers.Muon(learning_rate=1.0, rms_rate=None, weight_decay=None, nesterov=False, momentum=0.0)
    g = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    opt.apply([g], [w])
    singular = np.linalg.svd(-w.data, compute_uv=False)
    assert np.all((singular > 0.6) & (singular < 1.25))  # the quintic iteration's band around 1


def test_schedule_free_first_step_and_warmup():
    w = Tensor([1.0, -2.0], requires_grad=True)
    opt = optimizers.ScheduleFreeAdamW(learning_rate=0.1, warmup_steps=4)
    opt.apply_gradients([([0.5, -0.5], w)])
    # t = 1: y becomes z = y - lr/4 * g / (|g| + eps) (bias-corrected v = g^2)
    np.testing.assert_allclose(w.data, [0.975, -1.975], rtol=1e-6)
    assert set(opt.get_variable_state(w)) == {"z", "v"}


def test_multi_optimizer_equals_its_optimizers_apart():
    grads = OPT["grads"]
    together = _variables()
    multi = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(optimizers.SGD(0.1, momentum=0.9), {"dense/.*": optimizers.Adam(0.01)}), name="multi"
    )
    for step in grads:
        multi.apply([np.array(step[v.name], np.float32) for v in together], together)
    apart = _variables()
    adam, sgd = optimizers.Adam(0.01), optimizers.SGD(0.1, momentum=0.9)
    dense = [v for v in apart if v.name.startswith("dense/")]
    other = [v for v in apart if not v.name.startswith("dense/")]
    for step in grads:
        adam.apply([np.array(step[v.name], np.float32) for v in dense], dense)
        sgd.apply([np.array(step[v.name], np.float32) for v in other], other)
    for a, b in zip(together, apart):
        np.testing.assert_array_equal(a.data, b.data)
    assert multi.iterations == 4 and [type(o).__name__ for o in multi.optimizers] == ["Adam", "SGD"]
    with pytest.raises(AttributeError, match="no learning rate"):
        _ = multi.learning_rate


def test_optimizer_map_lookup_rules():
    m = optimizers.OptimizerMap(optimizers.RMSprop())
    m["encoder/.*"] = optimizers.SGD()
    m["encoder/dense/kernel"] = optimizers.Adam()
    m[".*/kernel"] = optimizers.Lion()
    assert type(m["encoder/dense/kernel"]).__name__ == "Adam"  # an exact key wins
    assert type(m["decoder/bias"]).__name__ == "RMSprop"
    with pytest.raises(ValueError, match="several keys"):
        _ = m["encoder/conv/kernel"]
    with pytest.raises(ValueError, match="already mapped"):
        m["encoder/.*"] = optimizers.SGD()
    with pytest.raises(TypeError, match="myelin Optimizer"):
        m["x"] = "adam"


def test_multi_optimizer_in_fit_and_saving(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((32, 3)).astype(np.float32), rng.standard_normal((32, 1)).astype(np.float32)

    def build():
        model = myelin.Sequential([myelin.Input(shape=(3,)), layers.Dense(4, name="body"), layers.Dense(1, name="head")])
        opt = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD(0.05), {"head/.*": optimizers.Adam(0.01)}))
        model.compile(optimizer=opt, loss="mse")
        return model

    model = build()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    head = model.layers[-1].kernel
    assert model.optimizer.optimizers[0].get_variable_state(head)  # Adam's m and v for the head
    path = tmp_path / "multi.myelin"
    model.save(path)
    loaded = myelin.saving.load_model(path)
    assert type(loaded.optimizer).__name__ == "MultiOptimizer"
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    np.testing.assert_array_equal(
        loaded.optimizer.get_variable_state(loaded.layers[-1].kernel)["m"], model.optimizer.get_variable_state(head)["m"]
    )
    assert loaded.optimizer.optimizers[0].iterations == 12


def test_multi_optimizer_with_a_selector_function():
    w = Tensor([1.0], requires_grad=True, name="a/w")
    opt = optimizers.MultiOptimizer(lambda v: optimizers.SGD(0.5))
    opt.apply([[1.0]], [w])
    assert w.data.tolist() == [0.5]
    with pytest.raises(ValueError, match="selector function cannot be written"):
        opt.get_config()


# ---------------------------------------------------------------------------- name_scope, device
def test_name_scope_prefixes_weight_names_as_keras_paths():
    with myelin.name_scope("outer"):
        d = layers.Dense(2, name="d")
        d.build((None, 3))
        with myelin.name_scope("inner"):
            e = layers.Dense(2, name="e")
            e.build((None, 3))
    assert [w.name for w in d.weights] == GOLDEN["name_scope"]["outer_d"]
    assert [w.name for w in e.weights] == GOLDEN["name_scope"]["outer_inner_e"]
    f = layers.Dense(2, name="f")
    f.build((None, 3))
    assert [w.path for w in f.weights] == ["f/kernel", "f/bias"]


def test_name_scope_deduplicates_and_overrides():
    from myelin.scopes import current_path

    owner = object()
    with myelin.name_scope("a", caller=owner):
        with myelin.name_scope("a", caller=owner):
            assert current_path() == "a"
        with myelin.name_scope("b", override_parent="x/y"):
            assert current_path() == "x/y/b"
    assert current_path() == ""
    with pytest.raises(ValueError, match="without '/'"):
        myelin.name_scope("a/b")


def test_device_cpu_runs_as_before_and_gpu_needs_cupy():
    with myelin.device("cpu:0"):
        t = Tensor([1.0, 2.0])
    assert isinstance(t.data, np.ndarray)
    with pytest.raises(ValueError, match="device_name"):
        myelin.device("tpu")
    with pytest.raises(ValueError, match="one CPU device"), myelin.device("cpu:1"):
        pass
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(RuntimeError, match="needs CuPy"), myelin.device("gpu"):
            pass
        assert myelin.backend.placement() is None


def test_device_places_new_tensors_with_the_array_module_it_names(monkeypatch):
    """The placement path with a stand-in module: what device("gpu") sets up, minus a real GPU."""

    class Module:
        class cuda:
            class Device:
                def __init__(self, index):
                    self.id = index

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return None

        @staticmethod
        def asarray(data):
            return ("on-device", np.asarray(data))

    myelin.backend.set_placement((Module, 0))
    try:
        t = Tensor(np.ones(2, np.float32))
    finally:
        myelin.backend.set_placement(None)
    assert t.data[0] == "on-device"
    assert isinstance(Tensor(np.ones(2)).data, np.ndarray)


# ---------------------------------------------------------------------------- symbolic tensors, preprocessing
def test_keras_tensor_and_source_inputs():
    a, b = myelin.Input(shape=(2,), name="a"), myelin.Input(shape=(3,), name="b")
    merged = layers.Concatenate()([b, a])
    out = layers.Dense(1)(layers.Dense(4)(merged))
    assert isinstance(a, myelin.KerasTensor) and utils.is_keras_tensor(out)
    assert not utils.is_keras_tensor(Tensor([1.0])) and not utils.is_keras_tensor(np.ones(2))
    assert [t.name for t in utils.get_source_inputs(out)] == ["b", "a"]
    assert utils.get_source_inputs(a) == [a]
    with pytest.raises(TypeError, match="symbolic tensor"):
        utils.get_source_inputs(np.ones(2))


def test_preprocessing_names_are_myelins_utilities():
    from myelin import dataset_utils, image_utils

    assert preprocessing.image_dataset_from_directory is dataset_utils.image_dataset_from_directory
    assert preprocessing.text_dataset_from_directory is dataset_utils.text_dataset_from_directory
    assert preprocessing.timeseries_dataset_from_array is dataset_utils.timeseries_dataset_from_array
    assert preprocessing.image.load_img is image_utils.load_img
    assert preprocessing.image.array_to_img is image_utils.array_to_img
    assert preprocessing.sequence.pad_sequences is utils.pad_sequences
    assert myelin.preprocessing is preprocessing


@pytest.mark.parametrize("case", sorted(GOLDEN["smart_resize"]))
def test_smart_resize_matches_keras(case):
    expected = GOLDEN["smart_resize"][case]
    out = preprocessing.image.smart_resize(
        np.array(expected["image"], dtype=np.float32),
        tuple(expected["size"]),
        interpolation=expected["interpolation"],
        data_format=expected["data_format"],
    )
    np.testing.assert_allclose(out, expected["keras"], rtol=1e-5, atol=1e-6)


def test_smart_resize_refuses_bad_input():
    with pytest.raises(ValueError, match="size must be"):
        preprocessing.image.smart_resize(np.ones((4, 4, 1)), (0, 2))
    with pytest.raises(ValueError, match="expected an image"):
        preprocessing.image.smart_resize(np.ones((4, 4)), (2, 2))
    with pytest.raises(ValueError, match="interpolation"):
        preprocessing.image.smart_resize(np.ones((4, 4, 1)), (2, 2), interpolation="area")


# ---------------------------------------------------------------------------- plot_model
def test_plot_model_draws_to_the_file(tmp_path):
    pytest.importorskip("matplotlib")
    model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(3, activation="relu", name="hidden")])
    path = tmp_path / "model.svg"
    fig = utils.plot_model(model, to_file=path, show_shapes=True, show_layer_names=True, show_layer_activations=True)
    assert path.stat().st_size > 1000
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "hidden (Dense)" in texts and "activation: relu" in texts and "out (None, 3) · 15 params" in texts
    plain = utils.plot_model(model, to_file=tmp_path / "plain.png", show_trainable=True, show_dtype=True)
    texts = [t.get_text() for t in plain.axes[0].texts]
    assert "Dense" in texts and "trainable: True" in texts and "dtype: float32" in texts
    assert "hidden (Dense)" not in texts


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rankdir": "LR"}, "rankdir"),
        ({"expand_nested": True}, "expand_nested"),
        ({"splines": "curved"}, "splines"),
        ({"layer_range": ["a", "b"]}, "layer_range"),
        ({"to_file": "model.dot"}, r"\.png, \.svg or \.pdf"),
    ],
)
def test_plot_model_refuses_graphviz_options(tmp_path, kwargs, message):
    pytest.importorskip("matplotlib")
    model = myelin.Sequential([myelin.Input(shape=(4,)), layers.Dense(3)])
    kwargs = {"to_file": tmp_path / "m.png", **kwargs}
    with pytest.raises(ValueError, match=message):
        utils.plot_model(model, **kwargs)


# ---------------------------------------------------------------------------- remat, RematScope
def _block(w1, w2):
    return lambda t: ops.tanh(t @ w1) @ w2 * ops.sigmoid(t @ w1)


def test_remat_gives_the_plain_gradients():
    rng = np.random.default_rng(4)
    w1_data, w2_data = rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    grads = []
    for wrap in (lambda f: f, myelin.remat):
        w1, w2 = Tensor(w1_data, requires_grad=True), Tensor(w2_data, requires_grad=True)
        x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        out = wrap(_block(w1, w2))(x)
        ops.sum(out * out).backward()
        grads.append((out.data, x.grad, w1.grad, w2.grad))
    for plain, recomputed in zip(*grads):
        np.testing.assert_array_equal(plain, recomputed)


def test_remat_float64_finite_differences_through_weights_and_inputs():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((3, 3))
    x = rng.standard_normal((2, 3))
    fn = lambda t, v: ops.sum(myelin.remat(lambda a: ops.tanh(a @ v) * a)(t) ** 2)
    assert gradcheck(fn, [x, w], atol=1e-8, rtol=1e-6).passed


def test_remat_keeps_only_the_inputs_until_backward():
    import gc
    import weakref

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    seen = []

    def f(t):
        hidden = ops.exp(t)
        seen.append(weakref.ref(hidden))
        return ops.sum(hidden * 2.0)

    out = myelin.remat(f)(x)
    gc.collect()
    assert seen[0]() is None  # the intermediate is gone after the forward
    out.backward()
    np.testing.assert_allclose(x.grad, 2 * np.e * np.ones((2, 3)), rtol=1e-12)
    assert len(seen) == 2  # recomputed once, in backward


def test_remat_gradient_tape_and_errors():
    w = Tensor([2.0], requires_grad=True)
    with myelin.GradientTape() as tape:
        y = myelin.remat(lambda t: t * t * w)(Tensor([3.0]))
    (g,) = tape.gradient(y, [w])
    assert g.tolist() == [9.0] and w.grad is None
    with pytest.raises(TypeError, match="one tensor"):
        myelin.remat(lambda t: (t, t))(Tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="a function or a layer"):
        myelin.remat(3)


def _scoped_model(scope):
    myelin.utils.set_random_seed(0)
    with scope:
        model = myelin.Sequential(
            [
                myelin.Input(shape=(3,)),
                layers.Dense(8, activation="relu", name="big"),
                layers.Dropout(0.3),
                layers.Dense(1, name="out"),
            ]
        )
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize(
    "scope",
    [
        {"mode": "full"},
        {"mode": "activations"},
        {"mode": "list_of_layers", "layer_names": ["big"]},
        {"mode": "larger_than", "output_size_threshold": 100},
    ],
    ids=["full", "activations", "list_of_layers", "larger_than"],
)
def test_remat_scope_trains_exactly_as_without(scope):
    import contextlib

    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    scoped, plain = _scoped_model(myelin.RematScope(**scope)), _scoped_model(contextlib.nullcontext())
    assert scoped.layers[0]._remat_mode.mode == scope["mode"] and plain.layers[0]._remat_mode is None
    myelin.utils.set_random_seed(7)  # the same dropout draws for both
    h1 = scoped.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    myelin.utils.set_random_seed(7)
    h2 = plain.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    assert h1.history["loss"] == h2.history["loss"]
    for a, b in zip(scoped.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_remat_scope_modes_pick_their_layers(monkeypatch):
    from myelin import rematerialization

    calls = []
    real = rematerialization._run
    monkeypatch.setattr(rematerialization, "_run", lambda f, a, k: calls.append(f) or real(f, a, k))
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    with myelin.RematScope(mode="larger_than", output_size_threshold=10):
        small, large = layers.Dense(2), layers.Dense(3)  # outputs of 8 and 12 values
    small(x), large(x)
    assert len(calls) == 1
    with myelin.RematScope(mode=None):
        assert layers.Dense(2)._remat_mode is None
    with pytest.raises(ValueError, match="mode must be one of"):
        myelin.RematScope(mode="some")


# ---------------------------------------------------------------------------- audio_dataset_from_directory
def _write_wav(path, samples, width=2, rate=8000):
    import wave

    samples = np.asarray(samples)
    if samples.ndim == 1:
        samples = samples[:, None]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 3:
            ints = samples.astype("<i4").reshape(-1)
            raw = np.stack([ints & 255, (ints >> 8) & 255, (ints >> 16) & 255], axis=1).astype(np.uint8).tobytes()
        else:
            raw = samples.astype({1: np.uint8, 2: "<i2", 4: "<i4"}[width]).tobytes()
        w.writeframes(raw)


def _audio_tree(root):
    for cls, clips in {"cat": [[1000, -1000, 2000], [500]], "dog": [[-16384] * 5, [32767, 0]]}.items():
        (root / cls).mkdir()
        for k, clip in enumerate(clips):
            _write_wav(root / cls / f"{k}.wav", clip)
    (root / "dog" / "notes.txt").write_text("not audio")


def test_audio_dataset_reads_pads_and_labels(tmp_path):
    _audio_tree(tmp_path)
    ds = utils.audio_dataset_from_directory(tmp_path, shuffle=False, batch_size=4, verbose=False)
    assert ds.class_names == ["cat", "dog"] and len(ds) == 1
    x, y = ds[0]
    assert x.shape == (4, 5, 1) and x.dtype == np.float32 and y.tolist() == [0, 0, 1, 1]
    np.testing.assert_array_equal(x[0, :, 0], np.array([1000, -1000, 2000, 0, 0]) / 32768)
    np.testing.assert_array_equal(x[2, :, 0], np.full(5, -0.5))
    fixed = utils.audio_dataset_from_directory(
        tmp_path, shuffle=False, batch_size=None, output_sequence_length=2, label_mode="categorical", verbose=False
    )
    a, label = fixed[3]
    assert a.shape == (2, 1) and a[0, 0] == 32767 / 32768 and label.tolist() == [0.0, 1.0]
    train, val = utils.audio_dataset_from_directory(
        tmp_path, validation_split=0.25, subset="both", seed=3, batch_size=2, verbose=False
    )
    assert train.num_samples == 3 and val.num_samples == 1
    assert sorted(train.file_paths + val.file_paths) == sorted(str(p) for p in tmp_path.glob("*/*.wav"))


def test_audio_dataset_reads_every_pcm_width(tmp_path):
    from myelin.audio_dataset_utils import read_wav

    _write_wav(tmp_path / "u8.wav", [0, 128, 192], width=1)
    _write_wav(tmp_path / "i24.wav", [-(1 << 23), (1 << 22)], width=3)
    _write_wav(tmp_path / "i32.wav", np.array([[1 << 30, -(1 << 31)]]), width=4, rate=44100)
    assert read_wav(tmp_path / "u8.wav")[0][:, 0].tolist() == [-1.0, 0.0, 0.5]
    assert read_wav(tmp_path / "i24.wav")[0][:, 0].tolist() == [-1.0, 0.5]
    audio, rate = read_wav(tmp_path / "i32.wav")
    assert audio.tolist() == [[0.5, -1.0]] and rate == 44100


def test_audio_dataset_refuses_what_it_cannot_do(tmp_path):
    _audio_tree(tmp_path)
    with pytest.raises(ValueError, match="ragged=True"):
        utils.audio_dataset_from_directory(tmp_path, ragged=True)
    ds = utils.audio_dataset_from_directory(tmp_path, sampling_rate=16000, shuffle=False, verbose=False)
    with pytest.raises(ValueError, match="sampled at 8000 Hz, not sampling_rate=16000"):
        ds[0]
    assert utils.audio_dataset_from_directory(tmp_path, sampling_rate=8000, verbose=False, seed=1)[0][0].shape[0] == 4
    (tmp_path / "cat" / "bad.wav").write_bytes(b"RIFF0000")
    with pytest.raises(ValueError, match=r"not a PCM \.wav file"):
        utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False)[0]
    with pytest.raises(ValueError, match="label_mode"):
        utils.audio_dataset_from_directory(tmp_path, label_mode="sparse")


# ---------------------------------------------------------------------------- utils.bounding_boxes
BOXES = GOLDEN["bounding_boxes"]
XYXY = np.array(BOXES["xyxy"], dtype=np.float32)
bb = utils.bounding_boxes


@pytest.mark.parametrize("fmt", sorted(BOXES["formats"]))
def test_bounding_box_formats_match_keras_both_ways(fmt):
    out = bb.convert_format(XYXY, "xyxy", fmt, height=64, width=80)
    np.testing.assert_allclose(out, BOXES["formats"][fmt], rtol=1e-6)
    np.testing.assert_allclose(bb.convert_format(out, fmt, "xyxy", height=64, width=80), XYXY, rtol=1e-5, atol=1e-4)


def test_bounding_box_conversions_between_relative_formats_and_dicts():
    rel = np.array(BOXES["formats"]["rel_xywh"], dtype=np.float32)
    np.testing.assert_allclose(bb.convert_format(rel, "rel_xywh", "REL_center_xywh", 64, 80), BOXES["rel_to_rel"], rtol=1e-6)
    d = {"boxes": XYXY.copy(), "labels": np.zeros((2, 3))}
    assert bb.convert_format(d, "xyxy", "yxyx") is d and d["boxes"][0, 0, 0] == XYXY[0, 0, 1]
    with pytest.raises(ValueError, match="needs the image height and width"):
        bb.convert_format(XYXY, "xyxy", "rel_xyxy")
    with pytest.raises(ValueError, match="one of"):
        bb.convert_format(XYXY, "xyxy", "ltrb")
    with pytest.raises(ValueError, match="last axis of 4"):
        bb.convert_format(np.zeros((2, 3)), "xyxy", "xywh")


def test_bounding_box_clip_crop_pad_and_affine_match_keras():
    c = BOXES["clip"]
    out = bb.clip_to_image_size({"boxes": np.array(c["boxes_in"], np.float32), "labels": np.array(c["labels_in"])}, 50, 60)
    np.testing.assert_allclose(out["boxes"], c["boxes"], rtol=1e-6)
    assert out["labels"].tolist() == c["labels"]
    np.testing.assert_allclose(bb.crop(XYXY, top=5, left=10, height=30, width=35), BOXES["crop"], rtol=1e-6)
    np.testing.assert_allclose(bb.pad(XYXY, top=4, left=7), BOXES["pad"], rtol=1e-6)
    args = {k: np.array(v, np.float32) for k, v in BOXES["affine"]["args"].items()}
    np.testing.assert_allclose(bb.affine_transform(XYXY, height=64, width=80, **args), BOXES["affine"]["default"], rtol=1e-5)
    centered = bb.affine_transform(XYXY, height=64, width=80, center_x=0.25, center_y=0.75, **args)
    np.testing.assert_allclose(centered, BOXES["affine"]["centered"], rtol=1e-5)
    with pytest.raises(ValueError, match="bounding_box_format"):
        bb.crop(XYXY, 0, 0, 10, 10, bounding_box_format="xywh")


def test_bounding_box_deltas_and_iou_match_keras():
    anchors = np.array(BOXES["anchors"], np.float32)
    np.testing.assert_allclose(bb.encode_box_to_deltas(anchors, XYXY[0], "xyxy", "xyxy"), BOXES["deltas"], rtol=1e-5)
    var = [0.1, 0.1, 0.2, 0.2]
    deltas = bb.encode_box_to_deltas(anchors, XYXY[0], "xyxy", "xywh", encoding_format="center_xywh", variance=var)
    np.testing.assert_allclose(deltas, BOXES["deltas_var"], rtol=1e-5, atol=1e-6)
    decoded = bb.decode_deltas_to_boxes(anchors, deltas, "xyxy", "xyxy", encoded_format="center_xywh", variance=var)
    np.testing.assert_allclose(decoded, BOXES["decoded_var"], rtol=1e-5)
    levels = bb.decode_deltas_to_boxes(
        {"p3": anchors}, {"p3": deltas}, "xyxy", "xyxy", encoded_format="center_xywh", variance=var
    )
    np.testing.assert_array_equal(levels["p3"], decoded)
    np.testing.assert_allclose(bb.compute_iou(XYXY[0], XYXY[1], "xyxy"), BOXES["iou"], rtol=1e-6)
    np.testing.assert_allclose(bb.compute_iou(XYXY, XYXY[:, ::-1], "xyxy"), BOXES["iou_batched"], rtol=1e-6)
    padded = XYXY.copy()
    padded[1, 2] = -1.0
    masked = bb.compute_iou(padded, XYXY, "xyxy", use_masking=True, mask_val=-2)
    np.testing.assert_allclose(masked, BOXES["iou_masked"], rtol=1e-6)
    assert np.all(masked[1, 2] == -2)
    rel = np.array(BOXES["formats"]["rel_yxyx"], np.float32)
    np.testing.assert_allclose(
        bb.compute_iou(rel[0], rel[1], "rel_yxyx", image_shape=(64, 80, 3)), BOXES["iou_rel"], rtol=1e-5
    )
    np.testing.assert_allclose(bb.compute_ciou(XYXY[0], XYXY[1], "xyxy"), BOXES["ciou"], rtol=1e-5, atol=1e-6)
    yxyx = np.array(BOXES["formats"]["yxyx"], np.float32)
    np.testing.assert_allclose(bb.compute_ciou(yxyx, yxyx[:, ::-1], "yxyx"), BOXES["ciou_yxyx"], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="needs image_shape"):
        bb.compute_iou(rel[0], rel[1], "rel_yxyx")


# ---------------------------------------------------------------------------- initializers.STFT
WINDOWS = json.loads((pathlib.Path(__file__).parent / "data" / "scipy_windows_golden.json").read_text())


@pytest.mark.parametrize("case", sorted(GOLDEN["stft"]))
def test_stft_initializer_matches_keras(case):
    from myelin import initializers

    expected = GOLDEN["stft"][case]
    kernel = initializers.STFT(**expected["kwargs"])(tuple(expected["shape"]))
    assert kernel.dtype == np.float32
    np.testing.assert_allclose(kernel, expected["kernel"], rtol=1e-6, atol=1e-7)


def test_stft_windows_match_scipy():
    from myelin.initializers import _window

    for key, values in WINDOWS.items():
        name, length, periodic = key.split("/")
        np.testing.assert_allclose(_window(name, int(length), bool(int(periodic))), values, rtol=1e-12, atol=1e-15)


def test_stft_named_window_is_that_window_as_an_array_and_round_trips():
    from myelin import initializers

    hann = np.array(WINDOWS["hann/8/1"])
    named = initializers.STFT(window="hann", periodic=True, scaling="spectrum")((8, 1, 5))
    given = initializers.STFT(window=hann, scaling="spectrum")((8, 1, 5))
    np.testing.assert_allclose(named, given, rtol=1e-6)
    assert initializers.get("stft").__class__ is initializers.STFTInitializer is initializers.stft
    config = initializers.STFT(side="imag", window=[1.0, 0.5], scaling=None).get_config()
    assert config == {"side": "imag", "window": [1.0, 0.5], "periodic": False, "scaling": None}
    assert initializers.deserialize(initializers.serialize(initializers.STFT(**config))).get_config() == config
    with pytest.raises(ValueError, match="side"):
        initializers.STFT(side="both")
    with pytest.raises(ValueError, match="window must have shape"):
        initializers.STFT(window=[1.0, 2.0])((3, 1, 2))
