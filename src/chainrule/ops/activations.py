"""The activation functions of neural networks beyond relu, sigmoid and tanh, each an
elementwise row with its slope beside it, as in ``elementwise.py``::

    leaky_relu(x) = x if x > 0 else s·x          slope 1 or s
    elu(x)        = x if x > 0 else α(eˣ − 1)     slope 1 or y + α
    silu(x)       = x σ(x)                        slope σ(x)(1 + x(1 − σ(x)))
    gelu(x)       = x Φ(x)                        slope Φ(x) + x φ(x)
    gelu(x, approximate="tanh") = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
                                                  slope ½(1 + tanh u) + ½x(1 − tanh²u) u'

Φ is the standard normal distribution function and φ = Φ' its density. Φ is a row of
its own (``normal_cdf``, slope φ), so that exact GELU's slope, which reads Φ, stays
differentiable to any order. The array API standard has no ``erf``; Φ is computed from
the upper tail Q(a) = ½ erfc(a/√2) of |x| by one of two expansions, each where it
converges fast (see :func:`_upper_tail`).

Where the slope changes at 0 (leaky_relu, elu) the rule takes the left-hand value at 0
exactly, as PyTorch does (its test is ``x > 0``).
"""

from __future__ import annotations

import math

import numpy as np

from .core import OPS, Sample, unary

SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
INV_SQRT_PI = 1 / math.sqrt(math.pi)
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
GELU_CUBIC = 0.044715
APPROXIMATIONS = ("none", "tanh")

# a = |x|/√2 below SERIES_BELOW: the power series of erf (all terms positive, 35 of them
# reach double precision for a < 2); above: Laplace's continued fraction for erfc (40
# levels reach it for a ≥ 2). Both were checked against math.erfc to ~1e-13 relative.
SERIES_BELOW = 2.0
SERIES_TERMS = 35
FRACTION_DEPTH = 40


def _upper_tail(xp, a):
    """½ erfc(a) for a ≥ 0, to about 1e-13 relative.

    erf(a) = (2/√π) e^(−a²) Σₙ 2ⁿ a^(2n+1) / (1·3···(2n+1)) for small a, and
    erfc(a) = e^(−a²) / (√π K(a)), K = a + (1/2)/(a + 1/(a + (3/2)/(a + ...))) for large a.
    Each expansion is evaluated on a copy of ``a`` moved into its own range, so the branch
    ``where`` discards never overflows or divides by zero.
    """
    small = xp.where(a < SERIES_BELOW, a, 0.0)
    ratio = 2 * small * small
    term, total = small, small
    for n in range(1, SERIES_TERMS):
        term = term * ratio / (2 * n + 1)
        total = total + term
    erf_small = (2 * INV_SQRT_PI) * xp.exp(-small * small) * total
    large = xp.where(a < SERIES_BELOW, SERIES_BELOW, a)
    k = large
    for n in range(FRACTION_DEPTH, 0, -1):
        k = large + (n / 2) / k
    erfc_large = INV_SQRT_PI * xp.exp(-large * large) / k
    return 0.5 * xp.where(a < SERIES_BELOW, 1 - erf_small, erfc_large)


def _normal_cdf(xp, x):
    # Φ(x) = Q(−x): the tail of |x| on the left, 1 − tail on the right, so a far-left
    # Φ keeps its relative precision instead of being 1 − (a number near 1).
    tail = _upper_tail(xp, xp.abs(x) * SQRT_HALF)
    return xp.where(x < 0, tail, 1 - tail)


def _density(x, xp):
    return xp.exp(-0.5 * x * x) * INV_SQRT_2PI


def _double_precision_only(name, x):
    """A TypeError for a float wider than float64: NumPy has no erf, and Φ here is built
    to double precision, so a longdouble result would carry float64's error."""
    dtype = np.asarray(x).dtype
    if dtype.kind == "f" and dtype.itemsize > 8:
        raise TypeError(
            f"{name}: NumPy cannot compute it on {dtype}: NumPy has no erf, and chainrule's normal "
            "distribution function is accurate to double precision only; convert to float64 first"
        )


