"""Public functions, one per table op (see ``ops/``), each a thin call of :func:`apply`.

Each function takes Tensors, NumPy arrays, Python numbers or nested lists and
returns a Tensor. Elementwise functions, reductions and shape ops are also
Tensor methods (``t.exp()``, ``t.sum(axis=0)``, ``t.reshape(2, 3)``). Functions with
``axis=``/``keepdims=`` take PyTorch's ``dim=``/``keepdim=`` too (see ``spellings.py``). Adding an op
to the table adds one function here; ``tests/test_surface.py`` checks that every
op has one.

>>> import chainrule as cr
>>> x = cr.tensor([0.0, 1.0], requires_grad=True)
>>> y = cr.sum(cr.exp(x))
>>> y.backward(); x.grad          # d/dx Σ exp(x) = exp(x)
tensor([1.      , 2.718282])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy.typing as npt

from .ops import OPS
from .ops.contraction import split_operands, steps
from .spellings import torch_keywords
from .tensor import RECORDING, Axis, Shape, Tensor, TensorLike, apply, data_of, tensor_or_array

__all__ = [
    "abs",
    "add",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "astype",
    "broadcast_to",
    "ceil",
    "clip",
    "concatenate",
    "cos",
    "cosh",
    "cumprod",
    "cumsum",
    "deg2rad",
    "degrees",
    "diagonal",
    "diff",
    "div",
    "dot",
    "einsum",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "fabs",
    "flatten",
    "flip",
    "floor",
    "fmax",
    "fmin",
    "fmod",
    "hypot",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "matmul",
    "maximum",
    "minimum",
    "mod",
    "moveaxis",
    "mul",
    "neg",
    "outer",
    "pow",
    "rad2deg",
    "radians",
    "ravel",
    "reciprocal",
    "relu",
    "remainder",
    "reshape",
    "roll",
    "round",
    "sigmoid",
    "sign",
    "sin",
    "sinc",
    "sinh",
    "softplus",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "sub",
    "swapaxes",
    "tan",
    "tanh",
    "tensordot",
    "trace",
    "transpose",
    "tril",
    "triu",
    "where",
]


# ------------------------------------------------------------------ elementwise, one input
def exp(x: TensorLike) -> Tensor:
    """eˣ, elementwise; its derivative is eˣ itself."""
    return apply(OPS["exp"], x)


def expm1(x: TensorLike) -> Tensor:
    """eˣ − 1, exact near 0; its derivative is eˣ."""
    return apply(OPS["expm1"], x)


def log(x: TensorLike) -> Tensor:
    """ln x; its derivative is 1/x."""
    return apply(OPS["log"], x)


def log1p(x: TensorLike) -> Tensor:
    """ln(1 + x), exact near 0; its derivative is 1/(1 + x)."""
    return apply(OPS["log1p"], x)


def log2(x: TensorLike) -> Tensor:
    """log₂ x; its derivative is 1/(x ln 2)."""
    return apply(OPS["log2"], x)


def log10(x: TensorLike) -> Tensor:
    """log₁₀ x; its derivative is 1/(x ln 10)."""
    return apply(OPS["log10"], x)


def sqrt(x: TensorLike) -> Tensor:
    """√x; its derivative is 1/(2√x)."""
    return apply(OPS["sqrt"], x)


def abs(x: TensorLike) -> Tensor:  # noqa: A001 - NumPy's name
    """|x|; its derivative is sign(x) (0 at the kink)."""
    return apply(OPS["abs"], x)


def sign(x: TensorLike) -> Tensor:
    """−1, 0 or 1 as x is negative, zero or positive; its derivative is 0."""
    return apply(OPS["sign"], x)


def sin(x: TensorLike) -> Tensor:
    """sin x; its derivative is cos x."""
    return apply(OPS["sin"], x)


def cos(x: TensorLike) -> Tensor:
    """cos x; its derivative is −sin x."""
    return apply(OPS["cos"], x)


def tan(x: TensorLike) -> Tensor:
    """tan x; its derivative is 1 + tan² x."""
    return apply(OPS["tan"], x)


def arcsin(x: TensorLike) -> Tensor:
    """sin⁻¹ x; its derivative is 1/√(1 − x²)."""
    return apply(OPS["arcsin"], x)


def arccos(x: TensorLike) -> Tensor:
    """cos⁻¹ x; its derivative is −1/√(1 − x²)."""
    return apply(OPS["arccos"], x)


def arctan(x: TensorLike) -> Tensor:
    """tan⁻¹ x; its derivative is 1/(1 + x²)."""
    return apply(OPS["arctan"], x)


def sinh(x: TensorLike) -> Tensor:
    """sinh x; its derivative is cosh x."""
    return apply(OPS["sinh"], x)


def cosh(x: TensorLike) -> Tensor:
    """cosh x; its derivative is sinh x."""
    return apply(OPS["cosh"], x)


def tanh(x: TensorLike) -> Tensor:
    """tanh x; its derivative is 1 − tanh² x."""
    return apply(OPS["tanh"], x)


def arcsinh(x: TensorLike) -> Tensor:
    """sinh⁻¹ x; its derivative is 1/√(x² + 1)."""
    return apply(OPS["arcsinh"], x)


def arccosh(x: TensorLike) -> Tensor:
    """cosh⁻¹ x; its derivative is 1/√(x² − 1)."""
    return apply(OPS["arccosh"], x)


def arctanh(x: TensorLike) -> Tensor:
    """tanh⁻¹ x; its derivative is 1/(1 − x²)."""
    return apply(OPS["arctanh"], x)


def sigmoid(x: TensorLike) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ), computed without overflow; its derivative is σ(1 − σ)."""
    return apply(OPS["sigmoid"], x)


