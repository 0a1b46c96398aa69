"""Linear algebra with NumPy's names and signatures (``np.linalg``), differentiable.

Matrices are the last two axes; leading axes are a batch, as in NumPy. ``inv``,
``det``, ``slogdet``, ``solve`` and ``cholesky`` are rows of the derivative table (``ops/matrix.py``);
so are ``eigh``, ``eigvalsh``, ``svd``, ``qr``, ``pinv`` and ``matrix_power`` (``ops/decomp.py``:
a decomposition's row stacks its factors, and the functions here slice them apart);
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
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import backends, dtypes, reductions
from . import functions as F
from .batching import constant_of
from .forward import live_tangents
from .mode import is_grad_enabled
from .ops import OPS
from .spellings import torch_keywords
from .tensor import RECORDING, Tensor, TensorLike, apply, tensor_or_array

__all__ = [
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matrix_power",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
]


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
    logabsdet = apply(OPS["slogdet"], x)  # checks the shape first
    x = x if isinstance(x, Tensor) else Tensor._make(x, None)

    def sign(m: Any) -> Any:  # in m's own array library, on its device
        return backends.astype(backends.namespace_of(m).linalg.slogdet(m)[0], logabsdet.dtype)

    return constant_of(sign, x), logabsdet


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


# ------------------------------------------------------------------ decompositions


class EighResult(NamedTuple):
    """``eigh``'s (eigenvalues, eigenvectors), as NumPy's namedtuple."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """``svd``'s (U, S, Vh), as NumPy's namedtuple."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class QRResult(NamedTuple):
    """``qr``'s (Q, R), as NumPy's namedtuple."""

    Q: Tensor
    R: Tensor


def _as_tensor(a: TensorLike) -> Tensor:
    x = tensor_or_array(a)
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _carries_derivative(x: Tensor) -> bool:
    """Whether a derivative with respect to x can be asked for: recorded or in forward mode."""
    return (x.requires_grad and is_grad_enabled()) or bool(live_tangents(x))


def _constants(
    name: str, x: Tensor, what: str, fix: str, values: tuple[np.ndarray, ...]
) -> tuple[Tensor, ...]:
    """Factors NumPy computed that have no unique derivative: given as constants, and
    refused when a derivative could be asked for."""
    if _carries_derivative(x):
        raise ValueError(
            f"{name}: {what} of a matrix of shape {x.shape} have columns with no unique derivative "
            f"(any orthonormal completion would do); {fix} to differentiate"
        )
    return tuple(Tensor(v) for v in values)


def _matrix_dims(name: str, x: Tensor) -> tuple[int, int]:
    if x.ndim < 2:
        raise ValueError(f"{name}: needs matrices in the last two axes, got shape {x.shape}")
    return x.shape[-2], x.shape[-1]


def eigh(a: TensorLike, UPLO: str = "L") -> EighResult:  # noqa: N803 - NumPy's name
    """The eigenvalues λ (ascending, shape (..., M)) and orthonormal eigenvectors V (columns,
    shape (..., M, M)) of each symmetric matrix: A = V diag(λ) Vᵀ.

    With Ȧ = Vᵀ dA V: dλ = diag(Ȧ) and dV = V (F ∘ Ȧ), F_ij = 1/(λ_j − λ_i) (0 on the
    diagonal). NumPy reads only the ``UPLO`` triangle ('L' or 'U') of A, so the gradient
    lies in that triangle. The eigenvector derivative does not exist at repeated
    eigenvalues: differentiating V there raises ``numpy.linalg.LinAlgError``. A reverse pass
    that reaches only λ is fine there (it is ``eigvalsh``'s); forward mode, which pushes
    a tangent to V too, needs ``eigvalsh`` itself.

    >>> import chainrule as cr
    >>> a = cr.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    >>> w, v = eigh(a)
    >>> w[1].backward()                    # ∇λ₁ = v₁ v₁ᵀ, in the lower triangle
    >>> u = v.data[:, 1]
    >>> np.allclose(a.grad.data, np.tril(2 * np.outer(u, u)) - np.diag(u * u))
    True
    """
    out = apply(OPS["eigh"], a, UPLO=UPLO)
    return EighResult(out[..., 0, :], out[..., 1:, :])


def eigvalsh(a: TensorLike, UPLO: str = "L") -> Tensor:  # noqa: N803 - NumPy's name
    """The eigenvalues λ (ascending, shape (..., M)) of each symmetric matrix; dλ = diag(Vᵀ dA V),
    ∇ (w · λ) = V diag(w) Vᵀ (on the ``UPLO`` triangle NumPy reads). Repeated eigenvalues
    are fine here.

    >>> import chainrule as cr
    >>> a = cr.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]], requires_grad=True)
    >>> eigvalsh(a)[2].backward()          # the largest: ∂λ/∂A = e₃ e₃ᵀ
    >>> a.grad
    tensor([[0., 0., 0.],
            [0., 0., 0.],
            [0., 0., 1.]])
    """
    return apply(OPS["eigvalsh"], a, UPLO=UPLO)


