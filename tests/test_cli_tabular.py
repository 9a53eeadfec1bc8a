"""myelin train / evaluate / predict / summary on tables (myelin.tabular underneath)."""

from __future__ import annotations

import numpy as np
import pytest

from myelin import cli

pd = pytest.importorskip("pandas")


def penguins_path():
    from myelin.demo import penguins_csv

    try:
        return penguins_csv()
    except ModuleNotFoundError:
        pytest.skip("the palmerpenguins package is not installed")


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary"])
def test_each_command_has_complete_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    expected = {
        "train": [
            "data", "--target", "--layers", "--epochs", "--batch-size", "--validation-split", "--test-split",
            "--patience", "--learning-rate", "--dropout", "--categorical", "--ignore", "--task", "--seed",
            "--verbose", "--out", "softmax, sigmoid or linear head", "precision and recall", "MAE, RMSE and R²",
        ],
        "evaluate": ["model", "data", "precision and recall", "MAE, RMSE and R²"],
        "predict": ["model", "data", "-o CSV, --output CSV", "probability of every class"],
        "summary": ["model", "target, classes and input columns"],
    }[command]  # fmt: skip
    for text in expected:
        assert text in " ".join(out.split()), text
    parser = cli.build_parser()
    actions = [a for sub in parser._subparsers._group_actions for a in sub.choices[command]._actions]
    assert all(a.help for a in actions), "every option has a help text"


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("demo", "train", "evaluate", "predict", "summary"):
        assert command in out


def test_train_classifier_on_penguins_reports_held_out_metrics(capsys):
    assert (
        cli.main(["train", str(penguins_path()), "--target", "species", "--layers", "16", "--epochs", "40", "--verbose", "0"])
        == 0
    )
    out = capsys.readouterr().out
    assert "target 'species' (multiclass)" in out
    assert "numeric columns (5): bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, year" in out
    assert "categorical columns (2): island, sex" in out
    assert "Held-out test set (69 rows)" in out
    accuracy = float(out.split("accuracy")[-1].split()[0])
    assert accuracy >= 0.95
    for species in ("Adelie", "Chinstrap", "Gentoo"):
        assert species in out.split("precision  recall  support")[1]


