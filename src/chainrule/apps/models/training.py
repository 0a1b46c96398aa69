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

A run never destroys a model: the ``out`` folder is checked before the data is loaded,
a loss that becomes NaN or infinite stops the run at that step with nothing saved, and
each file is replaced whole or not at all. A ``--load`` file is checked header by header
before any of its arrays is read.

With a process group of :mod:`chainrule.distributed` (``--distributed`` under ``mpiexec -n
N``) the run is data-parallel: the model is wrapped in ``DistributedDataParallel``, each
process takes ``batch_size / N`` examples of every global batch from its
``DistributedSampler`` shard, and only rank 0 prints and writes. A failure while loading,
building or saving on any rank stops every rank with an error, never leaving the others
waiting in a collective.
"""

from __future__ import annotations

import copy
import math
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.lib import format as npy

from chainrule.mode import no_grad
from chainrule.nn import Module
from chainrule.nn import functional as F
from chainrule.optim import Adam, Optimizer
from chainrule.sparse import RowSparse
from chainrule.tensor import Tensor

if TYPE_CHECKING:
    from chainrule.distributed import ProcessGroup

_T = TypeVar("_T")


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


_TaskT = TypeVar("_TaskT", bound="Task")


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

    def configure(self: _TaskT, **options: Any) -> _TaskT:
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
    # Distributed training: the part of ``seconds`` spent exchanging gradients, and by how many.
    communication_seconds: float | None = None
    processes: int = 1


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
        parts = [
            model(*split.take(slice(i, i + batch_size)).inputs).numpy()
            for i in range(0, len(split), batch_size)
        ]
    return np.concatenate(parts)


# A step that overflows is reported once, by the finiteness check on its loss, instead of
# by a NumPy warning from each op on the way.
@np.errstate(over="ignore", invalid="ignore", divide="ignore")
def fit(
    task: Task,
    model: Module,
    data: Data,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    rng: np.random.Generator,
    show: Callable[[str], None] = print,
    group: ProcessGroup | None = None,
    seed: int = 0,
) -> list[Epoch]:
    """Train ``model`` for ``epochs`` epochs; returns the history (loss, held-out metric).

    A loss that is NaN or infinite stops the run at that step (a :class:`TrainingError`).

    Each epoch's order is ``DistributedSampler(n, seed=seed)``'s (``rng`` orders nothing).
    With ``group``, ``model`` is a ``DistributedDataParallel`` and ``batch_size`` the global
    batch (a multiple of ``group.size``): step k of rank r takes the examples k·b … (k+1)·b − 1
    of its shard (b = batch_size / size), so the ranks together take the global batches one
    process takes.
    Every rank returns the same history, whose losses are means over all ranks' examples;
    only rank 0 shows progress. A non-finite loss stops every rank alike: at the step when
    the averaged gradients are no longer finite, else at the end of the epoch.
    """
    from chainrule.distributed import DistributedDataParallel, DistributedSampler, ProcessGroup

    n = len(data.train)
    network, ddp, local = model, None, batch_size
    # The epochs' orders come from the sampler, alone or data-parallel alike, so that N
    # processes take the global batches one process takes.
    sampler = DistributedSampler(n, shuffle=True, seed=seed, group=group or ProcessGroup.alone())
    if group is not None:
        if not isinstance(model, DistributedDataParallel):
            raise TypeError(f"fit: with a group, model must be a DistributedDataParallel, not {type(model)}")
        ddp, network = model, model.module  # the network's names, without the wrapper's "module."
        local = local_batch_size(batch_size, group.size)
        if group.rank != 0:
            show = quiet
    optimizer = task.optimizer(model.parameters(), lr)
    parameters = list(network.named_parameters())
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        communicated = 0.0 if ddp is None else ddp.stats["communication_s"]
        total = 0.0
        seen = 0  # examples of this process so far in the epoch
        unfinished = 0.0  # distributed: 1 when this rank's loss was not finite at some step
        norms = np.zeros(len(parameters))
        sampler.set_epoch(epoch)
        order = sampler.indices()
        batches = -(-len(order) // local)
        bar = ProgressBar(batches, f"epoch {epoch}/{epochs}", visible=group is None or group.rank == 0)
        try:
            for step, first in enumerate(range(0, len(order), local), start=1):
                batch = data.train.take(order[first : first + local])
                loss = task.loss(model(*batch.inputs), batch.targets)
                value = loss.item()
                if not math.isfinite(value):
                    if group is None:
                        # Every later step would only carry the NaN into every weight.
                        raise TrainingError(
                            f"the training loss became {value} at epoch {epoch}, step {step}; "
                            f"try a smaller --lr (now {lr:g})"
                        )
                    # The other ranks do not know yet: stopping here would leave them waiting for
                    # this rank's gradients. The averaged gradients below, or the end of the
                    # epoch, stop every rank together.
                    unfinished = 1.0
                optimizer.zero_grad()
                loss.backward()
                step_norms = [gradient_norm(p.grad) for _, p in parameters]
                if group is not None and not all(map(math.isfinite, step_norms)):
                    # The averaged gradients are the same on every rank, so every rank stops here.
                    what = (
                        f"the training loss became {value}"
                        if not math.isfinite(value)
                        else f"the gradients averaged over the {group.size} processes became "
                        f"{'nan' if any(map(math.isnan, step_norms)) else 'inf'}"
                    )
                    raise TrainingError(
                        f"{what} at epoch {epoch}, step {step}; try a smaller --lr (now {lr:g})"
                    )
                norms += step_norms
                optimizer.step()
                total += value * len(batch)
                seen += len(batch)
                bar.step(total / seen)
        finally:
            bar.close()
        loss_mean = total / n
        communication = None
        if ddp is not None:
            # One exchange an epoch, not one a step: the sums of every rank's losses and examples.
            sums = np.array([total, seen, unfinished])
            ddp.group.comm.Allreduce(ddp.group.MPI.IN_PLACE, sums, op=ddp.group.MPI.SUM)
            if sums[2] or not math.isfinite(sums[0]):
                raise TrainingError(
                    f"the training loss became {sums[0] / sums[1]} on {int(sums[2])} of the {ddp.group.size} "
                    f"processes in epoch {epoch}; try a smaller --lr (now {lr:g})"
                )
            loss_mean = float(sums[0] / sums[1])
            communication = ddp.stats["communication_s"] - communicated
        seconds = time.perf_counter() - start
        metric = task.evaluate(task.predict(outputs_of(network, data.test)), data)[task.metric]
        history.append(
            Epoch(
                epoch,
                loss_mean,
                metric,
                seconds,
                {name: float(v) / batches for (name, _), v in zip(parameters, norms)},
                communication,
                1 if group is None else group.size,
            )
        )
        show(
            f"epoch {epoch}/{epochs}: training loss {loss_mean:.4f}, held-out {task.metric} "
            f"{metric:.4f} ({seconds:.1f} s"
            + ("" if communication is None else f", {communication:.1f} s communicating")
            + ")"
        )
    return history


def quiet(line: str) -> None:
    """A ``show`` that shows nothing (the ranks other than 0)."""


def local_batch_size(batch_size: int, processes: int) -> int:
    """Each process's share of a global batch; an :class:`UnusableBatchSize` unless
    ``batch_size`` is a multiple of ``processes`` (equal shares make the mean of the ranks'
    gradients the gradient of the global batch)."""
    if batch_size % processes:
        raise UnusableBatchSize(
            f"the batch size {batch_size} is not a multiple of the {processes} processes, "
            f"which take equal shares of every batch"
        )
    return batch_size // processes


def gradient_norm(grad) -> float:
    """‖grad‖ (Frobenius); 0 for no gradient. A row-sparse gradient's norm is its rows' norm."""
    if grad is None:
        return 0.0
    return float(np.linalg.norm(grad.values if isinstance(grad, RowSparse) else grad.data))


class ProgressBar:
    """tqdm's bar with the running loss when tqdm is installed; silent otherwise (the
    per-epoch line is printed either way), and silent when not ``visible``."""

    def __init__(self, total: int, description: str, visible: bool = True) -> None:
        self.bar = None
        if not visible:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            self.bar = tqdm(total=total, desc=description, unit="batch", leave=False, dynamic_ncols=True)

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


class UnusableFolder(TrainingError):
    """The ``out`` folder cannot take the run's files (found before any data is loaded)."""