def svd(
    a: TensorLike, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> SVDResult | Tensor:
    """A = U diag(S) Vh for each (..., M, N) matrix, S descending, as ``np.linalg.svd``;
    with ``compute_uv=False`` the singular values S alone.

    ds = diag(Uᵀ dA V), so ∇ (w · S) = U diag(w) Vh. U and V are differentiable where the
    singular values are distinct and nonzero (K = min(M, N), F_ij = 1/(s_j² − s_i²),
    Ṗ = Uᵀ dA V): dU = U (F ∘ (Ṗ S + S Ṗᵀ)) + (I − U Uᵀ) dA V S⁻¹ and likewise for V;
    differentiating them at repeated or zero singular values raises
    ``numpy.linalg.LinAlgError`` (a reverse pass that reaches only S is fine anywhere, as
    ``compute_uv=False`` is in both modes). With
    ``full_matrices=True`` a non-square A's U or Vh has columns beyond K that any orthonormal
    completion could fill: they have no derivative, so that call is refused when a
    derivative could be asked for (pass ``full_matrices=False``). ``hermitian=True`` reads
    A's lower triangle, as NumPy does.

    >>> import chainrule as cr
    >>> a = cr.tensor([[3.0, 0.0], [4.0, 5.0]], requires_grad=True)
    >>> u, s, vh = svd(a, full_matrices=False)
    >>> s.sum().backward()                 # ∇‖A‖_nuc = U Vh
    >>> np.allclose(a.grad.data, u.data @ vh.data)
    True
    """
    if not compute_uv:
        return apply(OPS["svdvals"], a, hermitian=hermitian)
    x = _as_tensor(a)
    m, n = _matrix_dims("svd", x)
    if full_matrices and m != n and not hermitian:
        u, s, vh = backends.namespace_of(x._data).linalg.svd(x._data, full_matrices=True)
        return SVDResult(
            *_constants("svd", x, "with full_matrices=True, U and Vh", "pass full_matrices=False", (u, s, vh))
        )
    out = apply(OPS["svd"], x, hermitian=hermitian)
    return SVDResult(out[..., :m, :], out[..., m, :], F.swapaxes(out[..., m + 1 :, :], -1, -2))


def qr(a: TensorLike, mode: str = "reduced") -> QRResult | Tensor:
    """A = Q R for each (..., M, N) matrix, Q with orthonormal columns and R upper
    triangular, as ``np.linalg.qr``: ``mode`` 'reduced' (Q is (M, K), R (K, N), K = min(M, N)),
    'complete' (Q is (M, M)) or 'r' (R alone).

    With C = Qᵀ dA R⁻¹ and Ω = tril(C, −1) − tril(C, −1)ᵀ: dR = (C − Ω) R and
    dQ = dA R⁻¹ − Q (C − Ω). A wide A = [A₁ A₂] (M < N) is Q R₁ = A₁ with R = [R₁, Qᵀ A₂].
    The derivative needs A₁ (the first K columns) of full rank; a rank-deficient one raises
    ``numpy.linalg.LinAlgError`` when differentiated. 'complete' on a tall A (M > N) adds
    columns to Q that have no unique derivative: refused when a derivative could be asked
    for. 'raw' (Householder reflectors) is not offered.

    >>> import chainrule as cr
    >>> a = cr.tensor([[3.0, 1.0], [4.0, 2.0]], requires_grad=True)
    >>> q, r = qr(a)
    >>> np.allclose((q @ r).data, a.data)
    True
    >>> r[0, 0].backward()                 # R₀₀ = ±‖a₀‖, its gradient ±a₀/‖a₀‖ in column 0
    >>> np.allclose(a.grad.data, [[0.6 * np.sign(r.data[0, 0]), 0.0], [0.8 * np.sign(r.data[0, 0]), 0.0]])
    True
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    x = _as_tensor(a)
    m, n = _matrix_dims("qr", x)
    if mode == "complete" and m > n:
        full = backends.namespace_of(x._data).linalg.qr(x._data, mode="complete")
        return QRResult(*_constants("qr", x, "with mode='complete', Q", "use mode='reduced'", tuple(full)))
    if m < n:
        out = apply(OPS["qr"], x[..., :m])
        q, r_square = out[..., :m, :], out[..., m:, :]
        r = F.concatenate([r_square, F.matmul(F.swapaxes(q, -1, -2), x[..., m:])], axis=-1)
    else:
        out = apply(OPS["qr"], x)
        q, r = out[..., :m, :], out[..., m:, :]
    return r if mode == "r" else QRResult(q, r)


def pinv(a: TensorLike, rcond: float | None = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse A⁺ of each (..., M, N) matrix, shape (..., N, M), as
    ``np.linalg.pinv`` (``rcond`` and ``hermitian`` as there; ``hermitian`` reads the lower
    triangle). For A of full rank, X = A⁺:

    dX = −X dA X + X Xᵀ dAᵀ (I − A X) + (I − X A) dAᵀ Xᵀ X.

    A⁺ jumps where the rank changes, so differentiating at a rank-deficient A raises
    ``numpy.linalg.LinAlgError``.

    >>> import chainrule as cr
    >>> a = cr.tensor([[1.0], [2.0]], requires_grad=True)   # A⁺ = Aᵀ / (AᵀA)
    >>> np.allclose(pinv(a).data, [[0.2, 0.4]])
    True
    """
    return apply(OPS["pinv"], a, rcond=rcond, hermitian=hermitian)


def matrix_power(a: TensorLike, n: int) -> Tensor:
    """Aⁿ for each (..., M, M) matrix and integer n, by repeated squaring of matmuls (n < 0:
    of A⁻¹; n = 0: the identity, a constant), so its derivative is theirs:
    d(Aⁿ) = Σₖ Aᵏ dA Aⁿ⁻¹⁻ᵏ for n > 0.

    >>> matrix_power([[1.0, 1.0], [0.0, 1.0]], 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}") from None
    x = _as_tensor(a)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"matrix_power: needs square matrices in the last two axes, got shape {x.shape}")
    out = OPS["matrix_power"].fn(RECORDING, x, n)
    return out if isinstance(out, Tensor) else Tensor(np.asarray(out))


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
        return _root(reductions.sum(x * x, axis=axis, keepdims=True), 2)
    if ord == math.inf:
        return reductions.max(F.abs(x), axis=axis, keepdims=True)
    if ord == -math.inf:
        return reductions.min(F.abs(x), axis=axis, keepdims=True)
    if ord == 0:
        return reductions.sum(F.astype(x != 0, x.dtype), axis=axis, keepdims=True)
    if ord == 1:
        return reductions.sum(F.abs(x), axis=axis, keepdims=True)
    return _root(reductions.sum(F.pow(F.abs(x), float(ord)), axis=axis, keepdims=True), float(ord))


def _spectral_norm(x: Tensor, ord: float | str, axes: tuple[int, int]) -> Tensor:  # noqa: A002
    """ord 2, -2, 'nuc': the largest or smallest singular value, or their sum, with the
    shape keepdims gives. ∇‖A‖₂ = u₁ v₁ᵀ, ∇‖A‖_nuc = U Vᵀ (ties share the gradient evenly,
    which makes it the same for every choice of singular vectors)."""
    moved = F.moveaxis(x, axes, (-2, -1))
    s = apply(OPS["svdvals"], moved)
    pick = reductions.sum if ord == "nuc" else reductions.max if ord == 2 else reductions.min
    value = pick(s, axis=-1)
    return F.reshape(value, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


def _matrix_norm(x: Tensor, ord: float | str | None, axes: tuple[int, int]) -> Tensor:  # noqa: A002
    row, col = axes
    if ord is None or ord == "fro":
        return _root(reductions.sum(x * x, axis=axes, keepdims=True), 2)
    if isinstance(ord, str) and ord == "nuc" or ord in (2, -2):
        return _spectral_norm(x, ord, axes)
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        sums, over = reductions.sum(F.abs(x), axis=row, keepdims=True), col
    elif ord in (math.inf, -math.inf):  # the largest (smallest) row sum
        sums, over = reductions.sum(F.abs(x), axis=col, keepdims=True), row
    else:
        raise ValueError(
            f"norm: matrix ord {ord!r} is not supported (use None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf)"
        )
    pick = reductions.max if ord in (1, math.inf) else reductions.min
    return pick(sums, axis=over, keepdims=True)


@torch_keywords
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
    ((Σ|x|^p)^(1/p)). Two axes take matrix norms: None or 'fro', 1, -1, inf, -inf, and from
    the singular values 2 (the largest, ∇ = u₁ v₁ᵀ), -2 (the smallest) and 'nuc' (their
    sum, ∇ = U Vᵀ). The gradient of a root norm at 0 is 0.

    >>> norm([3.0, 4.0])
    tensor(5.)
    """
    t = tensor_or_array(x)
    t = t if isinstance(t, Tensor) else Tensor(t)
    if dtypes.kind(t.dtype) != "f":  # NumPy's norm of integers or booleans is a float64
        t = F.astype(t, np.result_type(dtypes.numpy_dtype(t.dtype), 1.0))
    shape = t.shape
    if axis is None:
        if ord is None:
            axes: tuple[int, ...] = tuple(range(t.ndim))
            out = _root(reductions.sum(t * t, axis=axes, keepdims=True), 2)
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
