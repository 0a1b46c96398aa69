"""Training a task: shuffled mini-batches, one optimizer step per batch, the held-out
metric after every epoch, then a metrics table, a plot and the saved parameters.

A :class:`Task` says what is learned — its data, its model, its loss and how it is
scored — and :func:`run` does the rest, the same way for every task::

    for epoch in 1..E:
        for each mini-batch (x, y) of a fresh permutation of the training set:
            loss = task.loss(model(x), y);  zero_grad;  loss.backward();  optimizer.step()
        score the model on the held-out set

Each epoch also records the mean over its batches of every parameter's gradient norm
‖∂loss/∂p‖, plotted per layer: gradients that vanish or explode show up there.

Everything random (initial weights, the order of the batches, dropout masks) is drawn
from one generator seeded by ``seed``, so the same seed gives the same numbers.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..mode import no_grad
from ..nn import Module
from ..nn import functional as F
from ..optim import Adam, Optimizer
from ..sparse import RowSparse
from ..tensor import Tensor


@dataclass
class Split:
    """Examples: one or more input arrays (indexed together) and the targets."""

    inputs: tuple[np.ndarray, ...]
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)

    def take(self, index) -> Split:
        return Split(tuple(a[index] for a in self.inputs), self.targets[index])


@dataclass
class Data:
    """A training and a held-out split, and whatever else the task's model needs to know."""

    train: Split
    test: Split
    extra: dict = field(default_factory=dict)


class Task:
    """What one ``train`` command learns. Subclasses set the class attributes and define
    ``load`` and ``build``; the defaults fit a classifier trained with Adam."""

    name: str
    help: str
    epochs: int
    lr: float
    batch_size: int
    metric = "accuracy"  # the held-out number plotted per epoch: the first key of evaluate()
    class_names: tuple[str, ...] = ()
    image_shape: tuple[int, int] | None = None  # images get a plot of misclassified examples

    @property
    def stem(self) -> str:
        """The name of the files a run writes (``<stem>.npz``, ``<stem>.png``)."""
        return self.name

    def configure(self, **options) -> Task:
        """A copy of the task with its own settings (see each task's ``configure``); the
        base task has none."""
        if options:
            raise TrainingError(f"{self.name} takes no {', '.join('--' + o for o in options)}")
        return copy.copy(self)

    def load(self) -> Data:
        raise NotImplementedError

    def build(self, data: Data, rng: np.random.Generator) -> Module:
        raise NotImplementedError

    def optimizer(self, params, lr: float) -> Optimizer:
        return Adam(params, lr=lr)

    def loss(self, outputs: Tensor, targets: np.ndarray) -> Tensor:
        return F.cross_entropy(outputs, targets)

    def predict(self, outputs: np.ndarray) -> np.ndarray:
        return outputs.argmax(axis=1)

    def evaluate(self, predictions: np.ndarray, data: Data) -> dict[str, float]:
        return {"accuracy": float(np.mean(predictions == data.test.targets))}

    def report(self, predictions: np.ndarray, data: Data) -> list[str]:
        """Extra lines for the final table (per-class scores, baselines)."""
        return []

    def baseline(self, data: Data) -> tuple[str, float] | None:
        """A simpler method's held-out metric, and its name, to draw beside the model's."""
        return None


@dataclass
class Epoch:
    number: int
    loss: float
    metric: float
    seconds: float
    gradient_norms: dict[str, float] = field(default_factory=dict)  # parameter -> mean ‖grad‖ over batches


@dataclass
class Result:
    """What a run produced: the per-epoch history, the final held-out metrics and files."""

    history: list[Epoch]
    metrics: dict[str, float]
    files: list[Path]


def outputs_of(model: Module, split: Split, batch_size: int = 2048) -> np.ndarray:
    """The model's outputs on every example of ``split``, in evaluation mode."""
    model.eval()
    with no_grad():
        parts = [model(*split.take(slice(i, i + batch_size)).inputs).numpy()
                 for i in range(0, len(split), batch_size)]
    return np.concatenate(parts)


