"""Elementwise functions and their derivatives, side by side like a calculus table.

Each entry is y = f(x) and f'(x, y): the slope may use the input x, the output y,
or both, and ``saves`` says which; the node saves only that (relu keeps its output,
exp its output, sin its input). ``domain`` is where tests sample x; ``kinks`` are
points they keep away from.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .core import Sample, unary

LN2, LN10 = math.log(2.0), math.log(10.0)


def _sigmoid(xp, x):
    # Both branches evaluate exp of a non-positive number, so nothing overflows.
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(xp, x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for any x.
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _relu(xp, x):
    return xp.maximum(x, 0)


unary("exp", "exp", slope=lambda x, y, xp: y, saves="y", domain=(-3, 3))
unary("expm1", "expm1", slope=lambda x, y, xp: y + 1, saves="y", domain=(-3, 3))
unary("log", "log", slope=lambda x, y, xp: 1 / x, saves="x", domain=(0.2, 4))
unary("log1p", "log1p", slope=lambda x, y, xp: 1 / (1 + x), saves="x", domain=(-0.8, 4))
unary("log2", "log2", slope=lambda x, y, xp: 1 / (x * LN2), saves="x", domain=(0.2, 4))
unary("log10", "log10", slope=lambda x, y, xp: 1 / (x * LN10), saves="x", domain=(0.2, 4))
unary("sqrt", "sqrt", slope=lambda x, y, xp: 0.5 / y, saves="y", domain=(0.2, 4))
# |x| has a kink at 0; the subgradient 0 (sign(0)) is the one NumPy-style code expects.
unary("abs", "abs", slope=lambda x, y, xp: xp.sign(x), saves="x", kinks=(0.0,), floating=False)
unary("sign", "sign", slope=lambda x, y, xp: xp.zeros_like(x), saves="x", kinks=(0.0,), floating=False)
unary("sin", "sin", slope=lambda x, y, xp: xp.cos(x), saves="x")
unary("cos", "cos", slope=lambda x, y, xp: -xp.sin(x), saves="x")
unary("tan", "tan", slope=lambda x, y, xp: 1 + y * y, saves="y", domain=(-1.2, 1.2))
unary("arcsin", "asin", slope=lambda x, y, xp: 1 / xp.sqrt(1 - x * x), saves="x", domain=(-0.9, 0.9))
unary("arccos", "acos", slope=lambda x, y, xp: -1 / xp.sqrt(1 - x * x), saves="x", domain=(-0.9, 0.9))
unary("arctan", "atan", slope=lambda x, y, xp: 1 / (1 + x * x), saves="x")
unary("sinh", "sinh", slope=lambda x, y, xp: xp.cosh(x), saves="x")
unary("cosh", "cosh", slope=lambda x, y, xp: xp.sinh(x), saves="x")
unary("tanh", "tanh", slope=lambda x, y, xp: 1 - y * y, saves="y")
unary("arcsinh", "asinh", slope=lambda x, y, xp: 1 / xp.sqrt(x * x + 1), saves="x")
unary("arccosh", "acosh", slope=lambda x, y, xp: 1 / xp.sqrt(x * x - 1), saves="x", domain=(1.2, 4))
unary("arctanh", "atanh", slope=lambda x, y, xp: 1 / (1 - x * x), saves="x", domain=(-0.9, 0.9))
unary(
    "sigmoid",
    _sigmoid,
    slope=lambda x, y, xp: y * (1 - y),
    saves="y",
    domain=(-4, 4),
    reference=lambda x: 1 / (1 + np.exp(-x)),
)
# relu'(x) = 1[x > 0], read off the output (y > 0 exactly when x > 0); 0 at the kink.
unary(
    "relu",
    _relu,
    slope=lambda x, y, xp: xp.astype(y > 0, y.dtype),
    saves="y",
    kinks=(0.0,),
    floating=False,
    reference=lambda x: np.where(x > 0, x, 0 * x),
)
# softplus'(x) = sigmoid(x) = 1 - e^(-y), with y = softplus(x) >= 0: no overflow.
unary(
    "softplus",
    _softplus,
    slope=lambda x, y, xp: -xp.expm1(-y),
    saves="y",
    domain=(-4, 4),
    reference=lambda x: np.log(1 + np.exp(x)),
)


def _clip_prepare(a, a_min=None, a_max=None):
    if a_min is None and a_max is None:
        raise ValueError("clip: give a_min, a_max or both (one may be None, not both)")
    return {"a_min": _bound(a_min), "a_max": _bound(a_max)}


def _bound(b):
    return getattr(b, "data", b) if b is not None and not isinstance(b, np.ndarray) else b


def _inside(x, a_min, a_max):
    if a_min is None:
        return x <= a_max
    if a_max is None:
        return x >= a_min
    return (x >= a_min) & (x <= a_max)


# clip passes the gradient where a_min <= x <= a_max (both ends included, as PyTorch).
unary(
    "clip",
    lambda xp, a, a_min, a_max: xp.clip(a, a_min, a_max),
    slope=lambda x, y, xp, a_min, a_max: xp.astype(_inside(x, a_min, a_max), x.dtype),
    saves="x",
    prepare=_clip_prepare,
    kinks=(-0.5, 0.5),
    floating=False,
    samples=[
        Sample(((3,),), {"a_min": -0.5, "a_max": 0.5}),
        Sample(((2, 3),), {"a_min": -0.5, "a_max": None}),
        Sample(((2, 3),), {"a_min": None, "a_max": 0.5}),
    ],
)


unary("square", "square", slope=lambda x, y, xp: 2 * x, saves="x", floating=False)
unary("reciprocal", "reciprocal", slope=lambda x, y, xp: -y * y, saves="y", domain=(0.5, 2.0))
unary("exp2", "exp2", slope=lambda x, y, xp: y * LN2, saves="y", domain=(-3, 3))
# |x| has a kink at 0; the subgradient there is 0, as for abs.
# On the floats it receives (it is floating), fabs is abs.
unary("fabs", "abs", slope=lambda x, y, xp: xp.sign(x), saves="x", kinks=(0.0,), reference=np.fabs)
# floor, ceil and round are steps: slope 0 between the integers (or half-integers) they jump at.
STEPS = (-2.0, -1.0, 0.0, 1.0, 2.0)
HALF_STEPS = (-1.5, -0.5, 0.5, 1.5)
unary("floor", "floor", slope=lambda x, y, xp: xp.zeros_like(y), saves="y", kinks=STEPS, floating=False)
unary("ceil", "ceil", slope=lambda x, y, xp: xp.zeros_like(y), saves="y", kinks=STEPS, floating=False)


def _round(xp, a, decimals):
    """np.round(a, decimals): the standard round (half to even) of a scaled by 10^decimals,
    scaled back, as NumPy computes it; integers have no digits after the point."""
    if decimals == 0:
        return xp.round(a)
    floating = xp.isdtype(a.dtype, "real floating")
    if decimals > 0:
        return xp.round(a * 10.0**decimals) / 10.0**decimals if floating else xp.round(a)
    scale = 10.0**-decimals
    r = xp.round(a / scale) * scale
    return r if floating else xp.astype(r, a.dtype)


def _decimals(decimals) -> int:
    """round's ``decimals`` as an int; a float (1.5) is refused, as NumPy refuses it."""
    try:
        return operator.index(decimals)
    except TypeError:
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}") from None


