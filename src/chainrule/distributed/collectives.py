"""All-reduce and all-gather as rows of the derivative table, so that they can sit inside a
differentiated function (as in mpi4jax).

Both are linear in the tensors of all ranks together, so each is declared by its transpose:

- ``all_reduce(x)`` = Σ_r x_r on every rank (or the mean, / size). The Jacobian of the sum
  with respect to rank r's input is the identity on every rank, so the VJP on rank r
  sums the cotangents of every rank: it is a sum-all-reduce again (the mean's is the mean);
- ``all_gather(x)`` = stack(x_0, …, x_{n−1}) on every rank, shape ``(size,) + x.shape``.
  Its VJP on rank r is Σ_s g_s[r], the r-th block of the summed cotangents: a
  reduce-scatter, declared as the row ``all_gather_transpose``, whose own transpose is
  ``all_gather``.

Like every linear row, the forwards take leading batch axes (stacked tangents or
cotangents), and the rules run on the recording namespace for higher derivatives.

The arrays cross between processes in :class:`~chainrule.distributed.group.ProcessGroup`'s
methods (MPI reads and writes host NumPy arrays); another array namespace's arrays (a GPU's)
are copied to the host and back around them.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> y = all_reduce(x * x, op="mean", group=ProcessGroup.alone())   # the mean of one is x²
>>> y.sum().backward(); x.grad
tensor([2., 4.])
"""

from __future__ import annotations

from ..backends import host
from ..ops import OPS
from ..ops.core import Sample, linear
from ..ops.xp import on_numpy
from ..reading import shape_of
from ..tensor import Tensor, TensorLike, apply
from .group import ProcessGroup, default_group

_ALONE = ProcessGroup.alone()  # the table's samples run on this process alone

__all__ = ["all_gather", "all_reduce"]


def _on_host(xp, exchange, x, *args):
    """``exchange(x, *args)``, a :class:`ProcessGroup` method on host NumPy arrays (MPI reads
    and writes host memory); another namespace's x is copied to the host explicitly and the
    result back to x's device."""
    if on_numpy(xp):
        return exchange(x, *args)
    return xp.asarray(exchange(host(x), *args), device=x.device)


def _all_reduce(xp, x, group, mean):
    return _on_host(xp, group.all_reduce_array, x, mean)


def _all_gather(xp, x, group, core):
    return _on_host(xp, group.all_gather_array, x, core)


def _reduce_scatter(xp, g, group, core):
    return _on_host(xp, group.reduce_scatter_array, g, core)


linear(
    "all_reduce",
    _all_reduce,
    transpose=lambda g, xp, group, mean: xp.apply(OPS["all_reduce"], g, group=group, mean=mean),
    samples=[
        Sample(((3,),), {"group": _ALONE, "mean": False}),
        Sample(((2, 3),), {"group": _ALONE, "mean": True}),
    ],
)
linear(
    "all_gather",
    _all_gather,
    transpose=lambda g, xp, group, core: xp.apply(OPS["all_gather_transpose"], g, group=group, core=core),
    samples=[Sample(((3,),), {"group": _ALONE, "core": 1}), Sample(((2, 3),), {"group": _ALONE, "core": 2})],
)
linear(
    "all_gather_transpose",
    _reduce_scatter,
    transpose=lambda g, xp, group, core: xp.apply(OPS["all_gather"], g, group=group, core=core),
    samples=[
        Sample(((1, 3),), {"group": _ALONE, "core": 1}),
        Sample(((1, 2, 3),), {"group": _ALONE, "core": 2}),
    ],
)


def all_reduce(tensor: TensorLike, op: str = "sum", group: ProcessGroup | None = None) -> Tensor:
    """The sum (``op="sum"``) or mean (``op="mean"``) of ``tensor`` over every rank, on every
    rank; differentiable (its VJP is the same all-reduce of the cotangents)."""
    if op not in ("sum", "mean"):
        raise ValueError(f"all_reduce: op must be 'sum' or 'mean', got {op!r}")
    return apply(OPS["all_reduce"], tensor, group=default_group(group), mean=op == "mean")


def all_gather(tensor: TensorLike, group: ProcessGroup | None = None) -> Tensor:
    """Every rank's ``tensor`` stacked in rank order, shape ``(size,) + tensor.shape``, on
    every rank; differentiable (its VJP sums the cotangents of this rank's block)."""
    return apply(OPS["all_gather"], tensor, group=default_group(group), core=len(shape_of(tensor)))
