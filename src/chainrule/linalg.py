"""Linear algebra with NumPy's names and signatures (``np.linalg``), differentiable.

Matrices are the last two axes; leading axes are a batch, as in NumPy. ``inv``,
``det``, ``slogdet``, ``solve`` and ``cholesky`` are rows of the derivative table (``ops/matrix.py``);
``norm`` is made of table ops.

>>> import numpy as np
>>> import chainrule as cr
>>> a = cr.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
>>> cr.linalg.slogdet(a)[1].backward()
>>> np.allclose(a.grad.data, np.linalg.inv(a.data).T)     # ∇ log|det A| = A⁻ᵀ
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import functions as F
from .ops import OPS
from .tensor import Tensor, TensorLike, apply, tensor_or_array

__all__ = ["cholesky", "det", "inv", "norm", "slogdet", "solve"]


def inv(a: TensorLike) -> Tensor:
    """A⁻¹ of each (..., M, M) matrix; d(A⁻¹) = −A⁻¹ dA A⁻¹. A singular matrix raises
    ``numpy.linalg.LinAlgError``.

    >>> inv([[2.0, 0.0], [0.0, 4.0]])
    tensor([[0.5 , 0.  ],
            [0.  , 0.25]])
    """
    return apply(OPS["inv"], a)


def det(a: TensorLike) -> Tensor:
    """det A of each (..., M, M) matrix, shape (...); ∇ det A = det A · A⁻ᵀ.

    >>> det([[2.0, 1.0], [1.0, 3.0]])
    tensor(5.)
    """
    return apply(OPS["det"], a)


def slogdet(a: TensorLike) -> tuple[Tensor, Tensor]:
    """(sign, log|det A|) of each (..., M, M) matrix; ∇ log|det A| = A⁻ᵀ, and the sign
    is a constant (it has no gradient).

    >>> sign, logabsdet = slogdet([[0.0, 2.0], [3.0, 0.0]])
    >>> sign, logabsdet
    (tensor(-1.), tensor(1.7917595))
    """
    x = tensor_or_array(a)
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    logabsdet = apply(OPS["slogdet"], x)  # checks the shape first
    return Tensor(np.linalg.slogdet(data)[0].astype(logabsdet.dtype)), logabsdet


def solve(a: TensorLike, b: TensorLike) -> Tensor:
    """x with A x = b. As NumPy 2: a 1-D b is one vector (x has shape (..., M)); else b
    is a stack of (..., M, K) matrices. dx = A⁻¹ (db − dA x); ∇_b = A⁻ᵀ g, ∇_A = −∇_b xᵀ.

    >>> solve([[2.0, 0.0], [0.0, 4.0]], [1.0, 1.0])
    tensor([0.5 , 0.25])
    """
    return apply(OPS["solve"], a, b)


def cholesky(a: TensorLike) -> Tensor:
    """The lower-triangular L with A = L Lᵀ, for each symmetric positive-definite
    (..., M, M) matrix; dL = L Φ(L⁻¹ dA L⁻ᵀ), Φ the lower triangle with its diagonal
    halved. NumPy reads only A's lower triangle, so the gradient lies there. A matrix
    that is not positive definite raises
    ``numpy.linalg.LinAlgError``.

    >>> cholesky([[4.0, 2.0], [2.0, 2.0]])
    tensor([[2., 0.],
            [1., 1.]])
    """
    return apply(OPS["cholesky"], a)


# ------------------------------------------------------------------ norm


def _root(s: Tensor, p: float) -> Tensor:
    """s^(1/p) for s ≥ 0 whose gradient at s = 0 is 0, not NaN (as torch's norm gives):
    the root is taken of 1 there and then replaced by 0."""
    positive = s > 0
    safe = F.where(positive, s, 1.0)
    root = F.sqrt(safe) if p == 2 else F.pow(safe, 1.0 / p)
    return F.where(positive, root, 0.0)


def _vector_norm(x: Tensor, ord: float | None, axis: int) -> Tensor:  # noqa: A002 - NumPy's name
    if ord is None or ord == 2:
        return _root(F.sum(x * x, axis=axis, keepdims=True), 2)
    if ord == math.inf:
        return F.max(F.abs(x), axis=axis, keepdims=True)
    if ord == -math.inf:
        return F.min(F.abs(x), axis=axis, keepdims=True)
    if ord == 0:
        return F.sum(F.where(x != 0, 1.0, 0.0), axis=axis, keepdims=True)
    if ord == 1:
        return F.sum(F.abs(x), axis=axis, keepdims=True)
    return _root(F.sum(F.pow(F.abs(x), float(ord)), axis=axis, keepdims=True), float(ord))


def _matrix_norm(x: Tensor, ord: float | str | None, axes: tuple[int, int]) -> Tensor:  # noqa: A002
    row, col = axes
    if ord is None or ord == "fro":
        return _root(F.sum(x * x, axis=axes, keepdims=True), 2)
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        sums, over = F.sum(F.abs(x), axis=row, keepdims=True), col
    elif ord in (math.inf, -math.inf):  # the largest (smallest) row sum
        sums, over = F.sum(F.abs(x), axis=col, keepdims=True), row
    else:
        raise ValueError(f"norm: matrix ord {ord!r} is not supported (use None, 'fro', 1, -1, inf or -inf)")
    pick = F.max if ord in (1, math.inf) else F.min
    return pick(sums, axis=over, keepdims=True)


def norm(
    x: TensorLike,
    ord: float | str | None = None,  # noqa: A002 - NumPy's name
    axis: int | Sequence[int] | None = None,
    keepdims: bool = False,
) -> Tensor:
    """A vector or matrix norm, as ``np.linalg.norm``.

    With ``axis`` None, ``ord`` None is the 2-norm of all elements; otherwise x must be
    1-D (a vector norm) or 2-D (a matrix norm). An int ``axis`` takes vector norms along
    it: ord None or 2 (√Σx²), 1, inf, -inf, 0 (the count of nonzeros) or any p
    ((Σ|x|^p)^(1/p)). Two axes take matrix norms: None or 'fro', 1, -1, inf, -inf. The
    gradient of a root norm at 0 is 0.

    >>> norm([3.0, 4.0])
    tensor(5.)
    """
    t = tensor_or_array(x)
    t = t if isinstance(t, Tensor) else Tensor(np.asarray(t, dtype=np.result_type(np.asarray(t), 1.0)))
    shape = t.shape
    if axis is None:
        if ord is None:
            axes: tuple[int, ...] = tuple(range(t.ndim))
            out = _root(F.sum(t * t, axis=axes, keepdims=True), 2)
            return out if keepdims else F.reshape(out, ())
        if t.ndim not in (1, 2):
            raise ValueError(f"norm: with axis=None and an ord, x must be 1-D or 2-D, got shape {shape}")
        axes = tuple(range(t.ndim))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        if len(axes) not in (1, 2):
            raise ValueError(f"norm: axis must name one or two axes, got {axis!r}")
        for a in axes:
            if not -t.ndim <= a < t.ndim:
                raise ValueError(f"norm: axis {a} is out of range for shape {shape}")
        axes = tuple(int(a) % t.ndim for a in axes)
        if len(axes) == 2 and axes[0] == axes[1]:
            raise ValueError(f"norm: the two axes must differ, got {axis!r}")
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: ord {ord!r} is for matrices; vectors take a number")
        out = _vector_norm(t, ord, axes[0])
    else:
        out = _matrix_norm(t, ord, (axes[0], axes[1]))
    if keepdims:
        return out
    return F.reshape(out, tuple(d for i, d in enumerate(shape) if i not in axes))
