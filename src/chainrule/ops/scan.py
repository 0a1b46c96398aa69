"""Scans (running sums and products, differences) and diagonal and triangular selections.

All but cumprod are linear, so each entry states its transpose. As in ``shape.py``, each
forward acts on the trailing axes of its input (axes are made negative when the op is
recorded), so the same forward runs on tangents that carry leading batch axes.
"""

from __future__ import annotations

import math
import string

import numpy as np

from .core import OPS, Sample, device_of, general, linear
from .shape import check_axis, distinct_axes


def _negative(name, axis, shape) -> int:
    return check_axis(name, axis, len(shape), shape) - len(shape)


def _scan_prepare(name):
    """``axis`` as a negative int, or None (the scan runs over the flattened input)."""

    def prepare(a, axis=None):
        shape = tuple(np.shape(a))
        if axis is not None:
            if not shape:
                raise ValueError(f"{name}: axis {axis} is out of range for a 0-d tensor")
            axis = _negative(name, axis, shape)
        return {"axis": axis, "in_shape": shape}

    return prepare


def _flat(v, axis, in_shape, xp):
    """v (with leading batch axes) as it is scanned: flattened for axis None, and the axis."""
    if axis is None:
        return xp.reshape(v, v.shape[: v.ndim - len(in_shape)] + (math.prod(in_shape),)), -1
    return v, axis


def _unflat(v, axis, in_shape, xp):
    """The inverse of :func:`_flat` for a result shaped like the scanned lines."""
    return v if axis is not None else xp.reshape(v, v.shape[:-1] + in_shape)


def _cumsum(xp, x, axis, in_shape):
    lines, ax = _flat(x, axis, in_shape, xp)
    return xp.cumulative_sum(lines, axis=ax)


def _reverse_cumsum(g, xp, axis):
    """Σ over j ≥ i of g_j along ``axis``: a running sum taken from the end."""
    flip = OPS["flip"]
    return xp.apply(
        flip, xp.apply(OPS["cumsum"], xp.apply(flip, g, axes=(axis,)), axis=axis, in_shape=()), axes=(axis,)
    )


def _cumsum_transpose(g, xp, axis, in_shape):
    return _unflat(_reverse_cumsum(g, xp, -1 if axis is None else axis), axis, in_shape, xp)


SCAN_SAMPLES = [
    Sample(((),)),
    Sample(((2, 3),)),
    Sample(((2, 3),), {"axis": 0}),
    Sample(((2, 3, 4),), {"axis": -1}),
]


# out_i = Σ_{j ≤ i} x_j, so the transpose sums g over j ≥ i: the running sum, reversed.
linear(
    "cumsum",
    _cumsum,
    transpose=_cumsum_transpose,
    prepare=_scan_prepare("cumsum"),
    reference=np.cumsum,
    samples=SCAN_SAMPLES,
)


def _cumprod_prepare(a, axis=None):
    values = a if isinstance(a, np.ndarray) else getattr(a, "data", a)  # a Tensor's array
    if np.any(np.asarray(values) == 0):
        raise ValueError(
            "cumprod: the input has a zero; its derivative rule divides by the elements, so "
            "cumprod accepts only inputs without zeros"
        )
    return _scan_prepare("cumprod")(a, axis)


def _cumprod(xp, x, axis, in_shape):
    lines, ax = _flat(x, axis, in_shape, xp)
    return xp.cumulative_prod(lines, axis=ax)


# out_i = Π_{j ≤ i} x_j, so ∂out_i/∂x_j = out_i / x_j for j ≤ i (no zeros in x):
# VJP: (Σ_{i ≥ j} g_i out_i) / x_j; JVP: out_i Σ_{j ≤ i} t_j / x_j.
def _cumprod_vjp(g, xs, out, xp, needs, axis, in_shape):
    x, ax = _flat(xs[0], axis, in_shape, xp)
    r = _reverse_cumsum(g * out, xp, ax) / x
    return (_unflat(r, axis, in_shape, xp),)


def _cumprod_jvp(ts, xs, out, params, xp):
    axis, in_shape = params["axis"], params["in_shape"]
    x, ax = _flat(xs[0], axis, in_shape, xp)
    t, _ = _flat(ts[0], axis, in_shape, xp)
    return out * xp.apply(OPS["cumsum"], t / x, axis=ax, in_shape=())


