"""window-ner: the notes' window classifier, tagging the named entities of WNUT-16 tweets.

Each token is classified from the window of 2w + 1 tokens centred on it (w = 2, padded at
the ends of a tweet). The window's words are looked up in a word-vector table that starts
as GloVe 6B 50d and is fine-tuned through a *sparse* embedding (each step touches only the
rows of the words in the batch), and their shapes (lower-case, Capitalised, UPPER, @user,
#tag, …) in a small dense embedding, since GloVe's words are lower-cased. Laid end to end
they make x, and

    h = tanh(W x + b),   θ = U h + c,   ŷ = softmax(θ)

over 11 classes: O (no entity) and the 10 entity types (B- and I- tags merged). The loss
is the cross-entropy, with the 92% of tokens that are O weighted ½ against the entities.
Held out are every fifth tweet. Scores are per token: the F1 of each class, and the
headline number, geo-loc F1, is set beside a baseline that calls
a token a location exactly when its word was tagged as a location in most of its
occurrences in training.
"""

from __future__ import annotations

import numpy as np

from .. import datasets, nn
from ..functions import concatenate, tanh
from ..nn import functional as F
from ..tensor import Tensor
from . import report
from .training import Data, Split, Task

WINDOW = 2  # words on each side of the centre word
TYPES = ("company", "facility", "geo-loc", "movie", "musicartist", "other", "person", "product",
         "sportsteam", "tvshow")
CLASSES = ("O", *TYPES)
PAD, UNKNOWN = "<pad>", "<unknown>"
CLASS_WEIGHTS = np.array([0.5] + [1.0] * len(TYPES), dtype=np.float32)
SHAPES = ("pad", "lower", "Capitalised", "UPPER", "@user", "#tag", "url", "number", "other")


def normalise(token: str) -> str:
    """The form looked up in GloVe: lower case, without a hashtag's #."""
    return token.lower().lstrip("#") or token.lower()


def shape_of(token: str) -> int:
    """The index in :data:`SHAPES` of a token's spelling pattern."""
    if token.startswith("@"):
        shape = "@user"
    elif token.startswith("#"):
        shape = "#tag"
    elif token.startswith("http"):
        shape = "url"
    elif any(ch.isdigit() for ch in token):
        shape = "number"
    elif token.isupper():
        shape = "UPPER"
    elif token[:1].isupper():
        shape = "Capitalised"
    elif token.islower():
        shape = "lower"
    else:
        shape = "other"
    return SHAPES.index(shape)


def class_of(tag: str) -> int:
    return 0 if tag == "O" else CLASSES.index(tag[2:])


def windows(ids: list[int], pad: int) -> np.ndarray:
    """For each position, the ids from WINDOW before to WINDOW after it: (len(ids), 2·WINDOW + 1)."""
    padded = np.array([pad] * WINDOW + ids + [pad] * WINDOW)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * WINDOW + 1).copy()


