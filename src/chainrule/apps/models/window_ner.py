"""window-ner: the notes' window classifier — "is the centre word a location?" — on WNUT-16 tweets.

Each token is classified from the window of 5 words centred on it (2 on each side,
padded with a ``<pad>`` word at the edges of a tweet). Each word is looked up in a table
of 50-d word vectors that starts as GloVe 6B (words GloVe lacks start small and random)
and is trained along with the network, through a *sparse* embedding: a step touches
only the rows of the words in the batch. The five vectors laid end to end make
x ∈ ℝ²⁵⁰, and

    h = tanh(W x + b),   s = uᵀh,   P(centre word is a location) = σ(s).

While training, 30% of x's numbers are dropped (``nn.Dropout``), so the network cannot
lean on a few fine-tuned word vectors of the training tweets.

The loss is the binary cross-entropy of σ(s) (``F.binary_cross_entropy_with_logits``).
About 1 token in 140 is a location, so a network that always says "no" is right 99.3%
of the time and finds nothing. The location terms of the loss are weighted by
``pos_weight`` = 3: weighting the positives by w moves the point where tagging pays
from σ(s) > ½ to P(location) > 1/(1 + w), and the threshold that maximises F1 on
calibrated probabilities is half the best F1 reachable (≈ 0.5 here, so 0.25 and w = 3).
The balanced weight, negatives / positives ≈ 140, would tag every word that might be a
place and trade far too much precision for recall. A token is tagged when s > 0.

``--entity TYPE`` asks the same question for another of WNUT-16's 10 entity types;
``--entity all`` replaces the score by 11 scores θ = U h + c and a softmax over O (no
entity) and the 10 types, trained on the cross-entropy with O weighted ½.

Held out are 20% of the tweets (split by tweet with a fixed seed). Scores are per
token: precision, recall and F1 of the entity, next to two baselines on the same
split — "always O" (tags nothing: F1 0) and "in training" (tags a word when it was
tagged as the entity at least once in the training tweets; a stricter variant asks for
most of its training occurrences). The plot draws the strongest of them beside the
model's curve: on WNUT-16, the stricter majority vote.
"""

from __future__ import annotations

import numpy as np

from chainrule import nn
from chainrule.functions import tanh
from chainrule.nn import functional as F
from chainrule.tensor import Tensor

from .. import datasets
from . import report
from .training import Data, Split, Task, TrainingError

WINDOW = 2  # words on each side of the centre word
TYPES = (
    "company",
    "facility",
    "geo-loc",
    "movie",
    "musicartist",
    "other",
    "person",
    "product",
    "sportsteam",
    "tvshow",
)
CLASSES = ("O", *TYPES)
ALL = "all"
PAD, UNKNOWN = "<pad>", "<unknown>"
CLASS_WEIGHTS = np.array([0.5] + [1.0] * len(TYPES), dtype=np.float32)  # --entity all
EXAMPLES = 3  # held-out tweets shown tagged right, and as many tagged wrong


def normalise(token: str) -> str:
    """The form looked up in GloVe: lower case, without a hashtag's #."""
    return token.lower().lstrip("#") or token.lower()


def class_of(tag: str) -> int:
    """The index in :data:`CLASSES` of a BIO tag (B- and I- merged)."""
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
    """x = the window's word vectors end to end, h = tanh(Wx + b), then the score s = uᵀh
    (one output) or the logits θ = Uh + c (``outputs`` > 1)."""

    def __init__(
        self, vectors: np.ndarray, hidden: int, outputs: int, rng: np.random.Generator, dropout: float = 0.3
    ) -> None:
        super().__init__()
        self.words = nn.Embedding.from_pretrained(vectors, freeze=False, sparse=True)
        self.dropout = nn.Dropout(dropout, seed=rng)
        self.hidden = nn.Linear((2 * WINDOW + 1) * vectors.shape[1], hidden, seed=rng)
        self.score = nn.Linear(hidden, outputs, bias=outputs > 1, seed=rng)

    def forward(self, word_ids) -> Tensor:
        x = self.words(word_ids).reshape(len(word_ids), -1)
        s = self.score(tanh(self.hidden(self.dropout(x))))
        return s.reshape(-1) if s.shape[1] == 1 else s