general(
    "cumprod",
    _cumprod,
    _cumprod_vjp,
    _cumprod_jvp,
    saves=("xs", "out"),
    prepare=_cumprod_prepare,
    reads_values=True,
    domain=(0.5, 1.5),
    reference=np.cumprod,
    samples=SCAN_SAMPLES,
)


def _flip_prepare(m, axis=None):
    shape = tuple(np.shape(m))
    axes = range(len(shape)) if axis is None else distinct_axes("flip", axis, len(shape), shape)
    return {"axes": tuple(a - len(shape) for a in axes)}


# Reversing is a permutation that undoes itself: flip is its own transpose.
linear(
    "flip",
    lambda xp, x, axes: xp.flip(x, axis=axes),
    transpose=lambda g, xp, axes: xp.apply(OPS["flip"], g, axes=axes),
    prepare=_flip_prepare,
    reference=np.flip,
    samples=[Sample(((2, 3),)), Sample(((2, 3, 4),), {"axis": (0, 2)}), Sample(((3,),), {"axis": 0})],
)


def _diff_prepare(a, n=1, axis=-1):
    shape = tuple(np.shape(a))
    if not shape:
        raise ValueError("diff: needs a tensor with at least one axis, got a 0-d one")
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"diff: the order n must be a non-negative int, got {n!r}")
    return {"n": int(n), "axis": _negative("diff", axis, shape)}


def _diff_transpose(g, xp, n, axis):
    # One difference out_i = x_{i+1} − x_i sends g_i to x_{i+1} (+) and to x_i (−).
    for _ in range(n):
        edge = list(g.shape)
        edge[axis] = 1
        zero = xp.zeros(tuple(edge), dtype=g.dtype, device=device_of(g))
        g = xp.concat([zero, g], axis=axis) - xp.concat([g, zero], axis=axis)
    return g


linear(
    "diff",
    lambda xp, x, n, axis: xp.diff(x, n=n, axis=axis),
    transpose=_diff_transpose,
    prepare=_diff_prepare,
    reference=np.diff,
    samples=[Sample(((5,),)), Sample(((3, 4),), {"n": 2, "axis": 0}), Sample(((2, 3, 4),), {"axis": 1})],
)


def _roll_prepare(a, shift, axis=None):
    shape = tuple(np.shape(a))
    if axis is None:
        if not isinstance(shift, (int, np.integer)):
            raise TypeError(f"roll: with axis None, shift must be an int, got {shift!r}")
        return {"shift": (int(shift),), "axes": None, "in_shape": shape}
    pairs = np.broadcast(np.asarray(shift), np.asarray(axis))
    total: dict[int, int] = {}
    for s, ax in pairs:
        a_neg = _negative("roll", int(ax), shape)
        total[a_neg] = total.get(a_neg, 0) + int(s)
    return {"shift": tuple(total.values()), "axes": tuple(total), "in_shape": shape}


def _roll(xp, x, shift, axes, in_shape):
    if axes is not None:
        return xp.roll(x, shift, axis=axes)
    lines = xp.reshape(x, x.shape[: x.ndim - len(in_shape)] + (math.prod(in_shape),))
    return xp.reshape(xp.roll(lines, shift, axis=-1), x.shape)


# Rolling by s is undone by rolling by −s: that is its transpose.
linear(
    "roll",
    _roll,
    transpose=lambda g, xp, shift, axes, in_shape: xp.apply(
        OPS["roll"], g, shift=tuple(-s for s in shift), axes=axes, in_shape=in_shape
    ),
    prepare=_roll_prepare,
    reference=np.roll,
    samples=[
        Sample(((5,),), {"shift": 2}),
        Sample(((2, 3),), {"shift": 1}),
        Sample(((2, 3, 4),), {"shift": (1, -2), "axis": (0, 2)}),
    ],
)