unary(
    "round",
    _round,
    slope=lambda x, y, xp, decimals: xp.zeros_like(y),
    saves="y",
    prepare=lambda a, decimals=0: {"decimals": _decimals(decimals)},
    kinks=HALF_STEPS,
    floating=False,
    reference=np.round,
    samples=[Sample(((3,),)), Sample(((2, 3),)), Sample(((2, 3),), {"decimals": 0})],
)


def _sinc_slope(x, y, xp):
    # sinc'(x) = (cos πx − sinc x)/x, and 0 at x = 0 (where sinc is flat); dividing by 1
    # there keeps 0/0 out of it and of the derivatives taken of it.
    at_zero = x == 0
    return xp.where(at_zero, 0 * x, (xp.cos(math.pi * x) - y) / xp.where(at_zero, 1 + 0 * x, x))


# The origin is listed as a kink only so that samples keep away from the point where the
# slope is patched (its value there is right; the derivatives of the patch are not).
def _sinc(xp, x):
    # sin(πx)/(πx), with x = 0 moved to 1e-20, where the quotient is 1 to double precision.
    y = math.pi * xp.where(x == 0, 1.0e-20, x)
    return xp.sin(y) / y


unary("sinc", _sinc, slope=_sinc_slope, saves=("x", "y"), kinks=(0.0,), reference=np.sinc)