class UnusableBatchSize(TrainingError):
    """A distributed run's batch size cannot be shared equally by the processes (found
    before any data is loaded and before any exchange between them)."""


# The readers of the .npy header versions a plain array is saved with (3.0 only adds
# UTF-8 field names of structured dtypes, which no parameter has).
NPY_HEADER_READERS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
# What zipfile and numpy raise on a file that is missing, not a zip, damaged or unsupported
# (zipfile: NotImplementedError for an unknown compression, RuntimeError for encryption).
UNREADABLE = (
    OSError,
    EOFError,
    ValueError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)


def npy_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an .npz member declares, read from its .npy header alone.

    A ValueError names the member when it is not a plain array (Python objects, which
    would have to be unpickled) or when its header declares more bytes than it holds.
    """
    with archive.open(member) as file:
        version = npy.read_magic(file)
        if version not in NPY_HEADER_READERS:
            raise ValueError(f"{member.filename} has .npy format version {version}, not 1.0 or 2.0")
        shape, _, dtype = NPY_HEADER_READERS[version](file)
        held = member.file_size - file.tell()
    if dtype.hasobject:
        raise ValueError(f"{member.filename} holds Python objects (dtype {dtype}), which are never unpickled")
    declared = math.prod(shape) * dtype.itemsize
    if declared > held:
        raise ValueError(
            f"{member.filename} is damaged: its header declares {dtype} {shape}, "
            f"{declared:,} bytes, but it holds {held:,}"
        )
    return shape, dtype


def read_parameters(path: Path, model: Module, name: str) -> None:
    """Load parameters saved by a run (an .npz of the state dict) into ``model``.

    An .npz is a zip archive with one .npy member per parameter, each a short header (dtype
    and shape) and then the raw numbers. The member names, then every header, are checked
    against the model's parameters before any array is read, so a file that is damaged,
    truncated, foreign or declares an absurd size is refused without allocating it; Python
    objects are never unpickled. Every refusal is a :class:`TrainingError` naming the file.
    """
    foreign = f"{path} does not hold the parameters of {name}"
    try:
        with zipfile.ZipFile(path) as archive:
            state = {}
            for key, member in matching_members(archive, model, foreign).items():
                with archive.open(member) as file:
                    state[key] = npy.read_array(file, allow_pickle=False)
    except UNREADABLE as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else e
        raise TrainingError(f"cannot read saved parameters from {path}: {reason}") from None
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as e:
        raise TrainingError(f"{foreign}: {e}") from None


def matching_members(archive: zipfile.ZipFile, model: Module, foreign: str) -> dict[str, zipfile.ZipInfo]:
    """Parameter name → the archive's member holding it, once the names and every header
    (shape and dtype) match ``model``'s parameters; otherwise a :class:`TrainingError`
    that starts with ``foreign`` (or, for a damaged member, :func:`npy_header`'s ValueError)."""
    parameters = {key: p.data for key, p in model.named_parameters()}
    members = {m.filename.removesuffix(".npy"): m for m in archive.infolist()}
    missing, unexpected = sorted(parameters.keys() - members), sorted(members.keys() - parameters)
    if missing or unexpected:
        raise TrainingError(f"{foreign}: missing {missing}, unexpected {unexpected}")
    for key, member in members.items():
        shape, dtype = npy_header(archive, member)
        if (shape, dtype) != (parameters[key].shape, parameters[key].dtype):
            raise TrainingError(
                f"{foreign}: {key} is {dtype} {shape} in the file but "
                f"{parameters[key].dtype} {parameters[key].shape} in the model"
            )
    return members


def run(
    task: Task,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    out: Path = Path("out"),
    load: Path | None = None,
    show: Callable[[str], None] = print,
    group: ProcessGroup | None = None,
) -> Result:
    """Train ``task`` (or, with ``load``, evaluate saved parameters) and report.

    Unset settings take the task's defaults. A training run writes ``<stem>.npz`` (the
    state dict), ``<stem>.png`` (loss, held-out metric and gradient norms per epoch) and,
    for images, ``<stem>-misclassified.png`` into ``out``. A :class:`TrainingError` stops
    the run with a one-line reason: an ``out`` that cannot be written
    (:class:`UnusableFolder`, before the data is loaded), a loss that is no longer finite
    (nothing is saved), a ``load`` file that is not this model's.

    With ``group`` (from ``chainrule.distributed.init()``, on every process of the group)
    the training is data-parallel (see :func:`fit`); ``batch_size`` is the global batch and
    must be a multiple of the group's size (else :class:`UnusableBatchSize` on every rank,
    before any exchange). Rank 0 alone checks ``out``, shows and writes; every rank returns
    the same history and metrics, and the files rank 0 wrote. The metrics table adds the
    number of processes and each epoch's seconds of computing and of communicating.
    """
    from . import report

    epochs = task.epochs if epochs is None else epochs
    lr = task.lr if lr is None else lr
    batch_size = task.batch_size if batch_size is None else batch_size
    for setting, value in {"epochs": epochs, "lr": lr, "batch_size": batch_size}.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"run: {setting} must be a finite number > 0, got {value}")
    if group is not None and load is None:
        local_batch_size(batch_size, group.size)  # every rank refuses alike, before any exchange
    writer = group is None or group.rank == 0
    if not writer:
        show = quiet

    def start() -> tuple[Data, np.random.Generator, Module]:
        if load is None and writer and (problem := report.folder_problem(out)):
            raise UnusableFolder(f"cannot save into {out}: {problem}")
        data = task.load()
        rng = np.random.default_rng(seed)
        return data, rng, task.build(data, rng)

    data, rng, model = start() if group is None else together(group, start)
    show(f"{task.name}: {task.help}")
    show(
        f"{len(data.train)} training and {len(data.test)} held-out examples; "
        + (
            f"parameters from {load}"
            if load
            else f"{epochs} epochs, lr {lr}, batch size {batch_size}, seed {seed}"
        )
        + ("" if group is None else f"; {group.size} process{'es' if group.size > 1 else ''}")
        + ("" if group is None or load else f", {batch_size // group.size} examples each a step")
    )
    history = []
    if load is not None:
        if group is None:
            read_parameters(load, model, task.name)
        else:
            together(group, lambda: read_parameters(load, model, task.name))
    else:
        trained = model
        if group is not None:
            from chainrule.distributed import DistributedDataParallel

            # The layers keep this generator for their dropout masks: one stream per rank, or
            # every rank would drop the same units of its k-th example.
            rng.bit_generator.state = np.random.default_rng([seed, group.rank]).bit_generator.state
            trained = DistributedDataParallel(model, group=group)
        history = fit(
            task,
            trained,
            data,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            rng=rng,
            show=show,
            group=group,
            seed=seed,
        )
        show("")
        show(history_table(task, history, distributed=group is not None))
    predictions = task.predict(outputs_of(model, data.test))
    metrics = task.evaluate(predictions, data)
    show("")
    show(report.table(["held-out metric", "value"], list(metrics.items())))
    for line in task.report(predictions, data):
        show(line)
    files: list[Path] = []
    if load is None:
        if group is None:
            files = save(task, model, data, history, predictions, out, show)
        else:

            def write() -> list[Path]:
                return save(task, model, data, history, predictions, out, show) if writer else []

            files = group.comm.bcast(together(group, write), root=0)
    return Result(history, metrics, files)