def _diagonal_prepare(name):
    """Negative axes, and the 0/1 array that picks the diagonal: select[d, i, j] = 1 where
    (i, j) is its d-th element."""

    def prepare(a, offset=0, axis1=0, axis2=1):
        shape = tuple(np.shape(a))
        if len(shape) < 2:
            raise ValueError(f"{name}: needs a tensor with at least two axes, got shape {shape}")
        a1, a2 = (a - len(shape) for a in distinct_axes(name, (axis1, axis2), len(shape), shape))
        n1, n2 = shape[a1], shape[a2]
        rows = np.arange(max(0, -offset), min(n1, n2 - offset)) if -n1 < offset < n2 else np.arange(0)
        dtype = np.result_type(getattr(a, "dtype", np.float64))
        select = np.zeros((rows.size, n1, n2), dtype=dtype if dtype.kind == "f" else np.float64)
        select[np.arange(rows.size), rows, rows + offset] = 1
        params = {"offset": int(offset), "axis1": a1, "axis2": a2, "ndim": len(shape)}
        return {**params, "select": select.sum(axis=0) if name == "trace" else select}

    return prepare


def _spec(ndim, axis1, axis2, trace):
    """einsum subscripts that put g's entries back on the diagonal of a tensor of ``ndim`` axes."""
    letters = string.ascii_letters[:ndim]
    i, j = letters[axis1], letters[axis2]
    rest = "".join(c for c in letters if c not in (i, j))
    if trace:
        return f"...{rest},{i}{j}->...{letters}"
    return f"...{rest}z,z{i}{j}->...{letters}"


def _diagonal_transpose(g, xp, offset, axis1, axis2, ndim, select):
    return xp.einsum(_spec(ndim, axis1, axis2, trace=False), g, select)


def _trace_transpose(g, xp, offset, axis1, axis2, ndim, select):
    return xp.einsum(_spec(ndim, axis1, axis2, trace=True), g, select)


DIAGONAL_SAMPLES = [
    Sample(((3, 3),)),
    Sample(((3, 4),), {"offset": 1}),
    Sample(((2, 3, 4),), {"offset": -1, "axis1": 1, "axis2": 2}),
    Sample(((3, 2, 4),), {"axis1": 2, "axis2": 0}),
]


def _matrices(xp, x, axis1, axis2):
    """x with its (negative) axes axis1 and axis2 moved last, in that order, the others kept
    in order: the matrices whose diagonals the standard's linalg functions read."""
    if (axis1, axis2) == (-2, -1):
        return x
    others = [i for i in range(x.ndim) if i - x.ndim not in (axis1, axis2)]
    return xp.permute_dims(x, (*others, x.ndim + axis1, x.ndim + axis2))


def _diagonal(xp, x, offset, axis1, axis2, ndim, select):
    return xp.linalg.diagonal(_matrices(xp, x, axis1, axis2), offset=offset)


def _trace(xp, x, offset, axis1, axis2, ndim, select):
    return xp.linalg.trace(_matrices(xp, x, axis1, axis2), offset=offset)


# The diagonal is read off by ``select``; the transpose writes g back through it.
linear(
    "diagonal",
    _diagonal,
    transpose=_diagonal_transpose,
    prepare=_diagonal_prepare("diagonal"),
    reference=np.diagonal,
    samples=DIAGONAL_SAMPLES,
)
# trace is the diagonal summed: its transpose puts g at every place of the diagonal.
linear(
    "trace",
    _trace,
    transpose=_trace_transpose,
    prepare=_diagonal_prepare("trace"),
    reference=np.trace,
    samples=DIAGONAL_SAMPLES,
)


def _triangle_prepare(name):
    def prepare(m, k=0):
        if np.ndim(m) < 2:
            raise ValueError(f"{name}: needs a tensor with at least two axes, got shape {np.shape(m)}")
        return {"k": int(k)}

    return prepare


# Keeping a triangle multiplies by a 0/1 mask, which is symmetric: each is its own transpose.
linear(
    "tril",
    lambda xp, x, k: xp.tril(x, k=k),
    transpose=lambda g, xp, k: xp.apply(OPS["tril"], g, k=k),
    prepare=_triangle_prepare("tril"),
    reference=np.tril,
    samples=[Sample(((3, 3),)), Sample(((2, 3, 4),), {"k": -1}), Sample(((3, 4),), {"k": 1})],
)
linear(
    "triu",
    lambda xp, x, k: xp.triu(x, k=k),
    transpose=lambda g, xp, k: xp.apply(OPS["triu"], g, k=k),
    prepare=_triangle_prepare("triu"),
    reference=np.triu,
    samples=[Sample(((3, 3),)), Sample(((2, 3, 4),), {"k": -1}), Sample(((3, 4),), {"k": 1})],
)