def test_train_regressor_reports_mae_rmse_r2(capsys):
    args = ["train", str(penguins_path()), "--target", "body_mass_g", "--layers", "16", "--epochs", "60", "--verbose", "0"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "(regression)" in out and "left out 2 rows whose 'body_mass_g' is missing" in out
    r2 = float(out.split("R²")[1].split()[0])
    assert r2 > 0.7
    assert "MAE" in out and "RMSE" in out


def test_train_binary_target_gets_a_sigmoid_head(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    frame = pd.DataFrame({"x": x, "colour": rng.choice(["r", "g"], 200), "label": np.where(x > 0, "yes", "no")})
    frame.to_csv(tmp_path / "binary.csv", index=False)
    from myelin import tabular

    result = tabular.train(tmp_path / "binary.csv", "label", hidden=(8,), epochs=40, verbose=0, out=lambda s: None)
    assert result.plan.task == "binary" and result.model.classes == ["no", "yes"]
    assert result.model.layers[-1].activation.__name__ == "sigmoid"
    assert result.report["accuracy"] > 0.9


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_error_for_a_missing_target_column(tmp_path, capsys):
    path = write(tmp_path, "d.csv", "a,b\n1,2\n3,4\n")
    assert cli.main(["train", path, "--target", "species"]) == 1
    err = capsys.readouterr().err
    assert "d.csv has no column 'species' (given by --target); its columns are: a, b" in err


def test_error_for_an_empty_file_and_a_header_only_file(tmp_path, capsys):
    assert cli.main(["train", write(tmp_path, "empty.csv", ""), "--target", "y"]) == 1
    assert "empty.csv is empty" in capsys.readouterr().err
    assert cli.main(["train", write(tmp_path, "header.csv", "x,y\n"), "--target", "y"]) == 1
    assert "header.csv has a header (x, y) but no rows of data" in capsys.readouterr().err


def test_error_for_a_non_numeric_value_names_row_and_column(tmp_path, capsys):
    rows = "\n".join(f"{i},{i * 2},{'a' if i % 2 else 'b'}" for i in range(30))
    text = "x,mass,y\n" + rows.replace("17,34,", "17,heavy,") + "\n"
    assert cli.main(["train", write(tmp_path, "typo.csv", text), "--target", "y"]) == 1
    err = capsys.readouterr().err
    assert "typo.csv, line 19 (row 18), column 'mass': 'heavy' is not a number" in err


def test_a_text_column_is_categorical_and_can_be_forced(tmp_path):
    from myelin import tabular

    text = "code,size,y\n" + "\n".join(f"{c},{i},{i % 2}" for i, c in enumerate(["A1", "B2", "C3"] * 10)) + "\n"
    frame = tabular.read_table(write(tmp_path, "t.csv", text))
    plan = tabular.infer(frame, "y")
    assert plan.categorical == ["code"] and plan.numeric == ["size"] and plan.task == "binary"
    plan = tabular.infer(frame, "y", categorical=["size"], ignore=["code"])
    assert plan.categorical == ["size"] and plan.numeric == []


def test_parquet_is_read_like_csv(tmp_path):
    pytest.importorskip("pyarrow")
    from myelin import tabular

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": ["a", "b", "a"]})
    frame.to_parquet(tmp_path / "t.parquet")
    read = tabular.read_table(tmp_path / "t.parquet")
    assert read["x"].tolist() == [1.0, 2.0, 3.0]
    assert tabular.infer(read, "y").classes == ["a", "b"]


@pytest.fixture(scope="module")
def penguin_result():
    from myelin import tabular

    return tabular.train(penguins_path(), "species", hidden=(16,), epochs=40, verbose=0, out=lambda s: None)


def test_predictions_frame_has_a_label_and_a_probability_per_class(penguin_result):
    from myelin import tabular

    frame = tabular.read_table(penguins_path())
    predictions = tabular.predictions_frame(penguin_result.model, frame)
    assert predictions.columns.tolist() == [
        "predicted_species", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo",
    ]  # fmt: skip
    assert len(predictions) == len(frame)  # rows with missing measurements are predicted too (mean-filled)
    np.testing.assert_allclose(predictions.iloc[:, 1:].sum(axis=1), 1.0, rtol=1e-5)
    assert (predictions["predicted_species"] == frame["species"]).mean() > 0.95


def test_missing_numbers_take_the_training_mean(penguin_result):
    from myelin import tabular

    model = penguin_result.model
    frame = tabular.read_table(penguins_path()).iloc[[3]].reset_index(drop=True)  # the row with no measurements
    x = model.inputs_from(frame)
    means = model.get_layer("numeric_normalization").mean.numpy()
    for i, name in enumerate(model.numeric):
        if name != "year":
            assert x[name][0, 0] == pytest.approx(means[i])
    assert x["sex"][0, 0] == ""


def test_new_data_errors_name_the_column_and_row(penguin_result, tmp_path):
    from myelin import tabular

    model = penguin_result.model
    frame = tabular.read_table(penguins_path()).drop(columns=["island"])
    frame.attrs["source"] = "new.csv"
    with pytest.raises(tabular.DataError, match=r"new\.csv has no column 'island', which the model needs"):
        tabular.predictions_frame(model, frame)
    text = penguins_path().read_text().replace("Adelie,Torgersen,39.5,", "Adelie,Torgersen,thirty-nine,", 1)
    path = tmp_path / "typo.csv"
    path.write_text(text)
    with pytest.raises(tabular.DataError, match=r"typo.csv, line 3 \(row 2\), column 'bill_length_mm': 'thirty-nine'"):
        tabular.predictions_frame(model, tabular.read_table(path))
    unknown = tabular.read_table(penguins_path()).head(3)
    unknown.loc[1, "species"] = "Emperor"
    with pytest.raises(
        tabular.DataError, match="line 3 \\(row 2\\), column 'species': class 'Emperor' was not in the training"
    ):
        tabular.report(model, unknown)


def test_the_tabular_model_exports_whole_to_onnx(penguin_result, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from myelin import tabular

    model = penguin_result.model
    model.export(tmp_path / "penguins.onnx")
    frame = tabular.read_table(penguins_path())
    x = model.inputs_from(frame)
    session = ort.InferenceSession(str(tmp_path / "penguins.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, x)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- with saved models (myelin.saving)
@pytest.fixture(scope="module")
def saved_penguins(tmp_path_factory):
    pytest.importorskip("myelin.saving")
    pytest.importorskip("safetensors")
    path = tmp_path_factory.mktemp("models") / "penguins.myelin"
    args = ["train", str(penguins_path()), "--target", "species", "--layers", "16", "--epochs", "40", "--verbose", "0"]
    assert cli.main([*args, "--out", str(path)]) == 0
    return path


def test_train_out_saves_a_model_that_knows_its_columns(saved_penguins):
    from myelin import tabular
    from myelin.models import load_model

    model = load_model(saved_penguins)
    assert isinstance(model, tabular.TabularModel)
    assert model.target == "species" and model.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert model.categorical == ["island", "sex"]
    assert model.get_layer("island_lookup").get_vocabulary()[0] == "[UNK]"


def test_evaluate_a_saved_model(saved_penguins, capsys):
    assert cli.main(["evaluate", str(saved_penguins), str(penguins_path())]) == 0
    out = capsys.readouterr().out
    assert "(344 rows)" in out and float(out.split("accuracy")[1].split()[0]) > 0.95


def test_predict_writes_probabilities_per_class(saved_penguins, tmp_path, capsys):
    from myelin import tabular
    from myelin.models import load_model

    out_csv = tmp_path / "predictions.csv"
    assert cli.main(["predict", str(saved_penguins), str(penguins_path()), "-o", str(out_csv)]) == 0
    assert "Wrote 344 predictions" in capsys.readouterr().out
    written = pd.read_csv(out_csv)
    assert written.columns.tolist() == [
        "predicted_species",
        "probability_Adelie",
        "probability_Chinstrap",
        "probability_Gentoo",
    ]
    expected = tabular.predictions_frame(load_model(saved_penguins), tabular.read_table(penguins_path()))
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), expected.iloc[:, 1:].to_numpy(), rtol=1e-6)
    assert cli.main(["predict", str(saved_penguins), str(penguins_path())]) == 0
    assert capsys.readouterr().out.startswith("predicted_species,probability_Adelie")


def test_summary_of_a_saved_model(saved_penguins, capsys):
    assert cli.main(["summary", str(saved_penguins)]) == 0
    out = capsys.readouterr().out
    assert "island_lookup (StringLookup)" in out and "numeric_normalization (Normal" in out
    assert "Target: 'species' (multiclass); classes: Adelie, Chinstrap, Gentoo" in out
    assert "Categorical columns: island, sex" in out


def test_evaluate_and_predict_errors_on_a_saved_model(saved_penguins, tmp_path, capsys):
    data = tmp_path / "no_island.csv"
    pd.read_csv(penguins_path()).drop(columns=["island"]).to_csv(data, index=False)
    assert cli.main(["predict", str(saved_penguins), str(data)]) == 1
    assert "no_island.csv has no column 'island', which the model needs" in capsys.readouterr().err
    data = tmp_path / "no_target.csv"
    pd.read_csv(penguins_path()).drop(columns=["species"]).to_csv(data, index=False)
    assert cli.main(["evaluate", str(saved_penguins), str(data)]) == 1
    assert "no_target.csv has no column 'species' (the target the model predicts)" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "missing.myelin"), str(data)]) == 1


def test_predict_refuses_a_model_not_made_by_train(tmp_path, capsys):
    pytest.importorskip("myelin.saving")
    import myelin
    from myelin import layers

    model = myelin.Sequential([myelin.Input(shape=(2,)), layers.Dense(1)])
    model.save(tmp_path / "plain.myelin")
    assert cli.main(["predict", str(tmp_path / "plain.myelin"), str(penguins_path())]) == 1
    assert "not a model made by 'myelin train'" in capsys.readouterr().err
    assert cli.main(["summary", str(tmp_path / "plain.myelin")]) == 0


def test_train_out_without_safetensors_says_so_before_training(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "safetensors" else real(name, *a))
    assert cli.main(["train", str(penguins_path()), "--target", "species", "--out", str(tmp_path / "m.myelin")]) == 1
    captured = capsys.readouterr()
    assert "pip install 'myelin[saving]'" in captured.err and "Held-out" not in captured.out


def test_a_saved_table_model_loads_in_a_fresh_process(saved_penguins):
    import subprocess
    import sys

    code = f"import myelin; m = myelin.models.load_model({str(saved_penguins)!r}); print(type(m).__name__, m.classes)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "TabularModel ['Adelie', 'Chinstrap', 'Gentoo']"