def history_table(task: Task, history: list[Epoch], distributed: bool = False) -> str:
    """The per-epoch table: training loss, held-out metric and seconds; ``distributed`` adds
    the seconds spent computing and communicating, and the number of processes."""
    from . import report

    headers = ["epoch", "training loss", f"held-out {task.metric}", "seconds"]
    rows: list[tuple[object, ...]] = [(e.number, e.loss, e.metric, e.seconds) for e in history]
    if distributed:
        headers += ["computing s", "communicating s", "processes"]
        rows = [
            (*row, e.seconds - (e.communication_seconds or 0.0), e.communication_seconds or 0.0, e.processes)
            for row, e in zip(rows, history)
        ]
    return report.table(headers, rows)


def together(group: ProcessGroup, work: Callable[[], _T]) -> _T:
    """``work()`` on every rank of ``group``, then one exchange of how it went: when it failed
    anywhere, every rank raises (a failed rank its own exception, the others one naming the
    first failed rank: of its class when it is a :class:`TrainingError`, so that every rank
    exits with the same status, else a TrainingError). A rank that stopped alone would leave
    the others waiting in their next collective for ever."""
    try:
        result = work()
    except Exception as error:
        kind = type(error) if isinstance(error, TrainingError) else TrainingError
        group.comm.allgather((kind, " ".join(str(error).split()) or type(error).__name__))
        raise
    failures = group.comm.allgather(None)
    for rank, failure in enumerate(failures):
        if failure is not None:
            kind, message = failure
            raise kind(f"process {rank} of {group.size} stopped: {message}")
    return result


