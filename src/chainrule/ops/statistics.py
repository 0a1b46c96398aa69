"""NumPy's statistics and cleanup functions: numerical gradient, weighted average, peak to
peak, NaN-ignoring sums and means, nan_to_num and real_if_close.

``gradient`` and ``real_if_close`` are linear rows; ``nan_to_num`` is elementwise; the others
are composites of the reductions in ``reduction.py`` (their derivatives are those parts').
NaNs count as absent: nansum and nanmean read their input through ``where(isnan, 0, x)``,
so the gradient at a NaN is exactly 0.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .core import OPS, Sample, composite, constant_like, device_of, every_value, linear, unary, values_of
from .reduction import SAMPLES, reduce_prepare

# ------------------------------------------------------------------ gradient (central differences)
# Along one axis np.gradient is a banded matrix D: out[i] = Σ_k D[i, i+k] f[i+k] for k = −2..2
# (central differences inside, one-sided ones of edge_order 1 or 2 at the two ends).


def _bands(n, spacing, edge_order, dtype):
    """The nonzero diagonals of D as ``(k, band)``: band[i] = D[i, i+k].

    D is read off np.gradient itself, by applying it to five combs (1 where i ≡ r mod 5):
    row i of D touches only columns i−2..i+2, five different residues mod 5, so comb r
    picks out exactly the one entry D[i, j] of row i with j ≡ r.
    """
    rows = np.arange(n)
    probes = [
        np.gradient((rows % 5 == r).astype(np.float64), spacing, edge_order=edge_order) for r in range(5)
    ]
    bands = []
    for k in range(-2, 3):
        inside = (rows + k >= 0) & (rows + k < n)
        band = np.where(inside, np.choose((rows + k) % 5, probes), 0)
        if band.any():
            bands.append((k, band.astype(dtype)))
    return tuple(bands)


def _gradient_prepare(f, axis, spacing, edge_order):
    shape = tuple(np.shape(f))
    n = shape[axis]
    if n < edge_order + 1:
        raise ValueError(
            f"gradient: axis {axis + len(shape)} of a tensor of shape {shape} has {n} elements; edge_order "
            f"{edge_order} needs at least {edge_order + 1}"
        )
    dtype = np.result_type(f)
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    tail = (1,) * (-axis - 1)  # a band broadcasts along ``axis`` of g
    bands = tuple((k, band.reshape((n,) + tail)) for k, band in _bands(n, spacing, edge_order, dtype))
    return {"axis": axis, "spacing": spacing, "edge_order": edge_order, "bands": bands}


def _shift(v, k, axis, xp):
    """v moved by k places along ``axis`` (entry i to i + k), zeros coming in."""
    if k == 0:
        return v
    n, tail = v.shape[axis], (slice(None),) * (-axis - 1)
    edge = list(v.shape)
    edge[axis] = abs(k)
    zeros = xp.zeros(tuple(edge), dtype=v.dtype, device=device_of(v))
    if k > 0:
        return xp.concat([zeros, v[(Ellipsis, slice(0, n - k)) + tail]], axis=axis)
    return xp.concat([v[(Ellipsis, slice(-k, n)) + tail], zeros], axis=axis)


def _gradient_transpose(g, xp, axis, spacing, edge_order, bands):
    """Dᵀg: entry j gathers D[j−k, j] g[j−k] from each band k, i.e. band k times g, moved by k."""
    total = None
    for k, band in bands:
        term = _shift(g * band, k, axis, xp)
        total = term if total is None else total + term
    return total


linear(
    "gradient",
    lambda xp, x, axis, spacing, edge_order, bands: xp.gradient(x, spacing, axis=axis, edge_order=edge_order),
    transpose=_gradient_transpose,
    prepare=_gradient_prepare,
    reference=np.gradient,
    samples=[
        Sample(((5,),)),
        Sample(((3, 4),), call=lambda f, x: list(f(x))),
        Sample(((3, 4),), {"axis": 0, "edge_order": 2}, call=lambda f, x, **p: f(x, 0.5, **p)),
        Sample(((4, 3),), {"axis": -1}, call=lambda f, x, **p: f(x, np.array([0.0, 0.5, 2.0]), **p)),
        Sample(
            ((3, 2, 5),),
            {"axis": (0, 2), "edge_order": 2},
            call=lambda f, x, **p: list(f(x, 2.0, np.array([0.0, 1.0, 1.5, 3.0, 3.25]), **p)),
        ),
    ],
)


def gradient_spacings(shape: tuple, varargs: tuple, axis) -> list[tuple[int, Any]]:
    """The (negative axis, spacing) pairs of ``np.gradient(f, *varargs, axis=axis)``: one scalar
    for every axis, one scalar or 1-D coordinate array per axis, or 1 when none is given."""
    nd = len(shape)
    if axis is None:
        axes: tuple[int, ...] = tuple(range(-nd, 0))
    else:
        reduce_prepare("gradient")(np.broadcast_to(np.empty((), dtype=bool), shape), axis)  # in range, once
        axes = tuple(a - nd for a in _axes_as_given(axis, nd))  # in the order given, as NumPy returns them
    if any(getattr(v, "requires_grad", False) for v in varargs):
        raise TypeError("gradient: the spacings are constants; a spacing that requires grad is not supported")
    spacings = [np.asarray(v) for v in varargs]
    if not spacings:
        spacings = [np.asarray(1.0)] * len(axes)
    elif len(spacings) == 1 and spacings[0].ndim == 0:
        spacings = spacings * len(axes)
    elif len(spacings) != len(axes):
        raise TypeError(
            f"gradient: give no spacing, one scalar, or one spacing per axis ({len(axes)}); "
            f"got {len(spacings)}"
        )
    pairs = []
    for ax, h in zip(axes, spacings):
        if h.ndim > 1 or (h.ndim == 1 and len(h) != shape[ax]):
            raise ValueError(
                f"gradient: a spacing is a scalar or 1-D coordinates as long as its axis "
                f"({shape[ax]} for axis {ax + len(shape)}); got shape {h.shape}"
            )
        if h.dtype.kind not in "iuf":
            raise TypeError(f"gradient: spacings must be real numbers, got dtype {h.dtype}")
        pairs.append((ax, float(h) if h.ndim == 0 else h.astype(np.float64)))
    return pairs


def check_edge_order(edge_order: Any) -> int:
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    return int(edge_order)


# ------------------------------------------------------------------ average
def _axes_as_given(axis, ndim):
    given = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(int(a) % ndim for a in given)


def _weights_along(lib, a, weights, axis):
    """``weights`` shaped to broadcast against a, checked as np.average checks it: a's shape,
    or (with ``axis`` given) the lengths of those axes, in the order they are named."""
    shape, w_shape = tuple(np.shape(a)), tuple(np.shape(weights))
    if w_shape == shape:
        return weights
    if axis is None:
        raise TypeError(f"average: weights of shape {w_shape} differ from a's shape {shape}; give axis too")
    named = _axes_as_given(axis, len(shape))
    if w_shape != tuple(shape[ax] for ax in named):
        raise ValueError(
            f"average: weights of shape {w_shape} do not match axis {axis} of a tensor of shape {shape}"
        )
    if len(named) > 1:
        weights = lib.permute_dims(weights, tuple(int(i) for i in np.argsort(named)))
    return lib.reshape(weights, tuple(n if ax in named else 1 for ax, n in enumerate(shape)))


def _average(lib, a, axis=None, weights=None, returned=False, keepdims=False):
    """Σ a·w / Σ w over ``axis`` (the mean when weights is None), and Σ w when ``returned``."""
    axes = reduce_prepare("average")(a, axis)["axis"]
    if weights is None:
        avg = lib.mean(a, axis=axes, keepdims=keepdims)
        scale = constant_like(math.prod(np.shape(a)) / max(avg.size, 1), avg)
    else:
        w = _weights_along(lib, a, weights, axis)
        scale = lib.sum(w, axis=axes, keepdims=keepdims)
        if np.any(every_value(scale) == 0):
            raise ZeroDivisionError("average: the weights sum to zero along the axis; cannot normalize")
        avg = lib.sum(lib.multiply(a, w), axis=axes, keepdims=keepdims) / scale
    if not returned:
        return avg
    return avg, lib.broadcast_to(scale, avg.shape)


composite(
    "average",
    _average,
    reference=np.average,
    domain=(0.5, 2.0),  # weights well away from summing to 0
    samples=[
        Sample(((2, 3),)),
        Sample(((2, 3),), {"axis": 1, "keepdims": True}),
        Sample(((2, 3), (2, 3)), {"axis": 0}, call=lambda f, a, w, **p: f(a, weights=w, **p)),
        Sample(((2, 3), (3,)), {"axis": -1}, call=lambda f, a, w, **p: f(a, weights=w, **p)),
        Sample(((2, 3, 4), (4, 2)), {"axis": (2, 0)}, call=lambda f, a, w, **p: f(a, weights=w, **p)),
        Sample(((2, 3), (2, 3)), call=lambda f, a, w, **p: f(a, weights=w, **p)),
    ],
)


# ------------------------------------------------------------------ peak to peak
def _ptp(lib, a, axis=None, keepdims=False):
    """max − min over ``axis``; ties share each side's gradient evenly, as max and min do."""
    params = reduce_prepare("ptp")(a, axis, keepdims)
    if math.prod(np.shape(a)) == 0:
        raise ValueError(f"ptp: cannot reduce an empty tensor of shape {np.shape(a)}")
    return lib.apply(OPS["max"], a, **params) - lib.apply(OPS["min"], a, **params)


