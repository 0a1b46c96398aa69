"""Reductions over ``axis=None | int | tuple`` with ``keepdims``.

Axes are made negative when the op is recorded, so the same rule also runs on
stacked (batched) cotangents and tangents, whose extra axes lead.
"""

from __future__ import annotations

import math

import numpy as np

from .core import Sample, composite, general, linear
from .xp import max_along, sum_along

SAMPLES = [
    Sample(((),)),
    Sample(((3,),)),
    Sample(((2, 3),)),
    Sample(((2, 3),), {"axis": 0}),
    Sample(((2, 3),), {"axis": -1, "keepdims": True}),
    Sample(((2, 3, 4),), {"axis": (0, 2)}),
]


def reduce_prepare(name):
    """Check ``axis`` against x and make it a sorted tuple of negative axes."""

    def prepare(x, axis=None, keepdims=False, **extra):
        nd = np.ndim(x)
        if axis is None:
            axes = tuple(range(-nd, 0))
        else:
            given = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
            axes = tuple(sorted({_negative_axis(name, a, nd, np.shape(x)) for a in given}))
            if len(axes) != len(given):
                raise ValueError(f"{name}: repeated axis in {axis}")
        return {"axis": axes, "keepdims": bool(keepdims), "shape": tuple(np.shape(x)), **extra}

    return prepare


def _negative_axis(name, axis, ndim, shape):
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: axis must be an int or a tuple of ints, got {axis!r}")
    if not -ndim <= axis < max(ndim, 1) or ndim == 0:
        raise ValueError(f"{name}: axis {axis} is out of range for a tensor of shape {shape}")
    return int(axis) - ndim if axis >= 0 else int(axis)


def expand(g, axis, keepdims, shape, xp):
    """Put back the reduced axes of g as size-1 axes (g may carry leading batch axes)."""
    nb = g.ndim - (len(shape) - len(axis))
    if keepdims or g.ndim == nb == 0:  # a 0-d g broadcasts as it is
        return g
    kept = tuple(1 if i - len(shape) in axis else n for i, n in enumerate(shape))
    return xp.reshape(g, g.shape[:nb] + kept)


def _spread(g, axis, keepdims, shape, xp):
    g = expand(g, axis, keepdims, shape, xp)
    return xp.broadcast_to(g, g.shape[: g.ndim - len(shape)] + shape)


def _count(axis, shape):
    return math.prod(shape[a] for a in axis)


# sum is linear: its transpose copies g back over the reduced axes.
linear(
    "sum",
    lambda xp, x, axis, keepdims, shape: xp.sum(x, axis=axis, keepdims=keepdims),
    transpose=lambda g, xp, axis, keepdims, shape: _spread(g, axis, keepdims, shape, xp),
    prepare=reduce_prepare("sum"),
    samples=SAMPLES,
    reference=lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
)
linear(
    "mean",
    lambda xp, x, axis, keepdims, shape: xp.mean(x, axis=axis, keepdims=keepdims),
    transpose=lambda g, xp, axis, keepdims, shape: (
        _spread(g, axis, keepdims, shape, xp) / _count(axis, shape)
    ),
    prepare=reduce_prepare("mean"),
    samples=SAMPLES,
    floating=True,
    reference=lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
)


def _extreme(name, np_fn):
    def forward(xp, x, axis, keepdims, shape):
        if x.size == 0:
            raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
        reduce = xp.max if name == "max" else xp.min
        return reduce(x, axis=axis, keepdims=keepdims)

    def share(x, out, axis, keepdims, shape, xp):
        # The gradient goes to the selected element; tied elements share it evenly. A NaN
        # is what NumPy selects (it propagates), so the NaNs of a slice share its gradient
        # as ties do, as torch.max(x) routes it.
        hit = xp.astype(x == expand(out, axis, keepdims, shape, xp), x.dtype) + xp.astype(x != x, x.dtype)
        return hit / xp.sum(hit, axis=axis, keepdims=True)

    def vjp(g, xs, out, xp, needs, axis, keepdims, shape):
        return (expand(g, axis, keepdims, shape, xp) * share(xs[0], out, axis, keepdims, shape, xp),)

    def jvp(ts, xs, out, params, xp):
        w = share(xs[0], out, xp=xp, **params)
        return xp.sum(ts[0] * w, axis=params["axis"], keepdims=params["keepdims"])

    general(
        name,
        forward,
        vjp,
        jvp,
        saves=("xs", "out"),
        prepare=reduce_prepare(name),
        samples=SAMPLES,
        reference=lambda x, axis=None, keepdims=False: np_fn(x, axis=axis, keepdims=keepdims),
    )


_extreme("max", np.max)
_extreme("min", np.min)


def _prod_of_others(x, axis, xp):
    """∂prod/∂x_i = product of the other elements, exact even where x has zeros."""
    zero = x == 0
    nonzero = xp.where(zero, 1 + 0 * x, x)
    p = xp.prod(nonzero, axis=axis, keepdims=True)
    zeros = xp.sum(xp.astype(zero, x.dtype), axis=axis, keepdims=True)
    return xp.where(zero, p * xp.astype(zeros == 1, x.dtype), p / nonzero * xp.astype(zeros == 0, x.dtype))


def _prod_vjp(g, xs, out, xp, needs, axis, keepdims, shape):
    return (expand(g, axis, keepdims, shape, xp) * _prod_of_others(xs[0], axis, xp),)