def save(
    task: Task,
    model: Module,
    data: Data,
    history: list[Epoch],
    predictions: np.ndarray,
    out: Path,
    show: Callable[[str], None],
) -> list[Path]:
    """Write the parameters and the plots of a training run into ``out``, each file whole or
    not at all (a failed write leaves the file from before and is a :class:`TrainingError`)."""
    from . import report

    state = model.state_dict()
    try:
        out.mkdir(parents=True, exist_ok=True)
        # NumPy's stubs let ** reach savez's allow_pickle; the names here are parameter names.
        files = [report.write_atomically(out / f"{task.stem}.npz", lambda file: np.savez(file, **state))]  # type: ignore[arg-type]
        files += plot(task, data, history, predictions, out, show)
    except OSError as e:
        raise TrainingError(f"cannot save into {out}: {e}") from None
    show("saved: " + ", ".join(str(f) for f in files))
    return files


def plot(
    task: Task,
    data: Data,
    history: list[Epoch],
    predictions: np.ndarray,
    out: Path,
    show: Callable[[str], None],
) -> list[Path]:
    """Draw the run's plots into ``out`` when matplotlib is installed; the files written."""
    from . import report

    try:
        import matplotlib  # noqa: F401 - only to know whether plots can be drawn
    except ImportError:
        show("plots skipped: matplotlib is not installed (pip install 'chainrule[plot]')")
        return []
    files = [
        report.plot_history(
            history, f"{task.stem}: {task.help}", task.metric, out / f"{task.stem}.png", task.baseline(data)
        )
    ]
    if task.image_shape is not None:
        files.append(
            report.plot_misclassified(
                data.test.inputs[0],
                task.image_shape,
                data.test.targets,
                predictions,
                task.class_names,
                out / f"{task.stem}-misclassified.png",
            )
        )
    return files
