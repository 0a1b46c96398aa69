"""NumPy's statistics and sorting on Tensors: one public function per table op.

``gradient``, ``average``, ``ptp``, ``nansum``, ``nanmean``, ``nan_to_num`` and
``real_if_close`` (rows of ``ops/statistics.py``), and ``sort`` and ``partition`` (rows of
``ops/sorting.py``), each differentiable; ``argsort``, ``argmax`` and ``argmin`` give integer
Tensors, which carry no gradient. Names and signatures are NumPy's.

>>> import chainrule as cr
>>> x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
>>> cr.sum(cr.sort(x) * cr.tensor([1.0, 0.0, 0.0])).backward(); x.grad   # the smallest
tensor([0., 1., 0.])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy.typing as npt

from .arguments import reduction_input as _reduced
from .ops import OPS
from .ops.statistics import check_edge_order, gradient_spacings, real_part_if_close
from .spellings import torch_keywords
from .tensor import RECORDING, Axis, Tensor, TensorLike, apply, tensor_or_array

__all__ = [
    "argmax",
    "argmin",
    "argsort",
    "average",
    "gradient",
    "nan_to_num",
    "nanmean",
    "nansum",
    "partition",
    "ptp",
    "real_if_close",
    "sort",
]


# ------------------------------------------------------------------ statistics (NumPy's names)
@torch_keywords
def gradient(
    f: TensorLike, *varargs: TensorLike, axis: Axis = None, edge_order: int = 1
) -> Tensor | tuple[Tensor, ...]:
    """The numerical derivative of sampled values along each axis, as ``np.gradient``:
    (f[i+1] − f[i−1]) / 2h inside, one-sided differences of ``edge_order`` 1 or 2 at the ends.

    ``varargs`` are the spacings: none (1), one scalar for every axis, or one scalar or 1-D
    coordinate array per axis. One axis gives a Tensor, several a tuple (one per axis). Linear
    in f: its gradient is the transposed difference stencil applied to g.

    >>> import chainrule as cr
    >>> f = cr.tensor([1.0, 2.0, 4.0, 7.0], requires_grad=True)
    >>> cr.gradient(f)
    tensor([1. , 1.5, 2.5, 3. ], grad_fn=<GradientBackward>)
    >>> cr.sum(cr.gradient(f, 0.5)).backward(); f.grad    # Σ out = (3f₃ − f₂ + f₁ − 3f₀) / 2h
    tensor([-3.,  1., -1.,  3.])
    """
    values = tensor_or_array(f, "gradient")
    order = check_edge_order(edge_order)
    parts = tuple(
        apply(OPS["gradient"], values, axis=ax, spacing=h, edge_order=order)
        for ax, h in gradient_spacings(values.shape, varargs, axis)
    )
    return parts[0] if len(parts) == 1 else parts


@torch_keywords
def average(
    a: TensorLike,
    axis: Axis = None,
    weights: TensorLike | None = None,
    returned: bool = False,
    *,
    keepdims: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Σ a·w / Σ w over ``axis`` (the mean without weights), differentiable in a and w:
    ∂/∂a = w / Σw, ∂/∂w = (a − average) / Σw.

    ``weights`` has a's shape, or (with ``axis``) the lengths of the axes named. With
    ``returned`` the result is ``(average, Σ w)``. Weights summing to 0 raise ZeroDivisionError.

    >>> import chainrule as cr
    >>> cr.average(cr.tensor([1.0, 2.0, 4.0]), weights=[3.0, 1.0, 0.0])
    tensor(1.25)
    """
    w = None if weights is None else tensor_or_array(weights, "average")
    out: Tensor | tuple[Tensor, Tensor] = OPS["average"].fn(
        RECORDING, tensor_or_array(a, "average"), axis=axis, weights=w, returned=returned, keepdims=keepdims
    )
    return out


@torch_keywords
def ptp(a: TensorLike, axis: Axis = None, out: None = None, keepdims: bool = False) -> Tensor:
    """Peak to peak, max − min over ``axis``; the gradient is +g at the largest element and −g at
    the smallest (tied elements share each evenly, as for max and min).

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, -1.0, 2.0], requires_grad=True)
    >>> cr.ptp(x).backward(); x.grad
    tensor([ 1., -1.,  0.])
    """
    x = tensor_or_array(_reduced("ptp", a, None, out), "ptp")
    result: Tensor = OPS["ptp"].fn(RECORDING, x, axis=axis, keepdims=keepdims)
    return result


@torch_keywords
def nansum(
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: None = None,
    where: bool = True,
) -> Tensor:
    """Σ over ``axis`` of the elements that are not NaN (0 for a slice of NaNs only); the
    gradient is g at every number and 0 at every NaN.

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor([1.0, np.nan, 2.0], requires_grad=True)
    >>> y = cr.nansum(x); y
    tensor(3., grad_fn=<SumBackward>)
    >>> y.backward(); x.grad
    tensor([1., 0., 1.])
    """
    x = tensor_or_array(_reduced("nansum", a, dtype, out, initial, where), "nansum")
    result: Tensor = OPS["nansum"].fn(RECORDING, x, axis=axis, keepdims=keepdims)
    return result


