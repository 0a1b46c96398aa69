"""Arithmetic with broadcasting: each op by its two partial derivatives.

The partials are elementwise arrays that broadcast like the inputs; the engine's
single ``sum_to`` then folds each gradient back to its input's shape.
"""

from __future__ import annotations

import math

import numpy as np

from ..dtypes import numpy_dtype
from .core import OPS, Sample, align, binary, general, linear, ndim_of

LN2 = math.log(2.0)

binary("add", "add", dx=1, dy=1, saves=())
binary("sub", "subtract", dx=1, dy=-1, saves=())
binary("mul", "multiply", dx=lambda x, y, out, xp: y, dy=lambda x, y, out, xp: x, saves=("x", "y"))


# ∂(x/y)/∂y = −x/y², from the inputs (as −out/y would be, but then the output would be
# saved too, and an in-place change of the quotient would stop the backward pass).
def _reciprocal(y):
    """1/y; a Python zero divisor (Python numbers stay Python scalars) gives ±inf, as NumPy's
    zero does, not Python's ZeroDivisionError."""
    if type(y) in (int, float) and y == 0:
        return math.copysign(math.inf, y) if type(y) is float else math.inf
    return 1 / y


binary(
    "div",
    "divide",
    dx=lambda x, y, out, xp: _reciprocal(y),
    dy=lambda x, y, out, xp: -x / (y * y),
    saves=("x", "y"),
    domain=(0.5, 2.0),
    floating=True,
)
# arctan2(x, y) is the angle of the point (y, x): ∂/∂x = y/(x² + y²), ∂/∂y = −x/(x² + y²),
# away from the origin, where the angle has no derivative.
binary(
    "arctan2",
    "atan2",
    dx=lambda x, y, out, xp: y / (x * x + y * y),
    dy=lambda x, y, out, xp: -x / (x * x + y * y),
    saves=("x", "y"),
    domain=(0.5, 2.0),
    floating=True,
)


# d(x^y)/dx = y x^(y-1), with exponent 0 instead of -1 where y = 0, so 0^0 gives 0 · 1,
# not 0 · inf = nan.
# d(x^y)/dy = x^y log x, with log 1 instead of log 0 where x = 0, so 0^y gives 0, not
# 0 · -inf = nan.
def _is_zero(v, xp):
    """1 where v is 0, else 0, in v's dtype (a bool for a number v: a constant operand)."""
    zero = v == 0
    return zero if isinstance(zero, bool) else xp.astype(zero, v.dtype)


binary(
    "pow",
    "pow",
    dx=lambda x, y, out, xp: y * x ** (y - 1 + _is_zero(y, xp)),
    dy=lambda x, y, out, xp: out * xp.log(x + _is_zero(x, xp)),
    saves=("x", "y", "out"),
    domain=(0.5, 2.0),
)


def _share(wins, ties, nan, out, xp):
    # Where both inputs are equal the subgradient is split evenly: 1/2 to each. Where
    # ``nan`` holds, this side gets the whole gradient: for maximum where out is NaN (either
    # input is, as in PyTorch), for fmax where the other side is NaN (NumPy returns this one).
    return xp.astype(wins, out.dtype) + 0.5 * xp.astype(ties, out.dtype) + xp.astype(nan, out.dtype)


binary(
    "maximum",
    "maximum",
    dx=lambda x, y, out, xp: _share(x > y, x == y, out != out, out, xp),
    dy=lambda x, y, out, xp: _share(y > x, x == y, out != out, out, xp),
    saves=("x", "y", "out"),
)
binary(
    "minimum",
    "minimum",
    dx=lambda x, y, out, xp: _share(x < y, x == y, out != out, out, xp),
    dy=lambda x, y, out, xp: _share(y < x, x == y, out != out, out, xp),
    saves=("x", "y", "out"),
)

linear("neg", "negative", transpose=lambda g, xp: -g)


def _cast(xp, x, dtype):
    y = xp.astype(x, dtype, copy=False)
    return y[...] if y is x else y  # a view, never x itself: the result shares x's version


linear(
    "astype",
    _cast,
    transpose=lambda g, xp, dtype: g,
    prepare=lambda x, dtype: {"dtype": numpy_dtype(dtype)},
    samples=[Sample(((2, 3),), {"dtype": np.float64})],
    reference=lambda x, dtype: x.astype(dtype),
)


def _where_prepare(condition, x, y):
    if np.asarray(condition).dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got {np.asarray(condition).dtype}")
    return {}


