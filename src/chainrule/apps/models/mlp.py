"""The notes' single-hidden-layer network on images: mlp-digits (scikit-learn's 8×8 digits)
and mlp-fashion (Fashion-MNIST's 28×28 clothing).

Each image is a vector of pixels x, and

    h = relu(W x + b₁),   θ = U h + b₂,   ŷ = softmax(θ),

trained with Adam on the mean cross-entropy, whose gradient with respect to θ is
(ŷ − y)/N. Scored by the held-out accuracy and a confusion matrix.
"""

from __future__ import annotations

import numpy as np

from chainrule import nn

from .. import datasets
from . import report
from .training import Data, Split, Task


def perceptron(sizes: tuple[int, ...], rng: np.random.Generator) -> nn.Sequential:
    """Linear layers of the given widths with a ReLU between each two."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b, seed=rng), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class ImageClassifier(Task):
    """A perceptron with hidden layers of widths ``hidden`` over flattened images."""

    hidden: tuple[int, ...]

    def build(self, data: Data, rng: np.random.Generator) -> nn.Module:
        return perceptron((data.train.inputs[0].shape[1], *self.hidden, len(self.class_names)), rng)

    def report(self, predictions: np.ndarray, data: Data) -> list[str]:
        return [
            "",
            "confusion matrix of the held-out images (rows: true class, columns: predicted):",
            report.confusion_table(data.test.targets, predictions, self.class_names),
        ]


class Digits(ImageClassifier):
    name = "mlp-digits"
    help = "a perceptron (64-256-10) classifying scikit-learn's 1,797 8×8 handwritten digits"
    epochs, lr, batch_size = 30, 3e-3, 16
    hidden = (256,)
    class_names = tuple("0123456789")
    image_shape = (8, 8)
    held_out = 450  # a quarter of the digits, the same ones for every seed

    def load(self) -> Data:
        x, y = datasets.load_digits()
        order = np.random.default_rng(0).permutation(len(y))
        test, train = order[: self.held_out], order[self.held_out :]
        return Data(Split((x[train],), y[train]), Split((x[test],), y[test]))


class Fashion(ImageClassifier):
    name = "mlp-fashion"
    help = "a perceptron (784-256-10) classifying Fashion-MNIST's 28×28 clothing images"
    epochs, lr, batch_size = 15, 1e-3, 128
    hidden = (256,)
    class_names = datasets.FASHION_CLASSES
    image_shape = (28, 28)

    def load(self) -> Data:
        x_train, y_train, x_test, y_test = datasets.load_fashion_mnist()
        return Data(Split((x_train,), y_train), Split((x_test,), y_test))