def _prod_jvp(ts, xs, out, params, xp):
    axis = params["axis"]
    return xp.sum(ts[0] * _prod_of_others(xs[0], axis, xp), axis=axis, keepdims=params["keepdims"])


general(
    "prod",
    lambda xp, x, axis, keepdims, shape: xp.prod(x, axis=axis, keepdims=keepdims),
    _prod_vjp,
    _prod_jvp,
    saves="xs",
    prepare=reduce_prepare("prod"),
    samples=SAMPLES,
    reference=lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
)


def _logsumexp(xp, x, axis, keepdims, shape):
    if x.size == 0:
        raise ValueError(f"logsumexp: cannot reduce an empty tensor of shape {x.shape}")
    # Subtracting the max keeps exp from overflowing; an infinite max is left out.
    m = max_along(xp, x, axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    s = xp.log(sum_along(xp, xp.exp(x - m), axis, keepdims=True)) + m
    if keepdims:
        return s
    return xp.reshape(s, tuple(n for i, n in enumerate(s.shape) if i - s.ndim not in axis))


def _softmax_weights(x, out, axis, keepdims, shape, xp):
    return xp.exp(x - expand(out, axis, keepdims, shape, xp))


general(
    "logsumexp",
    _logsumexp,
    lambda g, xs, out, xp, needs, axis, keepdims, shape: (
        expand(g, axis, keepdims, shape, xp) * _softmax_weights(xs[0], out, axis, keepdims, shape, xp),
    ),
    lambda ts, xs, out, params, xp: xp.sum(
        ts[0] * _softmax_weights(xs[0], out, xp=xp, **params),
        axis=params["axis"],
        keepdims=params["keepdims"],
    ),
    saves=("xs", "out"),
    prepare=reduce_prepare("logsumexp"),
    samples=SAMPLES,
    floating=True,
    reference=lambda x, axis=None, keepdims=False: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
)


def _log_softmax_prepare(x, axis=-1):
    return {"axis": _negative_axis("log_softmax", axis, np.ndim(x), np.shape(x))}


def _log_softmax(xp, x, axis):
    # log softmax(x) = (x − m) − log Σ exp(x − m) for m = max x: no exp overflows, and no
    # large x − logsumexp(x) cancels away the digits of a small result.
    m = max_along(xp, x, axis, keepdims=True)
    shifted = x - xp.where(xp.isfinite(m), m, 0)
    return shifted - xp.log(sum_along(xp, xp.exp(shifted), axis, keepdims=True))


# With p = softmax(x) = exp(out): VJP g − p Σg, JVP t − Σ p t (sums along axis).
general(
    "log_softmax",
    _log_softmax,
    lambda g, xs, out, xp, needs, axis: (g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True),),
    lambda ts, xs, out, params, xp: ts[0] - xp.sum(xp.exp(out) * ts[0], axis=params["axis"], keepdims=True),
    saves="out",
    prepare=_log_softmax_prepare,
    domain=(-4, 4),
    floating=True,
    samples=[Sample(((3,),)), Sample(((2, 3),), {"axis": 0}), Sample(((2, 3, 4),), {"axis": 1})],
    reference=lambda x, axis=-1: x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True)),
)


def _var(lib, x, axis=None, ddof=0, keepdims=False):
    """Var = Σ (x - mean)² / (N - ddof), over the reduced axes."""
    axes = reduce_prepare("var")(x, axis)["axis"]
    n = _count(axes, x.shape)
    d = x - lib.mean(x, axis=axes, keepdims=True)
    return lib.sum(d * d, axis=axes, keepdims=keepdims) / (n - ddof)


VAR_SAMPLES = [*SAMPLES[1:], Sample(((2, 3),), {"axis": 1, "ddof": 1})]
composite("var", _var, samples=VAR_SAMPLES, reference=np.var)


def _std_slope(x, out, axis, keepdims, shape, ddof, xp):
    """∂std/∂x = (x - mean) / ((N - ddof) std), and 0 where std = 0.

    A constant slice is std's cone point; 0 is the subgradient PyTorch gives there. The
    division there is by 1 instead of 0, so no 0 · inf = NaN reaches this slope or the
    derivatives taken of it.
    """
    s = expand(out, axis, keepdims, shape, xp)
    flat = s == 0
    d = x - xp.mean(x, axis=axis, keepdims=True)
    return xp.where(flat, 0 * d, d / ((_count(axis, shape) - ddof) * xp.where(flat, 1 + 0 * s, s)))


# std = √var is an entry of its own, not sqrt of var, so that its slope at a constant
# input is 0 rather than sqrt'(0) · 0 = inf · 0 = NaN.
general(
    "std",
    lambda xp, x, axis, keepdims, shape, ddof: xp.std(x, axis=axis, correction=ddof, keepdims=keepdims),
    lambda g, xs, out, xp, needs, axis, keepdims, shape, ddof: (
        expand(g, axis, keepdims, shape, xp) * _std_slope(xs[0], out, axis, keepdims, shape, ddof, xp),
    ),
    lambda ts, xs, out, params, xp: xp.sum(
        ts[0] * _std_slope(xs[0], out, xp=xp, **params), axis=params["axis"], keepdims=params["keepdims"]
    ),
    saves=("xs", "out"),
    prepare=reduce_prepare("std"),
    samples=VAR_SAMPLES,
    floating=True,
    reference=np.std,
)