composite("ptp", _ptp, reference=np.ptp, samples=SAMPLES)


# ------------------------------------------------------------------ NaNs as absent
def _without_nans(lib, a, nan):
    """a with its NaNs (the mask ``nan``) replaced by 0: their gradient is exactly 0."""
    return lib.where(constant_like(nan, a, dtype=bool), 0, a) if nan.any() else a


def _nansum(lib, a, axis=None, keepdims=False):
    """Σ over the elements that are not NaN (0 for a slice of NaNs only)."""
    axes = reduce_prepare("nansum")(a, axis)["axis"]
    return lib.sum(_without_nans(lib, a, np.isnan(values_of(a))), axis=axes, keepdims=keepdims)


def _nanmean(lib, a, axis=None, keepdims=False):
    """Σ / N over the elements that are not NaN; NaN, with NumPy's warning, for a slice of NaNs only."""
    axes = reduce_prepare("nanmean")(a, axis)["axis"]
    values = values_of(a)
    if values.dtype.kind != "f":  # no NaNs: the mean, in mean's dtype
        return lib.mean(a, axis=axes, keepdims=keepdims)
    nan = np.isnan(values)
    count = np.sum(~nan, axis=axes, keepdims=keepdims)
    total = lib.sum(_without_nans(lib, a, nan), axis=axes, keepdims=keepdims)
    if count.all():
        return total / constant_like(count, a)
    warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
    # An empty slice's mean is the constant NaN (its gradient 0): its sum, 0, is divided by 1.
    empty = count == 0
    return total / constant_like(np.where(empty, 1, count), a) + constant_like(np.where(empty, np.nan, 0), a)


