"""relu-neuron: the notes' single ReLU neuron with squared loss, on scikit-learn's diabetes data.

For patient i with 10 baseline measurements xᵢ (standardised with the training set's
mean and deviation) the neuron predicts disease progression a year later,

    ŷᵢ = relu(w · xᵢ + b),   C = (1/N) Σᵢ (ŷᵢ − yᵢ)²,

with y in hundreds. Only patients the neuron is active on (w · xᵢ + b > 0) pass a
gradient: ∂C/∂w = (2/N) Σ_active (ŷᵢ − yᵢ) xᵢ. It is trained by SGD and scored by R² on
held-out patients, beside the least-squares line fitted to the same training patients
(the best any affine function of x does, with no ReLU).
"""

from __future__ import annotations

import numpy as np

from chainrule import nn
from chainrule.functions import relu
from chainrule.nn import functional as F
from chainrule.optim import SGD, Optimizer
from chainrule.tensor import Tensor

from .. import datasets
from .training import Data, Split, Task


def r_squared(truth: np.ndarray, predicted: np.ndarray) -> float:
    """1 − Σ(y − ŷ)² / Σ(y − ȳ)²: the share of the variance the predictions explain."""
    return float(1 - np.sum((truth - predicted) ** 2) / np.sum((truth - truth.mean()) ** 2))


class Neuron(nn.Module):
    """ŷ = relu(w · x + b) for each row x."""

    def __init__(self, inputs: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.linear = nn.Linear(inputs, 1, seed=rng)

    def forward(self, x) -> Tensor:
        return relu(self.linear(x)).reshape(-1)


class ReLUNeuron(Task):
    name = "relu-neuron"
    help = "one ReLU neuron fitted by squared loss to scikit-learn's 442 diabetes patients"
    epochs, lr, batch_size = 40, 0.02, 32
    metric = "R²"
    held_out = 110  # a quarter of the patients, the same ones for every seed

    def load(self) -> Data:
        x, y = datasets.load_diabetes()
        order = np.random.default_rng(0).permutation(len(y))
        test, train = order[: self.held_out], order[self.held_out :]
        mean, std = x[train].mean(axis=0), x[train].std(axis=0)
        x = ((x - mean) / std).astype(np.float32)
        y = (y / 100).astype(np.float32)
        design = np.hstack([x[train], np.ones((len(train), 1), np.float32)])
        coefficients = np.linalg.lstsq(design, y[train], rcond=None)[0]
        line = x[test] @ coefficients[:-1] + coefficients[-1]
        return Data(Split((x[train],), y[train]), Split((x[test],), y[test]), {"least squares": line})

    def build(self, data: Data, rng: np.random.Generator) -> nn.Module:
        return Neuron(data.train.inputs[0].shape[1], rng)

    def optimizer(self, params, lr: float) -> Optimizer:
        return SGD(params, lr=lr)

    def loss(self, outputs: Tensor, targets: np.ndarray) -> Tensor:
        return F.mse_loss(outputs, targets)

    def predict(self, outputs: np.ndarray) -> np.ndarray:
        return outputs

    def evaluate(self, predictions: np.ndarray, data: Data) -> dict[str, float]:
        truth = data.test.targets
        return {
            "R²": r_squared(truth, predictions),
            "mean squared error": float(np.mean((predictions - truth) ** 2)),
            "active on (share of held-out patients)": float(np.mean(predictions > 0)),
        }

    def baseline(self, data: Data) -> tuple[str, float]:
        return "least-squares line", r_squared(data.test.targets, data.extra["least squares"])

    def report(self, predictions: np.ndarray, data: Data) -> list[str]:
        name, value = self.baseline(data)
        return [
            "",
            f"held-out R²: {r_squared(data.test.targets, predictions):.4f} (ReLU neuron) vs "
            f"{value:.4f} ({name}, closed form)",
        ]
