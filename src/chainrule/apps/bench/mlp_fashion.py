"""Seconds per epoch of mlp-fashion: chainrule against the same model written by hand.

The model of ``python -m chainrule train mlp-fashion`` — the notes' one-hidden-layer network,
784-256-10 with a ReLU, softmax cross-entropy and Adam, batches of 128 — trained for one epoch on
Fashion-MNIST, three ways, in one process, from the same initial weights and the same
batch order:

* chainrule, as the train command runs it (Modules, ``loss.backward()``, ``optim.Adam``);
* by hand in NumPy: the forward pass, the backward pass written out layer by layer
  (δ = ŷ − y, then ∂W = δᵀa, δ ← (δW) ⊙ 1[z > 0] going down) and Adam's update: the
  floor any autodiff library on NumPy pays;
* PyTorch, when it is installed.

First it checks that chainrule's gradients on one batch equal the hand-written ones.
Then it trains each for ``--repeats`` epochs, taking turns epoch by epoch, and reports
the median seconds per epoch, the ratio to hand NumPy, and the held-out accuracy each
reached (they should agree closely).

    python -m chainrule.apps.bench.mlp_fashion [--examples 60000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.testing import assert_allclose

import chainrule as cr
from chainrule.nn import functional as F
from chainrule.tables import text_table

from .. import datasets
from ..models.mlp import Fashion, perceptron

BETAS, EPS = (0.9, 0.999), 1e-8
SIZES = (784, *Fashion.hidden, 10)


def initial_weights(seed: int) -> list[np.ndarray]:
    """W₁, b₁, W₂, b₂, … of the train command's model (W of shape (out, in))."""
    return [p.numpy().copy() for p in perceptron(SIZES, np.random.default_rng(seed)).parameters()]


# ------------------------------------------------------------------ chainrule
class ChainruleRun:
    def __init__(self, weights: list[np.ndarray], lr: float) -> None:
        self.model = perceptron(SIZES, np.random.default_rng(0))
        for p, w in zip(self.model.parameters(), weights):
            p.data = w.copy()
        self.optimizer = cr.optim.Adam(self.model.parameters(), lr=lr)

    def gradients(self, x, y) -> list[np.ndarray]:
        self.optimizer.zero_grad()
        F.cross_entropy(self.model(x), y).backward()
        return [np.asarray(p.grad) for p in self.model.parameters()]

    def step(self, x, y) -> None:
        self.optimizer.zero_grad()
        F.cross_entropy(self.model(x), y).backward()
        self.optimizer.step()

    def predict(self, x) -> np.ndarray:
        with cr.no_grad():
            return self.model(x).numpy().argmax(axis=1)


# ------------------------------------------------------------------ by hand in NumPy
class NumpyRun:
    def __init__(self, weights: list[np.ndarray], lr: float) -> None:
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.t = 0
        self.lr = lr

    def forward(self, x):
        """The activations a₀ = x, a₁, …, and the logits."""
        activations = [x]
        layers = list(zip(self.params[0::2], self.params[1::2]))
        for k, (W, b) in enumerate(layers):
            z = activations[-1] @ W.T + b
            activations.append(np.maximum(z, 0) if k < len(layers) - 1 else z)
        return activations

    def gradients(self, x, y) -> list[np.ndarray]:
        activations = self.forward(x)
        logits = activations.pop()
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta = p
        delta[np.arange(len(y)), y] -= 1
        delta /= len(y)  # ∂(mean cross-entropy)/∂logits = (ŷ − y)/N
        grads: list[np.ndarray] = []
        for k in range(len(activations) - 1, -1, -1):
            a, W = activations[k], self.params[2 * k]
            grads[:0] = [delta.T @ a, delta.sum(axis=0)]
            if k:
                delta = (delta @ W) * (a > 0)
        return grads

    def step(self, x, y) -> None:
        self.t += 1
        (b1, b2), t = BETAS, self.t
        for p, g, m, v in zip(self.params, self.gradients(x, y), self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= self.lr / (1 - b1**t) * m / (np.sqrt(v) / np.sqrt(1 - b2**t) + EPS)

    def predict(self, x) -> np.ndarray:
        return self.forward(x)[-1].argmax(axis=1)


# ------------------------------------------------------------------ PyTorch
def torch_run():
    """A class like the two above for PyTorch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None

    class TorchRun:
        def __init__(self, weights, lr):
            layers = [torch.nn.Linear(a, b) for a, b in zip(SIZES, SIZES[1:])]
            self.model = torch.nn.Sequential(*[m for layer in layers for m in (layer, torch.nn.ReLU())][:-1])
            with torch.no_grad():
                for p, w in zip(self.model.parameters(), weights):
                    p.copy_(torch.from_numpy(w))
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)

        def step(self, x, y):
            self.optimizer.zero_grad()
            torch.nn.functional.cross_entropy(self.model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            self.optimizer.step()

        def predict(self, x):
            with torch.no_grad():
                return self.model(torch.from_numpy(x)).numpy().argmax(axis=1)

    return TorchRun


def epoch_seconds(run, x, y, order, batch_size: int) -> float:
    start = time.perf_counter()
    for first in range(0, len(order), batch_size):
        index = order[first : first + batch_size]
        run.step(x[index], y[index])
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Print the table; return each implementation's median seconds per epoch."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=60000, help="training examples per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per implementation")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args(argv)

    x_train, y_train, x_test, y_test = datasets.load_fashion_mnist()
    x, y = x_train[: args.examples], y_train[: args.examples]
    weights = initial_weights(seed=0)
    check = slice(0, args.batch_size)
    for ours, hand in zip(
        ChainruleRun(weights, args.lr).gradients(x[check], y[check]),
        NumpyRun(weights, args.lr).gradients(x[check], y[check]),
    ):
        assert_allclose(ours, hand, rtol=1e-4, atol=1e-6)
    print("chainrule's gradients on one batch equal the hand-written backward pass")

    implementations: dict[str, Callable[[list[np.ndarray], float], Any]] = {
        "hand NumPy": NumpyRun,
        "chainrule": ChainruleRun,
    }
    torch_class = torch_run()
    if torch_class is not None:
        implementations["torch"] = torch_class
    rng = np.random.default_rng(0)
    runs = {name: make(weights, args.lr) for name, make in implementations.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):  # round robin, so a busy spell of the machine hits all alike
        order = rng.permutation(len(y))
        for name, run in runs.items():
            times[name].append(epoch_seconds(run, x, y, order, args.batch_size))
    seconds = {name: statistics.median(t) for name, t in times.items()}
    accuracy = {name: float(np.mean(run.predict(x_test) == y_test)) for name, run in runs.items()}
    print(
        f"mlp-fashion, {len(y)} examples per epoch, batch {args.batch_size}, median of {args.repeats} epochs:"
    )
    rows = [
        (name, seconds[name], seconds[name] / seconds["hand NumPy"], accuracy[name])
        for name in implementations
    ]
    print(
        text_table(
            ["implementation", "s/epoch", "× hand NumPy", "held-out accuracy"], rows, digits=(0, 3, 2, 4)
        )
    )
    if torch_class is None:
        print("torch: not installed, skipped")
    return seconds


if __name__ == "__main__":
    main()
