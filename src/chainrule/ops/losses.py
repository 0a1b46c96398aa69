"""The negative log-likelihood of chosen classes, and its transpose.

For log-probabilities x with classes on axis 1 of a batch ``(N, C, ...)`` (or axis 0
of one example ``(C,)``) and a target class yᵢ per example i::

    nll(x)ᵢ = −cᵢ · x[i, yᵢ]          (reduction "none")
    nll(x)  = −Σᵢ cᵢ · x[i, yᵢ]       ("sum"; "mean" is the same with cᵢ = wᵢ / Σⱼ wⱼ)

where wᵢ is the weight of example i's class (1 by default, 0 for an ignored example).
A "mean" over nothing (Σⱼ wⱼ = 0, say every target ignored) is 0/0: the loss and its
tangent are NaN while the gradient is 0 on every ignored example, as in PyTorch.
nll is linear in x; its transpose puts −cᵢ · gᵢ at [i, yᵢ] of a zero array shaped
like x. The two are each other's transpose, so each one's VJP is the other one, and
``cross_entropy = nll ∘ log_softmax`` has the gradient the notes derive, ŷ − y.

The examples' chosen elements are addressed by their flat positions in x, computed
once from the targets (``flat``), so a stack of cotangents or tangents in front of
x's axes is gathered from or scattered into with one indexing call.
"""

from __future__ import annotations

import math

import numpy as np

from .core import OPS, Sample, linear
from .extras import scatter_into, take_indices

REDUCTIONS = ("mean", "sum", "none")


def _nll_prepare(
    x, *, target, weight=None, ignore_index: int = -100, reduction: str = "mean", name: str = "nll_loss"
):
    shape = np.shape(x)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if not shape:
        raise ValueError(f"{name}: needs scores with a class axis, got a 0-d tensor")
    axis = 1 if len(shape) >= 2 else 0
    classes = shape[axis]
    t = np.asarray(target)
    expected = shape[:axis] + shape[axis + 1 :]
    if t.dtype.kind not in "iu" or t.shape != expected:
        raise ValueError(
            f"{name}: class-index targets must be integers of shape {expected} for "
            f"scores of shape {shape}, got {t.dtype} of shape {t.shape}"
        )
    lo, hi = (t.min(), t.max()) if t.size else (0, -1)
    mean_of_nothing = False
    if weight is None and lo >= 0 and hi < classes and not lo <= ignore_index <= hi:
        # Every example counts once: a scalar factor keeps x's dtype and costs no array.
        coef: float | np.ndarray = (1.0 / t.size if t.size else float("nan")) if reduction == "mean" else 1.0
    else:
        valid = t != ignore_index
        kept = t[valid]
        if kept.size and (kept.min() < 0 or kept.max() >= classes):
            raise IndexError(f"{name}: a target is outside the {classes} classes [0, {classes})")
        t = np.where(valid, t, 0)
        dtype = np.result_type(x.dtype, np.float32)
        if weight is None:
            coef = valid.astype(dtype)
        else:
            w = np.asarray(weight, dtype=dtype)
            if w.shape != (classes,):
                raise ValueError(
                    f"{name}: weight has shape {w.shape}, expected ({classes},) for scores of shape {shape}"
                )
            coef = w[t] * valid
        if reduction == "mean":
            total = coef.sum()  # type: ignore[union-attr]  # an array: NumPy's stubs type w[t] as Any
            # Nothing counted (every target ignored, or weights summing to 0): the mean is
            # 0/0, NaN, as PyTorch gives it; the ignored examples' gradient stays 0.
            coef = coef / total if total else np.where(valid, np.nan, 0.0).astype(dtype)
            mean_of_nothing = not total
    # Flat position of x[i, yᵢ, j...]: ((i·C + yᵢ)·D + j) with D the size of the axes after C.
    lead, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1 :])
    starts = np.arange(lead) * (classes * inner)  # where each example's slab of x begins
    if inner == 1:
        flat = (starts + t.reshape(lead)).reshape(t.shape)
    else:
        flat = (starts[:, None] + t.reshape(lead, inner) * inner + np.arange(inner)).reshape(t.shape)
    return {
        "flat": flat,
        "coef": coef,
        "reduce": reduction != "none",
        "shape": shape,
        "mean_of_nothing": mean_of_nothing,
    }


