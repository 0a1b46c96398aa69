"""Sorting and partitioning: permutations along an axis, and the integer results behind them.

Sorting x along an axis reads x at the positions ``order = argsort(x)``: out[i] = x[order[i]].
For a fixed ``order`` that is a linear map, a permutation, and the transpose of a permutation
is its inverse, so the gradient puts g[i] back at position order[i]: gx = g[inverse], with
``inverse = argsort(order)``. As getitem keeps its index, ``prepare`` computes the order from
the input once, at the call, and the row keeps it as a parameter; tangents and cotangents are
then moved by the same permutation. Partitioning is the same with ``argpartition``.

Ties: the order is NumPy's stable argsort, so equal elements keep their input order and the
k-th of a run of equal values in the output sends its gradient to the k-th of them in the
input (any one-to-one routing is a valid derivative where values tie; this one is
reproducible). NaNs sort last, as in NumPy, and route the same way.

argmax, argmin and argsort return integer positions: they have no derivative and no row,
only the checked NumPy calls at the end of this file.
"""

from __future__ import annotations

import numpy as np

from ..backends import namespace_of
from .core import OPS, Sample, linear
from .shape import check_axis


def _along(xp, order, x_ndim):
    """``order`` (shaped like one input) with the singleton axes that let it broadcast over the
    leading batch axes of a tangent or cotangent of ``x_ndim`` axes."""
    return xp.reshape(order, (1,) * (x_ndim - order.ndim) + order.shape) if x_ndim > order.ndim else order


def _permute(xp, x, order, inverse, axis):
    return xp.take_along_axis(x, _along(xp, order, x.ndim), axis=axis)


# out[i] = x[order[i]] along ``axis``; its transpose reads g at the inverse permutation.
linear(
    "permute_along_axis",
    _permute,
    transpose=lambda g, xp, order, inverse, axis: xp.apply(
        OPS["permute_along_axis"], g, order=inverse, inverse=order, axis=axis
    ),
    reference=lambda x, order, inverse, axis: np.take_along_axis(x, order, axis=axis),
    samples=[
        Sample(((3,),), {"order": np.array([2, 0, 1]), "inverse": np.array([1, 2, 0]), "axis": -1}),
        Sample(
            ((2, 3),),
            {
                "order": np.array([[1, 0, 1], [0, 1, 0]]),
                "inverse": np.array([[1, 0, 1], [0, 1, 0]]),
                "axis": -2,
            },
        ),
    ],
)


def _lines(xp, x, axis, in_shape):
    """x (with leading batch axes) as it is permuted: flattened for axis None, and the axis."""
    if axis is None:
        return xp.reshape(x, x.shape[: x.ndim - len(in_shape)] + (-1,)), -1
    return x, axis


def _permutation_prepare(name, positions):
    """Check ``axis`` and compute the permutation ``positions(lines, axis, **extra)`` and its
    inverse; for axis None the input is read flattened, as NumPy does."""

    def prepare(a, axis=-1, **extra):
        shape = tuple(np.shape(a))
        values = np.asarray(a)
        if axis is None:
            values, axis_used = values.reshape(-1), -1
        else:
            axis = axis_used = check_axis(name, axis, len(shape), shape) - len(shape)
        order = positions(values, axis_used, **extra)
        return {"order": order, "inverse": np.argsort(order, axis=axis_used), "axis": axis, "in_shape": shape}

    return prepare


def _sorted_order(values, axis):
    """The stable sorting order along ``axis``, computed by the values' own array library."""
    if type(values) is np.ndarray:
        return np.argsort(values, axis=axis, kind="stable")
    return namespace_of(values).argsort(values, axis=axis, stable=True)


def _partition_order(values, axis, kth):
    n = values.shape[axis]
    given = kth if isinstance(kth, (list, tuple, np.ndarray)) else [kth]
    for k in np.ravel(given):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"partition: kth must be an int or a sequence of ints, got {kth!r}")
        if not -n <= k < n:
            raise ValueError(f"partition: kth {int(k)} is out of range for an axis of length {n}")
    return np.argpartition(values, kth, axis=axis)


def _permuted(xp, x, order, inverse, axis, in_shape):
    lines, ax = _lines(xp, x, axis, in_shape)
    return _permute(xp, lines, order, inverse, ax)


def _unpermuted(g, xp, order, inverse, axis, in_shape):
    ax = -1 if axis is None else axis
    back = xp.apply(OPS["permute_along_axis"], g, order=inverse, inverse=order, axis=ax)
    if axis is None:
        return xp.reshape(back, back.shape[:-1] + in_shape)
    return back


SORT_SAMPLES = [
    Sample(((5,),)),
    Sample(((2, 3),), {"axis": 0}),
    Sample(((2, 3, 4),)),
    Sample(((2, 3),), {"axis": None}),
    Sample(((),), {"axis": None}),
]

# sort reads x at its stable argsort; the gradient goes back through the inverse permutation.
linear(
    "sort",
    _permuted,
    transpose=_unpermuted,
    prepare=_permutation_prepare("sort", _sorted_order),
    reads_values=True,
    reference=np.sort,
    samples=SORT_SAMPLES,
)
# partition reads x at its argpartition (the k-th smallest at position k, smaller ones before
# it, larger ones after); the gradient goes back through the inverse permutation.
linear(
    "partition",
    _permuted,
    transpose=_unpermuted,
    prepare=_permutation_prepare("partition", _partition_order),
    reads_values=True,
    reference=np.partition,
    samples=[
        Sample(((5,),), {"kth": 2}),
        Sample(((3, 4),), {"kth": (0, 2), "axis": 0}),
        Sample(((2, 5),), {"kth": -1}),
        Sample(((2, 3),), {"kth": 4, "axis": None}),
    ],
)


# ------------------------------------------------------------------ integer results (no derivative)
def arg_extreme(name: str, values: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    """The position of the largest (argmax) or smallest (argmin) element, as ``np.argmax`` /
    ``np.argmin`` give it: over the flattened input for axis None, else along one axis."""
    shape = values.shape
    if axis is not None:
        axis = check_axis(name, axis, len(shape), shape)
        if shape[axis] == 0:
            raise ValueError(f"{name}: cannot choose from an empty axis {axis} of a tensor of shape {shape}")
    elif values.size == 0:
        raise ValueError(f"{name}: cannot choose from an empty tensor of shape {shape}")
    xp = namespace_of(values)  # the values' own library computes it, where they are
    chosen = getattr(xp, name)(values, axis=axis, keepdims=bool(keepdims))
    return np.asarray(chosen) if xp is np else chosen


def sorting_positions(values: np.ndarray, axis=-1) -> np.ndarray:
    """``np.argsort(values, axis, kind="stable")`` (flattened for axis None): the order
    :func:`~chainrule.statistics.sort` reads its input in, so ties route as sort's gradient does."""
    if axis is None:
        return _sorted_order(namespace_of(values).reshape(values, (-1,)), -1)
    return _sorted_order(values, check_axis("argsort", axis, values.ndim, values.shape))