def _where_vjp(g, xs, out, xp, needs):
    condition = xs[0]
    kept = xp.astype(condition, g.dtype)
    return (None, g * kept if needs[1] else None, g * (1 - kept) if needs[2] else None)


def _where_jvp(ts, xs, out, params, xp):
    condition, x, y = xs
    tx = 0 * out if ts[1] is None else align(ts[1], ndim_of(x), out.ndim, xp)
    ty = 0 * out if ts[2] is None else align(ts[2], ndim_of(y), out.ndim, xp)
    return xp.where(condition, tx, ty)


def _where_samples():
    return [
        Sample(((3,), (3,)), call=_where_call),
        Sample(((2, 3), (3,)), call=_where_call),
        Sample(((3, 1), (1, 4)), call=_where_call),
    ]


def _where_call(fn, x, y):
    return fn(x > 0.3, x, y)


general(
    "where", "where", _where_vjp, _where_jvp, saves="xs", prepare=_where_prepare, samples=_where_samples()
)

linear(
    "deg2rad",
    lambda xp, x: x * (math.pi / 180),
    transpose=lambda g, xp: g * (math.pi / 180),
    floating=True,
    reference=np.deg2rad,
)
# NumPy rounds 180/π in x's dtype (float32's constant is an ulp off 180/π in double): an extra.
linear("rad2deg", "rad2deg", transpose=lambda g, xp: g * (180 / math.pi), floating=True, reference=np.rad2deg)


# As maximum and minimum, except that a NaN loses (see _share); where both are NaN, so
# is out, and both sides get the gradient.
binary(
    "fmax",
    "fmax",
    dx=lambda x, y, out, xp: _share(x > y, x == y, y != y, out, xp),
    dy=lambda x, y, out, xp: _share(y > x, x == y, x != x, out, xp),
    saves=("x", "y", "out"),
)
binary(
    "fmin",
    "fmin",
    dx=lambda x, y, out, xp: _share(x < y, x == y, y != y, out, xp),
    dy=lambda x, y, out, xp: _share(y < x, x == y, x != x, out, xp),
    saves=("x", "y", "out"),
)
# √(x² + y²) has no derivative at the origin; the samples keep away from it.
binary(
    "hypot",
    "hypot",
    dx=lambda x, y, out, xp: x / out,
    dy=lambda x, y, out, xp: y / out,
    saves=("x", "y", "out"),
    domain=(0.5, 2.0),
    floating=True,
)
# ∂/∂x log(eˣ + eʸ) = eˣ/(eˣ + eʸ) = e^(x − out), which never overflows.
binary(
    "logaddexp",
    "logaddexp",
    dx=lambda x, y, out, xp: xp.exp(x - out),
    dy=lambda x, y, out, xp: xp.exp(y - out),
    saves=("x", "y", "out"),
    floating=True,
)
binary(
    "logaddexp2",
    "logaddexp2",
    dx=lambda x, y, out, xp: xp.exp((x - out) * LN2),
    dy=lambda x, y, out, xp: xp.exp((y - out) * LN2),
    saves=("x", "y", "out"),
    floating=True,
)


def _floor(v, xp):
    return xp.apply(OPS["floor"], v)


def _trunc(v, xp):
    return xp.sign(v) * xp.apply(OPS["floor"], xp.abs(v))


# The remainders jump where x/y is an integer; these samples shift x into (5.1, 5.4) and
# y into ±(2.1, 2.4), so x/y stays between two integers and ∂/∂y is not trivially 0.
REMAINDER_SAMPLES = [
    Sample(((3,), (3,)), call=lambda f, x, y: f(x + 5, y + 2)),
    Sample(((3, 1), (1, 4)), call=lambda f, x, y: f(x + 5, -(y + 2))),
    Sample(((2, 3), ()), call=lambda f, x, y: f(-(x + 5), y + 2)),
]
# x mod y = x − floor(x/y) y, so ∂/∂x = 1 and ∂/∂y = −floor(x/y) between the jumps.
binary(
    "mod",
    "remainder",
    dx=1,
    dy=lambda x, y, out, xp: -_floor(x / y, xp),
    saves=("x", "y"),
    domain=(0.1, 0.4),
    samples=REMAINDER_SAMPLES,
)
# fmod(x, y) = x − trunc(x/y) y (the C remainder, with x's sign): ∂/∂y = −trunc(x/y).
binary(
    "fmod",
    "fmod",
    dx=1,
    dy=lambda x, y, out, xp: -_trunc(x / y, xp),
    saves=("x", "y"),
    domain=(0.1, 0.4),
    samples=REMAINDER_SAMPLES,
)