def fit(task: Task, model: Module, data: Data, *, epochs: int, lr: float, batch_size: int,
        rng: np.random.Generator, show: Callable[[str], None] = print) -> list[Epoch]:
    """Train ``model`` for ``epochs`` epochs; returns the history (loss, held-out metric)."""
    optimizer = task.optimizer(model.parameters(), lr)
    parameters = list(model.named_parameters())
    n = len(data.train)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        total = 0.0
        norms = np.zeros(len(parameters))
        bar = ProgressBar(-(-n // batch_size), f"epoch {epoch}/{epochs}")
        order = rng.permutation(n)
        for first in range(0, n, batch_size):
            batch = data.train.take(order[first:first + batch_size])
            loss = task.loss(model(*batch.inputs), batch.targets)
            optimizer.zero_grad()
            loss.backward()
            norms += [gradient_norm(p.grad) for _, p in parameters]
            optimizer.step()
            total += loss.item() * len(batch)
            bar.step(total / (first + len(batch)))
        bar.close()
        seconds = time.perf_counter() - start
        metric = task.evaluate(task.predict(outputs_of(model, data.test)), data)[task.metric]
        batches = -(-n // batch_size)
        history.append(Epoch(epoch, total / n, metric, seconds,
                             {name: float(v) / batches for (name, _), v in zip(parameters, norms)}))
        show(f"epoch {epoch}/{epochs}: training loss {total / n:.4f}, held-out {task.metric} "
             f"{metric:.4f} ({seconds:.1f} s)")
    return history


def gradient_norm(grad) -> float:
    """‖grad‖ (Frobenius); 0 for no gradient. A row-sparse gradient's norm is its rows' norm."""
    if grad is None:
        return 0.0
    return float(np.linalg.norm(grad.values if isinstance(grad, RowSparse) else grad.data))


class ProgressBar:
    """tqdm's bar with the running loss when tqdm is installed; silent otherwise (the
    per-epoch line is printed either way)."""

    def __init__(self, total: int, description: str) -> None:
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, desc=description, unit="batch", leave=False,
                            dynamic_ncols=True)

    def step(self, running_loss: float) -> None:
        """One batch done; ``running_loss`` is the mean loss of the epoch so far."""
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss {running_loss:.4f}", refresh=False)
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class TrainingError(Exception):
    """A run cannot go on (say, a ``--load`` file that is not this model's); the message is
    one line."""


def read_parameters(path: Path, model: Module, name: str) -> None:
    """Load parameters saved by a run (an .npz of the state dict) into ``model``."""
    try:
        with np.load(path) as saved:
            state = {key: saved[key] for key in saved.files}
    except (OSError, ValueError) as e:
        raise TrainingError(f"cannot read saved parameters from {path}: {e}") from None
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError) as e:
        raise TrainingError(f"{path} does not hold the parameters of {name}: {e}") from None


def run(task: Task, *, epochs: int | None = None, lr: float | None = None, batch_size: int | None = None,
        seed: int = 0, out: Path = Path("out"), load: Path | None = None,
        show: Callable[[str], None] = print) -> Result:
    """Train ``task`` (or, with ``load``, evaluate saved parameters) and report.

    Unset settings take the task's defaults. A training run writes ``<stem>.npz`` (the
    state dict), ``<stem>.png`` (loss, held-out metric and gradient norms per epoch) and,
    for images, ``<stem>-misclassified.png`` into ``out``.
    """
    from . import report

    epochs, lr, batch_size = epochs or task.epochs, lr or task.lr, batch_size or task.batch_size
    data = task.load()
    rng = np.random.default_rng(seed)
    model = task.build(data, rng)
    show(f"{task.name}: {task.help}")
    show(f"{len(data.train)} training and {len(data.test)} held-out examples; "
         + (f"parameters from {load}" if load else f"{epochs} epochs, lr {lr}, batch size "
            f"{batch_size}, seed {seed}"))
    history = []
    if load is not None:
        read_parameters(load, model, task.name)
    else:
        history = fit(task, model, data, epochs=epochs, lr=lr, batch_size=batch_size, rng=rng, show=show)
        show("")
        show(report.table(["epoch", "training loss", f"held-out {task.metric}", "seconds"],
                          [(e.number, e.loss, e.metric, e.seconds) for e in history]))
    predictions = task.predict(outputs_of(model, data.test))
    metrics = task.evaluate(predictions, data)
    show("")
    show(report.table(["held-out metric", "value"], list(metrics.items())))
    for line in task.report(predictions, data):
        show(line)
    files = [] if load is not None else save(task, model, data, history, predictions, out, show)
    return Result(history, metrics, files)


def save(task: Task, model: Module, data: Data, history: list[Epoch], predictions: np.ndarray,
         out: Path, show: Callable[[str], None]) -> list[Path]:
    """Write the parameters and the plots of a training run into ``out``."""
    from . import report

    out.mkdir(parents=True, exist_ok=True)
    files = [out / f"{task.stem}.npz"]
    np.savez(files[0], **model.state_dict())
    try:
        import matplotlib  # noqa: F401 - only to know whether plots can be drawn
    except ImportError:
        show("plots skipped: matplotlib is not installed (pip install 'chainrule[plot]')")
    else:
        files.append(report.plot_history(history, f"{task.stem}: {task.help}", task.metric,
                                         out / f"{task.stem}.png", task.baseline(data)))
        if task.image_shape is not None:
            files.append(report.plot_misclassified(
                data.test.inputs[0], task.image_shape, data.test.targets, predictions, task.class_names,
                out / f"{task.stem}-misclassified.png"))
    show("saved: " + ", ".join(str(f) for f in files))
    return files