NAN_SAMPLES = [*SAMPLES, Sample(((2, 3, 4),), {"axis": 1, "keepdims": True})]
composite("nansum", _nansum, reference=np.nansum, samples=NAN_SAMPLES)
composite("nanmean", _nanmean, reference=np.nanmean, samples=NAN_SAMPLES)


# ------------------------------------------------------------------ replacing values
def _nan_to_num_prepare(x, nan=0.0, posinf=None, neginf=None):
    return {"nan": nan, "posinf": posinf, "neginf": neginf}


# The derivative is 1 where x is finite (|x| < ∞: false for ±inf and NaN) and 0 where x
# was replaced by a constant.
unary(
    "nan_to_num",
    lambda xp, x, nan, posinf, neginf: xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
    slope=lambda x, y, xp, **replacements: xp.astype(xp.abs(x) < math.inf, x.dtype),
    saves="x",
    prepare=_nan_to_num_prepare,
    floating=False,
    reference=np.nan_to_num,
    samples=[Sample(((2, 3),)), Sample(((3,),), {"nan": 1.0, "posinf": 9.0, "neginf": -9.0})],
)


def real_part_if_close(a: Any, tol: float = 100) -> Any:
    """``np.real_if_close(a, tol)`` for data that is not a Tensor: a complex input whose
    imaginary parts are all within ``tol`` machine epsilons (tol > 1) or within ``tol``
    (tol ≤ 1) becomes its real part; one that stays complex is refused, as chainrule
    has no complex tensors. Real data is returned as it is."""
    if not np.iscomplexobj(a):
        return a
    real = np.real_if_close(np.asarray(a), tol=tol)
    if np.iscomplexobj(real):
        raise TypeError(
            f"real_if_close: the imaginary parts exceed tol={tol!r} and chainrule has no complex "
            "tensors; split the data into real and imaginary parts (two real tensors)"
        )
    return real


# chainrule's tensors are real, where np.real_if_close returns its input: the identity.
linear(
    "real_if_close",
    lambda xp, x: xp.asarray(x, copy=True),
    transpose=lambda g, xp: g,
    prepare=lambda a, tol=100: {},
    reference=np.real_if_close,
    samples=[Sample(((2, 3),)), Sample(((3,),), {"tol": 1000})],
)
