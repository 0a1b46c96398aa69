"""What a training run shows: text tables, the loss/metric plot and a grid of
misclassified images. Plots need matplotlib (drawn off-screen, with no window)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def table(headers: Sequence[str], rows: Sequence[Sequence], digits: int = 4) -> str:
    """A plain-text table: text left-aligned, numbers right-aligned (floats to ``digits``)."""
    cells = [[f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[k]) for r in cells)) for k, h in enumerate(headers)]
    left = [bool(rows) and isinstance(rows[0][k], str) for k in range(len(headers))]

    def line(values):
        return "  ".join(v.ljust(w) if lf else v.rjust(w) for v, w, lf in zip(values, widths, left))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _figure(width: float, height: float):
    """A matplotlib Figure on the Agg canvas (no GUI, no global pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def plot_history(history, title: str, metric: str, path: Path,
                 baseline: tuple[str, float] | None = None) -> Path:
    """Training loss and the held-out metric per epoch, side by side, saved as a PNG; a
    ``(name, value)`` baseline is drawn as a dashed line beside the metric."""
    fig = _figure(10, 4)
    epochs = [e.number for e in history]
    curves = (([e.loss for e in history], "training loss"),
              ([e.metric for e in history], f"held-out {metric}"))
    for k, (values, label) in enumerate(curves):
        ax = fig.add_subplot(1, 2, k + 1)
        ax.plot(epochs, values, marker="o")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    if baseline is not None:
        ax.axhline(baseline[1], linestyle="--", color="gray", label=f"{baseline[0]}: {baseline[1]:.4f}")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def plot_misclassified(images: np.ndarray, image_shape: tuple[int, int], truth: np.ndarray,
                       predicted: np.ndarray, class_names: Sequence[str], path: Path,
                       count: int = 25) -> Path:
    """Up to ``count`` held-out images the model got wrong, each titled true → predicted."""
    wrong = np.flatnonzero(truth != predicted)[:count]
    side = max(1, int(np.ceil(np.sqrt(len(wrong)))))
    fig = _figure(2 * side, 2.2 * side)
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(side, side, k + 1)
        ax.imshow(images[i].reshape(image_shape), cmap="gray_r")
        ax.set_title(f"{class_names[truth[i]]} → {class_names[predicted[i]]}", fontsize=8)
        ax.axis("off")
    fig.suptitle(f"misclassified: {int(np.sum(truth != predicted))} of {len(truth)} held out "
                 "(true → predicted)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