def relu(x: TensorLike) -> Tensor:
    """max(x, 0); its derivative is 1 where x > 0, else 0."""
    return apply(OPS["relu"], x)


def softplus(x: TensorLike) -> Tensor:
    """ln(1 + eˣ), computed without overflow; its derivative is σ(x)."""
    return apply(OPS["softplus"], x)


def neg(x: TensorLike) -> Tensor:
    """-x."""
    return apply(OPS["neg"], x)


def clip(a: TensorLike, a_min: npt.ArrayLike | None, a_max: npt.ArrayLike | None) -> Tensor:
    """Limit a to [a_min, a_max] (either may be None); gradient 1 inside, 0 outside."""
    return apply(OPS["clip"], a, a_min=a_min, a_max=a_max)


def astype(x: TensorLike, dtype: npt.DTypeLike) -> Tensor:
    """x converted to ``dtype`` (the gradient is converted back)."""
    return apply(OPS["astype"], x, dtype=dtype)


# ------------------------------------------------------------------ elementwise, two inputs (broadcast)
def add(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 + x2; ∂/∂x1 = ∂/∂x2 = 1."""
    return apply(OPS["add"], x1, x2)


def sub(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 − x2; ∂/∂x1 = 1, ∂/∂x2 = −1."""
    return apply(OPS["sub"], x1, x2)


def mul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 · x2; ∂/∂x1 = x2, ∂/∂x2 = x1."""
    return apply(OPS["mul"], x1, x2)


def div(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 / x2; ∂/∂x1 = 1/x2, ∂/∂x2 = −x1/x2²."""
    return apply(OPS["div"], x1, x2)


def pow(x1: TensorLike, x2: TensorLike) -> Tensor:  # noqa: A001 - NumPy's name
    """x1 ** x2; ∂/∂x1 = x2 x1^(x2 − 1), ∂/∂x2 = x1^x2 ln x1."""
    return apply(OPS["pow"], x1, x2)


def arctan2(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The angle of the point (x2, x1), as ``np.arctan2``; ∂/∂x1 = x2/(x1² + x2²), ∂/∂x2 = −x1/(x1² + x2²)."""
    return apply(OPS["arctan2"], x1, x2)


def maximum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The larger of x1 and x2; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["maximum"], x1, x2)


def minimum(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The smaller of x1 and x2; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["minimum"], x1, x2)


def where(condition: TensorLike, x: TensorLike, y: TensorLike) -> Tensor:
    """x where condition holds, else y; the gradient flows to the chosen side only."""
    return apply(OPS["where"], condition, x, y)


# ------------------------------------------------------------------ shape
def reshape(a: TensorLike, shape: Shape) -> Tensor:
    """The same elements in a new shape (one entry may be -1)."""
    return apply(OPS["reshape"], a, shape=shape)


def transpose(a: TensorLike, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them by default)."""
    return apply(OPS["transpose"], a, axes=axes)


def broadcast_to(array: TensorLike, shape: Shape) -> Tensor:
    """``array`` repeated to ``shape`` by broadcasting; the gradient sums back."""
    return apply(OPS["broadcast_to"], array, shape=shape)


@torch_keywords
def concatenate(arrays: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join a sequence of tensors (or arrays) along an existing axis."""
    return apply(OPS["concatenate"], *arrays, axis=axis)


def swapaxes(a: TensorLike, axis1: int, axis2: int) -> Tensor:
    """The axes ``axis1`` and ``axis2`` exchanged: a transpose."""
    out: Tensor = OPS["swapaxes"].fn(RECORDING, tensor_or_array(a), axis1, axis2)
    return out


def moveaxis(a: TensorLike, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """The axes ``source`` moved to ``destination`` (ints or sequences), as ``np.moveaxis``:
    a transpose."""
    out: Tensor = OPS["moveaxis"].fn(RECORDING, tensor_or_array(a), source, destination)
    return out


def flatten(a: TensorLike) -> Tensor:
    """The elements as a 1-D tensor."""
    out: Tensor = OPS["flatten"].fn(RECORDING, tensor_or_array(a))
    return out


ravel = flatten  # NumPy's name for the same


@torch_keywords
def squeeze(a: TensorLike, axis: Axis = None) -> Tensor:
    """Drop axes of size 1 (all of them, or the ones named)."""
    out: Tensor = OPS["squeeze"].fn(RECORDING, tensor_or_array(a), axis=axis)
    return out


@torch_keywords
def expand_dims(a: TensorLike, axis: int | Sequence[int]) -> Tensor:
    """Insert axes of size 1 at ``axis`` (an int or a tuple)."""
    out: Tensor = OPS["expand_dims"].fn(RECORDING, tensor_or_array(a), axis)
    return out


@torch_keywords
def stack(arrays: Sequence[TensorLike], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    out: Tensor = OPS["stack"].fn(RECORDING, [tensor_or_array(a) for a in arrays], axis=axis)
    return out


def split(ary: TensorLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into equal sections or at the given indices along ``axis``, as ``np.split``."""
    parts: list[Tensor] = OPS["split"].fn(RECORDING, tensor_or_array(ary), indices_or_sections, axis=axis)
    return parts


# ------------------------------------------------------------------ linear algebra
def matmul(x1: TensorLike, x2: TensorLike) -> Tensor:
    """Matrix product with NumPy's rules (1-D promotion, batched leading axes)."""
    return apply(OPS["matmul"], x1, x2)


def einsum(*operands: Any, optimize: bool | str | Sequence[Any] = False) -> Tensor:
    """Einstein summation, as ``np.einsum``: ``einsum("ij,jk->ik", a, b)`` is a @ b; an ellipsis
    may stand anywhere in a term, for the same broadcast axes in each; without ``->`` the
    output is NumPy's implicit one. The sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``
    is the same call. ``optimize`` (False, True, ``"greedy"``, ``"optimal"``, an explicit
    ``["einsum_path", ...]`` or an opt_einsum strategy) splits three or more operands into
    pairwise contractions along that path, each one node (see ``ops/contraction.py``).

    >>> import chainrule as cr
    >>> a, b = cr.tensor([[1.0, 2.0]]), cr.tensor([[3.0], [4.0]])
    >>> einsum(a, [0, 1], b, [1, 2], [0, 2])
    tensor([[11.]])
    """
    spec, arrays = split_operands(operands)
    if optimize is False or len(arrays) < 3:
        return apply(OPS["einsum"], *arrays, spec=spec)
    values: list[Any] = [tensor_or_array(a, "einsum") for a in arrays]
    canonical = OPS["einsum"].prepare(*(data_of(v) for v in values), spec=spec)  # checks the call
    for positions, step in steps(canonical["ins"], canonical["out"], [v.shape for v in values], optimize):
        pair = [values[p] for p in positions]
        values = [v for k, v in enumerate(values) if k not in positions] + [
            apply(OPS["einsum"], *pair, spec=step)
        ]
    result: Tensor = values[0]
    return result


def dot(a: TensorLike, b: TensorLike) -> Tensor:
    """``np.dot``: inner product of vectors, matrix product, or sum over a's last and b's
    second-to-last axis."""
    out: Tensor = OPS["dot"].fn(RECORDING, tensor_or_array(a, "dot"), tensor_or_array(b, "dot"))
    return out


def outer(a: TensorLike, b: TensorLike) -> Tensor:
    """Outer product of the flattened inputs: out[i, j] = a[i]·b[j]."""
    out: Tensor = OPS["outer"].fn(RECORDING, tensor_or_array(a, "outer"), tensor_or_array(b, "outer"))
    return out


def tensordot(a: TensorLike, b: TensorLike, axes: int | Sequence[int | Sequence[int]] = 2) -> Tensor:
    """Sum of products over the given axes, as ``np.tensordot``."""
    a, b = tensor_or_array(a, "tensordot"), tensor_or_array(b, "tensordot")
    out: Tensor = OPS["tensordot"].fn(RECORDING, a, b, axes=axes)
    return out


# ------------------------------------------------------------------ more elementwise functions
def square(x: TensorLike) -> Tensor:
    """x²; its derivative is 2x."""
    return apply(OPS["square"], x)


def reciprocal(x: TensorLike) -> Tensor:
    """1/x; its derivative is −1/x²."""
    return apply(OPS["reciprocal"], x)


def exp2(x: TensorLike) -> Tensor:
    """2ˣ; its derivative is 2ˣ ln 2."""
    return apply(OPS["exp2"], x)


def fabs(x: TensorLike) -> Tensor:
    """|x| as a float; its derivative is sign(x) (0 at the kink)."""
    return apply(OPS["fabs"], x)


def floor(x: TensorLike) -> Tensor:
    """The largest integer ≤ x; its derivative is 0 (between the jumps)."""
    return apply(OPS["floor"], x)


def ceil(x: TensorLike) -> Tensor:
    """The smallest integer ≥ x; its derivative is 0 (between the jumps)."""
    return apply(OPS["ceil"], x)


def round(a: TensorLike, decimals: int = 0) -> Tensor:  # noqa: A001 - NumPy's name
    """a rounded to ``decimals`` places (halves to even); its derivative is 0 (between the jumps)."""
    return apply(OPS["round"], a, decimals=decimals)


def sinc(x: TensorLike) -> Tensor:
    """sin(πx)/(πx), 1 at 0; its derivative is (cos πx − sinc x)/x, 0 at 0."""
    return apply(OPS["sinc"], x)


def deg2rad(x: TensorLike) -> Tensor:
    """Degrees to radians, x·π/180; its derivative is π/180."""
    return apply(OPS["deg2rad"], x)


def rad2deg(x: TensorLike) -> Tensor:
    """Radians to degrees, x·180/π; its derivative is 180/π."""
    return apply(OPS["rad2deg"], x)


radians = deg2rad
degrees = rad2deg


def fmax(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The larger of x1 and x2, ignoring NaNs; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["fmax"], x1, x2)


def fmin(x1: TensorLike, x2: TensorLike) -> Tensor:
    """The smaller of x1 and x2, ignoring NaNs; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["fmin"], x1, x2)


def hypot(x1: TensorLike, x2: TensorLike) -> Tensor:
    """√(x1² + x2²); ∂/∂x1 = x1/hypot, ∂/∂x2 = x2/hypot."""
    return apply(OPS["hypot"], x1, x2)


def logaddexp(x1: TensorLike, x2: TensorLike) -> Tensor:
    """ln(e^x1 + e^x2), computed stably; ∂/∂x1 = e^(x1 − out), ∂/∂x2 = e^(x2 − out)."""
    return apply(OPS["logaddexp"], x1, x2)


def logaddexp2(x1: TensorLike, x2: TensorLike) -> Tensor:
    """log₂(2^x1 + 2^x2), computed stably; ∂/∂x1 = 2^(x1 − out), ∂/∂x2 = 2^(x2 − out)."""
    return apply(OPS["logaddexp2"], x1, x2)


def mod(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 − floor(x1/x2)·x2, with x2's sign; ∂/∂x1 = 1, ∂/∂x2 = −floor(x1/x2)."""
    return apply(OPS["mod"], x1, x2)


remainder = mod


def fmod(x1: TensorLike, x2: TensorLike) -> Tensor:
    """x1 − trunc(x1/x2)·x2, with x1's sign; ∂/∂x1 = 1, ∂/∂x2 = −trunc(x1/x2)."""
    return apply(OPS["fmod"], x1, x2)


# ------------------------------------------------------------------ scans, diagonals, triangles
@torch_keywords
def cumsum(a: TensorLike, axis: int | None = None) -> Tensor:
    """Running sum along ``axis`` (flattened for None); the gradient is g's running sum from the end."""
    return apply(OPS["cumsum"], a, axis=axis)


@torch_keywords
def cumprod(a: TensorLike, axis: int | None = None) -> Tensor:
    """Running product along ``axis`` (a without zeros); ∂out_i/∂a_j = out_i/a_j for j ≤ i."""
    return apply(OPS["cumprod"], a, axis=axis)


@torch_keywords
def diff(a: TensorLike, n: int = 1, axis: int = -1) -> Tensor:
    """The n-th difference a[i+1] − a[i] along ``axis``; linear, its gradient is −diff of g padded by 0s."""
    return apply(OPS["diff"], a, n=n, axis=axis)


@torch_keywords
def flip(m: TensorLike, axis: int | Sequence[int] | None = None) -> Tensor:
    """m reversed along ``axis`` (all axes for None); linear, its gradient is g flipped back."""
    return apply(OPS["flip"], m, axis=axis)


@torch_keywords
def roll(a: TensorLike, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """a shifted cyclically by ``shift`` along ``axis``; linear, its gradient is g rolled back by −shift."""
    return apply(OPS["roll"], a, shift=shift, axis=axis)


def trace(a: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Σ of the diagonal; ∂/∂a is 1 on that diagonal and 0 elsewhere."""
    return apply(OPS["trace"], a, offset=offset, axis1=axis1, axis2=axis2)


def diagonal(a: TensorLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of a (as a last axis); linear, its gradient puts g back on that diagonal."""
    return apply(OPS["diagonal"], a, offset=offset, axis1=axis1, axis2=axis2)


def tril(m: TensorLike, k: int = 0) -> Tensor:
    """m with the entries above diagonal k zeroed; its gradient is g masked the same way."""
    return apply(OPS["tril"], m, k=k)


def triu(m: TensorLike, k: int = 0) -> Tensor:
    """m with the entries below diagonal k zeroed; its gradient is g masked the same way."""
    return apply(OPS["triu"], m, k=k)