def f1_scores(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Per class: precision, recall, F1 and support, as rows of a (classes, 4) array
    (a score with an empty denominator is 0)."""
    rows = []
    for c in range(classes):
        tp = np.sum((predicted == c) & (truth == c))
        said, true = np.sum(predicted == c), np.sum(truth == c)
        precision, recall = (tp / said if said else 0.0), (tp / true if true else 0.0)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((precision, recall, f1, true))
    return np.array(rows, dtype=np.float64)


class WindowClassifier(nn.Module):
    """x = [word vectors; shape vectors] of a window, h = tanh(Wx + b), θ = Uh + c."""

    def __init__(self, vectors: np.ndarray, hidden: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.words = nn.Embedding.from_pretrained(vectors, freeze=False, sparse=True)
        self.shapes = nn.Embedding(len(SHAPES), 8, seed=rng, dtype=vectors.dtype)
        width = (2 * WINDOW + 1) * (vectors.shape[1] + 8)
        self.hidden = nn.Linear(width, hidden, seed=rng)
        self.dropout = nn.Dropout(0.3, seed=rng)
        self.out = nn.Linear(hidden, len(CLASSES), seed=rng)

    def forward(self, word_ids, shape_ids) -> Tensor:
        n = len(word_ids)
        x = concatenate([self.words(word_ids).reshape(n, -1), self.shapes(shape_ids).reshape(n, -1)], axis=1)
        return self.out(self.dropout(tanh(self.hidden(x))))


class WindowNER(Task):
    name = "window-ner"
    help = "a window classifier over fine-tuned GloVe vectors tagging the entities of WNUT-16 tweets"
    epochs, lr, batch_size = 6, 1e-3, 64
    metric = "geo-loc F1"
    class_names = CLASSES
    hidden = 128

    def load(self) -> Data:
        sentences = datasets.load_wnut16()
        held_out = [i % 5 == 4 for i in range(len(sentences))]
        train_words = [normalise(t) for s, h in zip(sentences, held_out) if not h for t in s.tokens]
        all_words = sorted({normalise(t) for s in sentences for t in s.tokens})
        vectors, found = datasets.glove_vectors(all_words)
        counts = dict(zip(*np.unique(train_words, return_counts=True)))
        # Words without a GloVe vector get a row of their own when seen twice in training.
        keep = [found[i] or counts.get(w, 0) >= 2 for i, w in enumerate(all_words)]
        vocabulary = [PAD, UNKNOWN] + [w for w, k in zip(all_words, keep) if k]
        table = np.concatenate([np.zeros((2, vectors.shape[1]), np.float32), vectors[keep]])
        pretrained = np.concatenate([[True, False], found[keep]])
        index = {w: i for i, w in enumerate(vocabulary)}

        def split(chosen: bool) -> Split:
            parts = [(windows([index.get(normalise(t), 1) for t in s.tokens], 0),
                      windows([shape_of(t) for t in s.tokens], 0),
                      [class_of(tag) for tag in s.tags])
                     for s, h in zip(sentences, held_out) if h == chosen]
            words, shapes, targets = (np.concatenate([p[k] for p in parts]) for k in range(3))
            return Split((words, shapes), targets.astype(np.int64))

        geo = CLASSES.index("geo-loc")
        as_location = {}  # word -> (times tagged geo-loc, times seen) in training
        for s, h in zip(sentences, held_out):
            for t, tag in zip(s.tokens, s.tags):
                if not h:
                    hits, seen = as_location.get(normalise(t), (0, 0))
                    as_location[normalise(t)] = (hits + (class_of(tag) == geo), seen + 1)
        locations = {w for w, (hits, seen) in as_location.items() if 2 * hits > seen}
        baseline = np.array([geo if normalise(t) in locations else 0
                             for s, h in zip(sentences, held_out) if h for t in s.tokens])
        return Data(split(False), split(True), {"table": table, "pretrained": pretrained,
                                                "baseline": baseline})

    def build(self, data: Data, rng: np.random.Generator) -> nn.Module:
        table = data.extra["table"].copy()
        fresh = ~data.extra["pretrained"]
        table[fresh] = rng.normal(0, 0.1, (fresh.sum(), table.shape[1]))
        return WindowClassifier(table, self.hidden, rng)

    def loss(self, outputs: Tensor, targets: np.ndarray) -> Tensor:
        return F.cross_entropy(outputs, targets, weight=CLASS_WEIGHTS)

    def evaluate(self, predictions: np.ndarray, data: Data) -> dict[str, float]:
        scores = f1_scores(data.test.targets, predictions, len(CLASSES))
        return {"geo-loc F1": scores[CLASSES.index("geo-loc"), 2],
                "entity macro F1": float(scores[1:, 2].mean()),
                "token accuracy": float(np.mean(predictions == data.test.targets))}

    def baseline(self, data: Data) -> tuple[str, float]:
        scores = f1_scores(data.test.targets, data.extra["baseline"], len(CLASSES))
        return "location in training", float(scores[CLASSES.index("geo-loc"), 2])

    def report(self, predictions: np.ndarray, data: Data) -> list[str]:
        truth = data.test.targets
        scores = f1_scores(truth, predictions, len(CLASSES))
        geo = CLASSES.index("geo-loc")
        baseline = f1_scores(truth, data.extra["baseline"], len(CLASSES))[geo]
        rows = [(name, *map(float, s[:3]), int(s[3])) for name, s in zip(CLASSES, scores)]
        rows.append(("geo-loc baseline", *map(float, baseline[:3]), int(baseline[3])))
        return ["", "per class, per held-out token (the baseline tags a word as geo-loc when most of "
                "its training occurrences were):",
                report.table(["class", "precision", "recall", "F1", "tokens"], rows),
                "", f"geo-loc F1: {scores[geo, 2]:.4f} (model) vs {baseline[2]:.4f} "
                f"({self.baseline(data)[0]})"]