def _normal_cdf_prepare(x):
    _double_precision_only("normal_cdf", x)
    return {}


def _normal_cdf_reference(x):
    _double_precision_only("normal_cdf", x)
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    return (0.5 * erfc(-np.asarray(x, np.float64) * SQRT_HALF)).astype(x.dtype)


unary(
    "normal_cdf",
    _normal_cdf,
    slope=lambda x, y, xp: _density(x, xp),
    saves="x",
    prepare=_normal_cdf_prepare,
    domain=(-6, 6),
    reference=_normal_cdf_reference,
)


# ----------------------------------------------------------------------------- gelu
def _gelu_prepare(x, approximate="none"):
    if approximate not in APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if approximate == "none":
        _double_precision_only("gelu", x)
    return {"approximate": approximate}


def _gelu(xp, x, approximate):
    if approximate == "tanh":
        u = SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)
        return 0.5 * x * (1 + xp.tanh(u))
    return x * _normal_cdf(xp, x)


def _gelu_slope(x, y, xp, approximate):
    if approximate == "tanh":
        # 1 + tanh u = 2σ(2u) and 1 − tanh² u = 4σ(2u)σ(−2u): no cancellation for u ≪ 0
        u2 = 2 * SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)
        s, s_neg = xp.apply(OPS["sigmoid"], u2), xp.apply(OPS["sigmoid"], -u2)
        du = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x)
        return s + 2 * x * s * s_neg * du
    return xp.apply(OPS["normal_cdf"], x) + x * _density(x, xp)


def _gelu_reference(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x**3)))
    return x * _normal_cdf_reference(x)


unary(
    "gelu",
    _gelu,
    slope=_gelu_slope,
    saves="x",
    prepare=_gelu_prepare,
    domain=(-4, 4),
    reference=_gelu_reference,
    samples=[Sample(((),)), Sample(((3,),)), Sample(((2, 3),)), Sample(((2, 3),), {"approximate": "tanh"})],
)


# ----------------------------------------------------------------------------- silu
def _silu(xp, x):
    # σ(x) without overflow for any x: both branches take exp of −|x|.
    e = xp.exp(-xp.abs(x))
    return x * xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _silu_slope(x, y, xp):
    s = xp.apply(OPS["sigmoid"], x)
    return s * (1 + x * (1 - s))


unary("silu", _silu, slope=_silu_slope, saves="x", domain=(-4, 4), reference=lambda x: x / (1 + np.exp(-x)))


# ----------------------------------------------------------------------------- leaky_relu and elu
def _leaky_relu_prepare(x, negative_slope=0.01):
    return {"negative_slope": _number("leaky_relu", "negative_slope", negative_slope)}


def _number(name, what, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {what} must be a real number, got {value!r}")
    return float(value)


def _leaky_relu(xp, x, negative_slope):
    return xp.where(x > 0, x, x * negative_slope)


# At 0 the slope is negative_slope, the left-hand one, as PyTorch's test x > 0 picks it.
unary(
    "leaky_relu",
    _leaky_relu,
    slope=lambda x, y, xp, negative_slope: xp.where(x > 0, 1.0, xp.full_like(x, negative_slope)),
    saves="x",
    prepare=_leaky_relu_prepare,
    kinks=(0.0,),
    reference=lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
    samples=[Sample(((),)), Sample(((3,),)), Sample(((2, 3),), {"negative_slope": 0.2})],
)


def _elu_prepare(x, alpha=1.0):
    return {"alpha": _number("elu", "alpha", alpha)}


def _elu(xp, x, alpha):
    # expm1 of min(x, 0): the branch where discards never overflows.
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0.0)))


# For x ≤ 0, y = α(eˣ − 1), so the slope αeˣ is y + α; at 0 it is α, as in PyTorch.
unary(
    "elu",
    _elu,
    slope=lambda x, y, xp, alpha: xp.where(x > 0, 1.0, y + alpha),
    saves=("x", "y"),
    prepare=_elu_prepare,
    kinks=(0.0,),
    domain=(-3, 3),
    reference=lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    samples=[Sample(((),)), Sample(((3,),)), Sample(((2, 3),), {"alpha": 0.5})],
)
