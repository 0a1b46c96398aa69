"""What a training run shows and writes: text tables (:func:`table`, the package's one
table formatter), the loss/metric plot and a grid of misclassified images. Plots need
matplotlib (drawn off-screen, with no window).

Every file a run writes goes through :func:`write_atomically`, so a file on disk is
always whole: the one from before the run, or the new one.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np

from chainrule.tables import text_table as table


def write_atomically(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write the file ``path`` whole or not at all, and return it.

    ``write`` fills a new file in the same folder (so on the same file system), which is
    flushed to disk and then renamed over ``path`` by ``os.replace``, one step that
    cannot be seen half done. A full disk, an error or a crash part-way leaves the old
    ``path`` as it was; a write that fails removes its temporary file.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # "x": never another file's name; the mode comes from the umask. Opened outside the try, so
    # that a failed open never removes a file this call did not make.
    file = open(temporary, "xb")  # noqa: SIM115 - closed by the `with` below
    try:
        with file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written into ``folder``, or None when they can.

    The folder need not exist yet: its nearest existing ancestor must be a folder that
    takes a new file. The check writes (and removes) a file rather than reading
    permission bits, which root ignores and which say nothing of a read-only disk.
    """
    existing = folder
    try:
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir():
            return f"{existing} is not a folder"
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as e:
        return f"cannot write into {existing}: {e.strerror or e}"
    return None


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: entry [i, j] is how many examples of class i were predicted j."""
    return np.bincount(truth * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def confusion_table(truth: np.ndarray, predicted: np.ndarray, class_names: Sequence[str]) -> str:
    """The confusion matrix as text: one row per true class (numbered and named), one column
    per predicted class (numbered), and each class's recall at the end of its row."""
    counts = confusion_matrix(truth, predicted, len(class_names))
    recall = np.diag(counts) / np.maximum(counts.sum(axis=1), 1)
    rows = [
        (name if name == str(i) else f"{i} {name}", *map(int, row), float(r))
        for i, (name, row, r) in enumerate(zip(class_names, counts, recall))
    ]
    return table(["true \\ predicted", *map(str, range(len(class_names))), "recall"], rows, digits=3)


def _figure(width: float, height: float):
    """A matplotlib Figure on the Agg canvas (no GUI, no global pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def plot_history(
    history, title: str, metric: str, path: Path, baseline: tuple[str, float] | None = None
) -> Path:
    """Three panels per epoch, saved as a PNG: the training loss, the held-out metric (a
    ``(name, value)`` baseline drawn as a dashed line beside it) and, on a log scale, each
    parameter's gradient norm (the mean over the epoch's batches), one line per layer."""
    fig = _figure(15, 4.2)
    epochs = [e.number for e in history]
    curves = (
        ([e.loss for e in history], "training loss"),
        ([e.metric for e in history], f"held-out {metric}"),
    )
    for k, (values, label) in enumerate(curves):
        ax = fig.add_subplot(1, 3, k + 1)
        ax.plot(epochs, values, marker="o")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    if baseline is not None:
        ax.axhline(baseline[1], linestyle="--", color="gray", label=f"{baseline[0]}: {baseline[1]:.4f}")
        ax.legend()
    ax = fig.add_subplot(1, 3, 3)
    names = list(history[0].gradient_norms) if history else []
    for name in names:
        values = [e.gradient_norms[name] for e in history]
        if any(v > 0 for v in values):
            ax.plot(epochs, values, marker=".", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean gradient norm ‖∂loss/∂p‖ per batch")
    ax.grid(alpha=0.3, which="both")
    if names:
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return write_png(fig, path)


def plot_misclassified(
    images: np.ndarray,
    image_shape: tuple[int, int],
    truth: np.ndarray,
    predicted: np.ndarray,
    class_names: Sequence[str],
    path: Path,
    count: int = 25,
) -> Path:
    """Up to ``count`` held-out images the model got wrong, each titled true → predicted."""
    wrong = np.flatnonzero(truth != predicted)[:count]
    side = max(1, int(np.ceil(np.sqrt(len(wrong)))))
    fig = _figure(2 * side, 2.2 * side)
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(side, side, k + 1)
        ax.imshow(images[i].reshape(image_shape), cmap="gray_r")
        ax.set_title(f"{class_names[truth[i]]} → {class_names[predicted[i]]}", fontsize=8)
        ax.axis("off")
    fig.suptitle(
        f"misclassified: {int(np.sum(truth != predicted))} of {len(truth)} held out (true → predicted)"
    )
    fig.tight_layout()
    return write_png(fig, path)


def write_png(fig, path: Path) -> Path:
    """Save the figure ``fig`` as a PNG at ``path`` (whole or not at all)."""
    return write_atomically(path, lambda file: fig.savefig(file, format="png", dpi=100))
