"""Reductions with NumPy's names and signatures: sum, mean, max, min, prod, logsumexp, var, std.

Each reduces ``a`` over ``axis`` (None: all axes; an int or a tuple), keeping the reduced
axes as size 1 with ``keepdims``; PyTorch's ``dim=``/``keepdim=`` are accepted too. The
gradient of a reduction spreads g back over the axes it reduced: all of it to each
element for ``sum``, g/N for ``mean``, to the selected element for ``max``/``min`` (ties
share it evenly), softmax(a)·g for ``logsumexp``.

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
>>> cr.sum(cr.max(x, axis=1)).backward(); x.grad
tensor([[0., 1.],
        [0., 1.]])
"""

from __future__ import annotations

import numpy.typing as npt

from .arguments import reduction_input as _reduced
from .ops import OPS
from .spellings import torch_keywords
from .tensor import RECORDING, Axis, Tensor, TensorLike, apply, tensor_or_array

__all__ = [
    "amax",
    "amin",
    "logsumexp",
    "max",
    "mean",
    "min",
    "prod",
    "std",
    "sum",
    "var",
]


# NumPy's signatures, positions included: np.sum(a, 0, np.float32) passes a dtype, not keepdims.
# ``dtype`` converts a first; ``out``, ``initial`` and ``where`` are refused by _reduced.
@torch_keywords
def sum(  # noqa: A001 - NumPy's name
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: None = None,
    where: bool = True,
) -> Tensor:
    """Σ over ``axis``; the gradient copies g back over the summed axes."""
    return apply(OPS["sum"], _reduced("sum", a, dtype, out, initial, where), axis=axis, keepdims=keepdims)


@torch_keywords
def mean(
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: bool = True,
) -> Tensor:
    """Σ/N over ``axis``; the gradient is g/N at every element."""
    return apply(OPS["mean"], _reduced("mean", a, dtype, out, None, where), axis=axis, keepdims=keepdims)


@torch_keywords
def max(  # noqa: A001 - NumPy's name
    a: TensorLike,
    axis: Axis = None,
    out: None = None,
    keepdims: bool = False,
    initial: None = None,
    where: bool = True,
) -> Tensor:
    """Largest element; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["max"], _reduced("max", a, None, out, initial, where), axis=axis, keepdims=keepdims)


@torch_keywords
def min(  # noqa: A001 - NumPy's name
    a: TensorLike,
    axis: Axis = None,
    out: None = None,
    keepdims: bool = False,
    initial: None = None,
    where: bool = True,
) -> Tensor:
    """Smallest element; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["min"], _reduced("min", a, None, out, initial, where), axis=axis, keepdims=keepdims)


amax = max  # NumPy's other names for the same reductions
amin = min


@torch_keywords
def prod(
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    keepdims: bool = False,
    initial: None = None,
    where: bool = True,
) -> Tensor:
    """Π over ``axis``; ∂/∂x_i is the product of the other elements (exact at zeros)."""
    return apply(OPS["prod"], _reduced("prod", a, dtype, out, initial, where), axis=axis, keepdims=keepdims)


@torch_keywords
def logsumexp(a: TensorLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ exp(a), computed stably; its gradient is softmax(a)."""
    return apply(OPS["logsumexp"], a, axis=axis, keepdims=keepdims)


@torch_keywords
def var(
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    ddof: int = 0,
    keepdims: bool = False,
    *,
    where: bool = True,
) -> Tensor:
    """Σ (a - mean)² / (N - ddof)."""
    x = tensor_or_array(_reduced("var", a, dtype, out, None, where))
    result: Tensor = OPS["var"].fn(RECORDING, x, axis=axis, ddof=ddof, keepdims=keepdims)
    return result


@torch_keywords
def std(
    a: TensorLike,
    axis: Axis = None,
    dtype: npt.DTypeLike | None = None,
    out: None = None,
    ddof: int = 0,
    keepdims: bool = False,
    *,
    where: bool = True,
) -> Tensor:
    """√var(a); its gradient (a - mean) / ((N - ddof) std) is 0 where std is 0."""
    return apply(
        OPS["std"], _reduced("std", a, dtype, out, None, where), axis=axis, ddof=ddof, keepdims=keepdims
    )