class WindowNER(Task):
    name = "window-ner"
    epochs, lr, batch_size = 8, 1e-3, 64
    hidden = 100
    pos_weight = 3.0  # the weight of the entity's terms in the binary loss (see above)
    dimensions = 50
    entity = "geo-loc"  # one of TYPES, or ALL for the 11-way softmax
    pretrained = True  # start the word vectors from GloVe (False: small random vectors, no GloVe)
    held_out, split_seed = 0.2, 0

    # Task.configure takes any options and refuses them; this task names the two it takes.
    def configure(  # type: ignore[override]
        self, entity: str | None = None, pretrained: bool | None = None
    ) -> WindowNER:
        """A copy asking about ``entity`` (a type or ``"all"``) and/or with random initial vectors."""
        task = super().configure()
        if entity is not None:
            if entity != ALL and entity not in TYPES:
                raise TrainingError(
                    f"unknown entity type {entity!r}: choose one of {', '.join(TYPES)} or all"
                )
            task.entity = entity
        if pretrained is not None:
            task.pretrained = pretrained
        return task

    # ------------------------------------------------------------ naming
    @property
    def binary(self) -> bool:
        return self.entity != ALL

    @property  # Task's class attribute, computed from the entity here
    def help(self) -> str:  # type: ignore[override]
        found = f"the {self.entity} words" if self.binary else "the entities (10 types)"
        vectors = "fine-tuned GloVe vectors" if self.pretrained else "word vectors trained from random"
        return f"the notes' window classifier over {vectors}, finding {found} of WNUT-16 tweets"

    @property
    def stem(self) -> str:
        return self.name if self.entity == WindowNER.entity else f"{self.name}-{self.entity}"

    @property  # Task's class attribute, computed from the entity here
    def metric(self) -> str:  # type: ignore[override]
        return f"{self.entity} F1" if self.binary else "entity macro F1"

    @property  # Task's class attribute, computed from the entity here
    def class_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("O", self.entity) if self.binary else CLASSES

    def target_of(self, tag: str) -> int:
        c = class_of(tag)
        return c if not self.binary else int(c == CLASSES.index(self.entity))

    # ------------------------------------------------------------ data and model
    def load(self) -> Data:
        train, test = datasets.split_sentences(datasets.load_wnut16(), self.held_out, self.split_seed)
        counts: dict[str, int] = {}
        for s in train:
            for t in s.tokens:
                counts[normalise(t)] = counts.get(normalise(t), 0) + 1
        # Every word GloVe knows has a row, and so has every other word seen twice in training.
        words, vectors = {w for w, n in counts.items() if n >= 2}, {}
        if self.pretrained:
            glove_words, matrix = datasets.load_glove({normalise(t) for s in train + test for t in s.tokens})
            vectors = dict(zip(glove_words, matrix))
        vocabulary = [PAD, UNKNOWN, *sorted(words | set(vectors))]
        pretrained = np.array([w in vectors for w in vocabulary])
        table = np.zeros((len(vocabulary), self.dimensions), dtype=np.float32)
        if vectors:
            table[pretrained] = np.stack([vectors[w] for w in vocabulary if w in vectors])
        index = {w: i for i, w in enumerate(vocabulary)}

        def split(sentences) -> Split:
            ids = [windows([index.get(normalise(t), 1) for t in s.tokens], 0) for s in sentences]
            targets = [self.target_of(tag) for s in sentences for tag in s.tags]
            return Split((np.concatenate(ids),), np.array(targets, dtype=np.int64))

        return Data(
            split(train),
            split(test),
            {
                "table": table,
                "pretrained": pretrained,
                "test sentences": test,
                "baselines": self.baselines(train, test),
            },
        )

    def baselines(self, train, test) -> dict[str, np.ndarray]:
        """Per held-out token, the class each baseline gives it (see the module docstring)."""
        tagged: dict[str, np.ndarray] = {}  # word -> how often it had each class in training
        for s in train:
            for t, tag in zip(s.tokens, s.tags):
                counts = tagged.setdefault(normalise(t), np.zeros(len(self.class_names), np.int64))
                counts[self.target_of(tag)] += 1
        once = {w: int(np.argmax(n[1:]) + 1) for w, n in tagged.items() if n[1:].any()}
        most = {w: int(np.argmax(n)) for w, n in tagged.items()}
        words = [normalise(t) for s in test for t in s.tokens]
        return {
            "always O": np.zeros(len(words), np.int64),
            "in training": np.array([once.get(w, 0) for w in words]),
            "mostly in training": np.array([most.get(w, 0) for w in words]),
        }

    def build(self, data: Data, rng: np.random.Generator) -> nn.Module:
        table = data.extra["table"].copy()
        fresh = ~data.extra["pretrained"]
        table[fresh] = rng.normal(0, 0.1, (fresh.sum(), table.shape[1]))
        return WindowClassifier(table, self.hidden, 1 if self.binary else len(CLASSES), rng)

    def loss(self, outputs: Tensor, targets: np.ndarray) -> Tensor:
        if not self.binary:
            return F.cross_entropy(outputs, targets, weight=CLASS_WEIGHTS)
        return F.binary_cross_entropy_with_logits(
            outputs, targets.astype(outputs.dtype), pos_weight=self.pos_weight
        )

    def predict(self, outputs: np.ndarray) -> np.ndarray:
        return (outputs > 0).astype(np.int64) if self.binary else outputs.argmax(axis=1)

    # ------------------------------------------------------------ scores and report
    def evaluate(self, predictions: np.ndarray, data: Data) -> dict[str, float]:
        scores = f1_scores(data.test.targets, predictions, len(self.class_names))
        accuracy = float(np.mean(predictions == data.test.targets))
        if self.binary:
            precision, recall, f1, _ = scores[1]
            return {
                self.metric: float(f1),
                "precision": float(precision),
                "recall": float(recall),
                "token accuracy": accuracy,
            }
        return {
            self.metric: float(scores[1:, 2].mean()),
            "geo-loc F1": float(scores[CLASSES.index("geo-loc"), 2]),
            "token accuracy": accuracy,
        }

    @property
    def baseline_names(self) -> dict[str, str]:
        """The name shown for each of :meth:`baselines`."""
        if not self.binary:
            return {
                "always O": "always O",
                "in training": "its type in training",
                "mostly in training": "its most frequent class in training",
            }
        return {
            "always O": "always O",
            "in training": f"{self.entity} in training",
            "mostly in training": f"mostly {self.entity} in training",
        }

    def baseline(self, data: Data) -> tuple[str, float]:
        """The strongest baseline on the held-out metric, with its name (the majority vote,
        "mostly ... in training", on WNUT-16)."""
        scores = {
            self.baseline_names[key]: self.evaluate(predicted, data)[self.metric]
            for key, predicted in data.extra["baselines"].items()
        }
        return max(scores.items(), key=lambda named: named[1])

    def report(self, predictions: np.ndarray, data: Data) -> list[str]:
        truth, baselines = data.test.targets, data.extra["baselines"]
        if self.binary:
            names = self.baseline_names
            rows = [
                (name, *map(float, f1_scores(truth, p, 2)[1, :3]))
                for name, p in [("model", predictions), *((names[k], v) for k, v in baselines.items())]
            ]
            lines = [
                f"held-out {self.entity} tokens ({int(truth.sum())} of {len(truth)}): the model and "
                "the baselines on the same split",
                report.table(["tagger", "precision", "recall", "F1"], rows),
                f'("{self.entity} in training": the word was tagged {self.entity} at least once in '
                'the training tweets; "mostly": in most of its occurrences there)',
            ]
        else:
            ours = f1_scores(truth, predictions, len(CLASSES))
            theirs = f1_scores(truth, baselines["in training"], len(CLASSES))
            rows = [
                (name, *map(float, s[:3]), float(b[2]), int(s[3]))
                for name, s, b in zip(CLASSES, ours, theirs)
            ]
            lines = [
                "per class, per held-out token (baseline: a word gets the type it was tagged most "
                "often in training, if it ever was one):",
                report.table(["class", "precision", "recall", "F1", "baseline F1", "tokens"], rows),
            ]
        return ["", *lines, "", *self.examples(predictions, data)]

    def examples(self, predictions: np.ndarray, data: Data) -> list[str]:
        """A few held-out tweets tagged right and a few tagged wrong, tagged words marked."""
        names = self.class_names
        legend = (
            "[[word]] tagged right, [[word]]! tagged but not one, {{word}} missed"
            if self.binary
            else "[[word|type]] tagged right, [[word|type]]! tagged wrongly (its true type after ≠), "
            "{{word|type}} missed"
        )
        right: list[str] = []
        wrong: list[str] = []
        start = 0
        for s in data.extra["test sentences"]:
            said = predictions[start : start + len(s.tokens)]
            true = data.test.targets[start : start + len(s.tokens)]
            start += len(s.tokens)
            if not true.any() and not said.any():
                continue
            words = []
            for token, p, t in zip(s.tokens, said, true):
                label = "" if self.binary else f"|{names[p or t]}"
                if p and p == t:
                    token = f"[[{token}{label}]]"
                elif p:
                    token = f"[[{token}{label}]]!" + ("" if self.binary or not t else f"≠{names[t]}")
                elif t:
                    token = f"{{{{{token}{label}}}}}"
                words.append(token)
            (right if np.array_equal(said, true) else wrong).append("  " + " ".join(words))
        return [
            f"held-out tweets ({legend}):",
            "tagged right:",
            *right[:EXAMPLES],
            "tagged wrong:",
            *wrong[:EXAMPLES],
        ]