def _nll(xp, x, flat, coef, reduce, shape, mean_of_nothing):
    nb = x.ndim - len(shape)  # stacked tangents or cotangents in front
    picked = take_indices(xp, xp.reshape(x, x.shape[:nb] + (-1,)), flat, axis=-1)
    if not reduce:
        return picked * -coef
    axes = tuple(range(nb, picked.ndim))
    if mean_of_nothing:  # 0/0 whatever x is; the transpose still scatters coef (0 where ignored)
        return xp.sum(picked, axis=axes) * math.nan
    if type(coef) is float:
        return xp.sum(picked, axis=axes) * -coef
    return -xp.sum(picked * coef, axis=axes)


def _nll_transpose(xp, g, flat, coef, reduce, shape, mean_of_nothing):
    nb = g.ndim - (0 if reduce else flat.ndim)
    batch = g.shape[:nb]
    if reduce:
        g = xp.reshape(g, batch + (1,) * flat.ndim)
    out = scatter_into(xp, batch + (math.prod(shape),), (Ellipsis, flat), g * -coef, g, repeated=False)
    return xp.reshape(out, batch + tuple(shape))


def _nll_reference(x, target, weight=None, ignore_index=-100, reduction="mean"):
    """Example by example, as the formula reads."""
    axis = 1 if x.ndim >= 2 else 0
    picked = np.squeeze(
        np.take_along_axis(x, np.expand_dims(np.where(target == ignore_index, 0, target), axis), axis), axis
    )
    w = np.ones(x.shape[axis], x.dtype) if weight is None else np.asarray(weight, x.dtype)
    c = np.where(target == ignore_index, 0.0, w[np.where(target == ignore_index, 0, target)])
    if reduction == "none":
        return -c * picked
    total = -np.sum(c * picked)
    return total / np.sum(c) if reduction == "mean" else total


def _nll_transpose_reference(g, flat, coef, reduce, shape, mean_of_nothing):
    out = np.zeros(math.prod(shape), g.dtype)
    for i, position in np.ndenumerate(flat):
        c = coef if np.ndim(coef) == 0 else coef[i]
        out[position] = -c * (g if reduce else g[i])
    return out.reshape(shape)


_TARGETS = np.array([0, 2, 1, 2])
_SEQUENCE = np.array([[0, 2, 1, 1], [2, 2, 0, 1]])
_CANONICAL = _nll_prepare(np.zeros((4, 3)), target=np.array([0, 2, -100, 2]), weight=[1.0, 2.0, 0.5])

linear(
    "nll",
    _nll,
    transpose=lambda g, xp, **params: xp.apply(OPS["nll_transpose"], g, **params),
    prepare=_nll_prepare,
    reference=_nll_reference,
    samples=[
        Sample(((4, 3),), {"target": _TARGETS}),
        Sample(((4, 3),), {"target": np.array([0, 2, -100, 2]), "weight": [1.0, 2.0, 0.5]}),
        Sample(((4, 3),), {"target": _TARGETS, "reduction": "none"}),
        Sample(((3,),), {"target": np.array(1), "reduction": "sum"}),
        Sample(((2, 3, 4),), {"target": _SEQUENCE}),
    ],
)
linear(
    "nll_transpose",
    _nll_transpose,
    transpose=lambda g, xp, **params: xp.apply(OPS["nll"], g, **params),
    reference=_nll_transpose_reference,
    samples=[Sample(((),), _CANONICAL), Sample(((4,),), {**_CANONICAL, "reduce": False})],
)