@torch_keywords
def nanmean(
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: bool = True,
) -> Tensor:
    """Σ / N over ``axis`` of the N elements that are not NaN; the gradient is g/N at every
    number and 0 at every NaN. A slice of NaNs only gives NaN, with NumPy's RuntimeWarning
    "Mean of empty slice".

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor([1.0, np.nan, 2.0, 5.0, 0.0], requires_grad=True)
    >>> y = cr.nanmean(x); y
    tensor(2., grad_fn=<DivBackward>)
    >>> y.backward(); x.grad
    tensor([0.25, 0.  , 0.25, 0.25, 0.25])
    """
    x = tensor_or_array(_reduced("nanmean", a, dtype, out, None, where), "nanmean")
    result: Tensor = OPS["nanmean"].fn(RECORDING, x, axis=axis, keepdims=keepdims)
    return result


def nan_to_num(
    x: TensorLike,
    copy: bool = True,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """x with NaN replaced by ``nan`` and ±inf by ``posinf``/``neginf`` (the largest finite
    values of the dtype by default); the derivative is 1 where x is finite and 0 where a value
    was replaced. The result is a new tensor; NumPy's ``copy=False`` (replace in x itself) is
    refused, since x would silently keep its NaNs here: write ``x = nan_to_num(x)``.

    >>> import chainrule as cr, numpy as np
    >>> x = cr.tensor([1.0, np.nan, np.inf], requires_grad=True)
    >>> y = cr.nan_to_num(x, posinf=9.0); y
    tensor([1., 0., 9.], grad_fn=<NanToNumBackward>)
    >>> cr.sum(y).backward(); x.grad
    tensor([1., 0., 0.])
    """
    if not copy:
        raise TypeError(
            "nan_to_num: copy=False replaces in x itself; chainrule returns a new tensor: x = nan_to_num(x)"
        )
    return apply(OPS["nan_to_num"], x, nan=nan, posinf=posinf, neginf=neginf)


def real_if_close(a: TensorLike, tol: float = 100) -> Tensor:
    """a, as ``np.real_if_close``: chainrule's tensors are real, so on a Tensor (or real data) this
    is the identity, and so is its gradient. A complex NumPy input whose imaginary parts are all
    within ``tol`` machine epsilons becomes its real part; one that is not is refused (TypeError).

    >>> import chainrule as cr, numpy as np
    >>> cr.real_if_close(np.array([2.5 + 1e-16j, 1.0 - 1e-17j]))
    tensor([2.5, 1. ], dtype=float64)
    """
    return apply(OPS["real_if_close"], real_part_if_close(a, tol), tol=tol)


# ------------------------------------------------------------------ sorting
@torch_keywords
def sort(a: TensorLike, axis: int | None = -1) -> Tensor:
    """a sorted along ``axis`` (flattened for None), as ``np.sort``; the gradient puts each g[i]
    back where out[i] came from: gₐ = g at the inverse of the sorting permutation. Ties keep their
    order (a stable sort), so equal elements route g in that order; NaNs sort last.

    >>> import chainrule as cr
    >>> x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    >>> y = cr.sort(x); y
    tensor([1., 2., 3.], grad_fn=<SortBackward>)
    >>> cr.sum(y * cr.tensor([10.0, 20.0, 30.0])).backward(); x.grad
    tensor([30., 10., 20.])
    """
    return apply(OPS["sort"], a, axis=axis)


@torch_keywords
def partition(a: TensorLike, kth: int | Sequence[int], axis: int | None = -1) -> Tensor:
    """a rearranged along ``axis`` as ``np.partition``: the element at position ``kth`` is the one
    a sorted copy has there, smaller ones before it, larger ones after. The gradient puts each
    g[i] back where out[i] came from (the inverse of the ``np.argpartition`` permutation).

    >>> import chainrule as cr
    >>> x = cr.tensor([5.0, 1.0, 4.0, 2.0], requires_grad=True)
    >>> y = cr.partition(x, 1); y[1]
    tensor(2., grad_fn=<GetitemBackward>)
    >>> y[1].backward(); x.grad
    tensor([0., 0., 0., 1.])
    """
    return apply(OPS["partition"], a, kth=kth, axis=axis)


@torch_keywords
def argsort(a: TensorLike, axis: int | None = -1) -> Tensor:
    """The positions that sort a along ``axis`` (flattened for None), as a stable ``np.argsort``:
    the order :func:`sort` reads a in. An integer tensor, with no gradient.

    >>> import chainrule as cr
    >>> cr.argsort(cr.tensor([3.0, 1.0, 2.0, 1.0]))
    tensor([1, 3, 2, 0])
    """
    return _as_tensor(a, "argsort").argsort(axis)


@torch_keywords
def argmax(a: TensorLike, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Tensor:
    """The position of the largest element (of the flattened a for None), as ``np.argmax``: the
    first one among ties. An integer tensor, with no gradient.

    >>> import chainrule as cr
    >>> cr.argmax(cr.tensor([[1.0, 5.0], [7.0, 0.0]]), axis=1)
    tensor([1, 0])
    """
    x = _reduced("argmax", a, None, out)
    return _as_tensor(x, "argmax").argmax(axis, keepdims)


@torch_keywords
def argmin(a: TensorLike, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Tensor:
    """The position of the smallest element (of the flattened a for None), as ``np.argmin``: the
    first one among ties. An integer tensor, with no gradient.

    >>> import chainrule as cr
    >>> cr.argmin(cr.tensor([[1.0, 5.0], [7.0, 0.0]]))
    tensor(3)
    """
    x = _reduced("argmin", a, None, out)
    return _as_tensor(x, "argmin").argmin(axis, keepdims)


def _as_tensor(a: TensorLike, what: str) -> Tensor:
    """a as a Tensor (a new one on an array's data): its integer-result methods run on it."""
    t = tensor_or_array(a, what)
    return t if isinstance(t, Tensor) else Tensor._make(t, None)
