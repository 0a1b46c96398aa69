"""NumPy's functions that build arrays on Tensors, with NumPy's names and signatures.

Pad, select, diagonals (``diag``, ``diagflat``), the products ``kron``, ``inner`` and
``cross``, the grids ``linspace``, ``logspace`` and ``meshgrid``, and the index tricks ``r_`` and ``c_``.
Each is a row of the derivative table made of other rows (``ops/construction.py``), or
assembles rows where NumPy returns several arrays (``meshgrid``) or joins its entries
(``r_``, ``c_``), so gradients flow in both modes and to every order. Arguments may mix
Tensors, NumPy arrays, numbers and nested lists; the result is a Tensor (or a tuple of
Tensors where NumPy returns several), and the gradient reaches the Tensors among the inputs.

>>> import chainrule as cr
>>> from chainrule import construction as C
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> C.pad(x, 1).tolist()
[0.0, 1.0, 2.0, 0.0]
>>> cr.sum(C.kron(x, [1.0, 1.0, 1.0])).backward(); x.grad    # each element was copied 3 times
tensor([3., 3.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from . import backends, dtypes
from .arguments import run_row as _row
from .arguments import tensor_argument as _tensor
from .functions import pow as pow_
from .ops.assembly import check_join
from .ops.construction import meshgrid_parts
from .tensor import RECORDING, Tensor, TensorLike, as_array, data_of

__all__ = [
    "c_",
    "cross",
    "diag",
    "diagflat",
    "inner",
    "kron",
    "linspace",
    "logspace",
    "meshgrid",
    "pad",
    "r_",
    "select",
]


# ------------------------------------------------------------------ pad
def pad(
    array: TensorLike,
    pad_width: int | Sequence[int] | Sequence[Sequence[int]],
    mode: str = "constant",
    *,
    constant_values: TensorLike | None = None,
    reflect_type: str | None = None,
) -> Tensor:
    """array with ``pad_width`` = (before, after) elements added on each axis (one number,
    one pair, or a pair per axis, as in NumPy).

    ``mode``: "constant" (``constant_values``, default 0: numbers, or a Tensor that then
    gets gradients), "edge" (the edge element), "reflect" (mirrored without the edge),
    "symmetric" (mirrored with the edge), "wrap" (the other end). The gradient of the
    array is g's middle for "constant", and for the others g added back onto the
    elements each padded position copied. ``reflect_type`` "odd" and NumPy's statistics
    modes raise NotImplementedError.

    >>> import chainrule as cr
    >>> from chainrule.construction import pad
    >>> pad(cr.tensor([1.0, 2.0, 3.0]), (2, 1), mode="reflect").tolist()
    [3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
    >>> pad(cr.tensor([1.0, 2.0]), 1, constant_values=9.0).tolist()
    [9.0, 1.0, 2.0, 9.0]
    """
    a = _tensor(array, "pad")
    if constant_values is not None and not isinstance(constant_values, Tensor):
        constant_values = np.asarray(constant_values)
    out: Tensor = _row("pad", a, pad_width, mode, constant_values=constant_values, reflect_type=reflect_type)
    return out


# ------------------------------------------------------------------ select, diagonals
def select(
    condlist: Sequence[TensorLike], choicelist: Sequence[TensorLike], default: TensorLike = 0
) -> Tensor:
    """out = choicelist[i] where condlist[i] is the first condition that holds, else
    ``default`` (all broadcast together). The gradient reaches each choice (and a Tensor
    default) where it was chosen.

    >>> import chainrule as cr
    >>> from chainrule.construction import select
    >>> x = cr.tensor([-1.0, 0.5, 2.0])
    >>> select([x.data < 0, x.data > 1], [-x, x * 10], default=x).tolist()
    [1.0, 0.5, 20.0]
    """
    conditions = [as_array(c, what="select") for c in condlist]
    choices = [_tensor(x, "select") for x in choicelist]
    if not isinstance(default, (Tensor, int, float, bool, np.generic)):
        default = _tensor(default, "select")
    out: Tensor = _row("select", conditions, choices, default=default)
    return out


def diag(v: TensorLike, k: int = 0) -> Tensor:
    """For a vector v of length n: the (n+|k|) × (n+|k|) matrix with v on diagonal k, zeros
    elsewhere. For a matrix: its diagonal k as a vector. Each is the other's transpose,
    and so the other's gradient.

    >>> import chainrule as cr
    >>> from chainrule.construction import diag
    >>> diag(cr.tensor([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    >>> diag(cr.tensor([[1.0, 2.0], [3.0, 4.0]]), k=1).tolist()
    [2.0]
    """
    out: Tensor = _row("diag", _tensor(v, "diag"), k=k)
    return out


def diagflat(v: TensorLike, k: int = 0) -> Tensor:
    """The matrix with v, flattened, on diagonal k.

    >>> import chainrule as cr
    >>> from chainrule.construction import diagflat
    >>> diagflat(cr.tensor([[1.0, 2.0]])).tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    out: Tensor = _row("diagflat", _tensor(v, "diagflat"), k=k)
    return out


# ------------------------------------------------------------------ products
def kron(a: TensorLike, b: TensorLike) -> Tensor:
    """Kronecker product: out[i·m + j] = a[i]·b[j] for vectors (b of length m), block by
    block for more axes; ∂/∂a[i] = Σⱼ g[i·m + j]·b[j].

    >>> import chainrule as cr
    >>> from chainrule.construction import kron
    >>> kron(cr.tensor([1.0, 10.0]), [1.0, 2.0]).tolist()
    [1.0, 2.0, 10.0, 20.0]
    """
    out: Tensor = _row("kron", _tensor(a, "kron"), _tensor(b, "kron"))
    return out


def inner(a: TensorLike, b: TensorLike, /) -> Tensor:
    """Σ over the last axes: out[i…, j…] = Σₖ a[i…, k]·b[j…, k] (a·b when one is 0-d).

    >>> import chainrule as cr
    >>> from chainrule.construction import inner
    >>> inner(cr.tensor([1.0, 2.0, 3.0]), [4.0, 5.0, 6.0]).item()
    32.0
    """
    out: Tensor = _row("inner", _tensor(a, "inner"), _tensor(b, "inner"))
    return out


def cross(
    a: TensorLike, b: TensorLike, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> Tensor:
    """a × b = (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀) for vectors along ``axisa`` and
    ``axisb`` (broadcast over the other axes), put along ``axisc``; ``axis`` sets all
    three. ∂(a × b)/∂a · t = t × b. 2-vectors are taken with z = 0 (deprecated in NumPy 2).

    >>> import chainrule as cr
    >>> from chainrule.construction import cross
    >>> cross(cr.tensor([1.0, 0.0, 0.0]), [0.0, 1.0, 0.0]).tolist()
    [0.0, 0.0, 1.0]
    """
    out: Tensor = _row(
        "cross", _tensor(a, "cross"), _tensor(b, "cross"), axisa=axisa, axisb=axisb, axisc=axisc, axis=axis
    )
    return out


# ------------------------------------------------------------------ grids
def meshgrid(
    *xi: TensorLike, copy: bool = True, sparse: bool = False, indexing: str = "xy"
) -> tuple[Tensor, ...]:
    """Coordinate arrays of the grid x₀ × x₁ × …: out_i holds x_i (flattened) along axis i
    ('ij') — with axes 0 and 1 exchanged for 'xy' (the default) — broadcast to the whole
    grid unless ``sparse``. The gradient of x_i sums g_i over the other axes. ``copy`` is
    accepted for NumPy's signature: each result is a new Tensor either way.

    >>> import chainrule as cr
    >>> from chainrule.construction import meshgrid
    >>> X, Y = meshgrid(cr.tensor([1.0, 2.0, 3.0]), [4.0, 5.0])
    >>> X.tolist(), Y.shape
    ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], (2, 3))
    """
    del copy  # NumPy's flag for views or copies; each result here is a new Tensor either way
    parts: tuple[Tensor, ...] = meshgrid_parts(
        RECORDING, *(_tensor(x, "meshgrid") for x in xi), indexing=indexing, sparse=sparse
    )
    return parts


def linspace(
    start: TensorLike,
    stop: TensorLike,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: npt.DTypeLike | None = None,
    axis: int = 0,
) -> Tensor | tuple[Tensor, Tensor | float]:
    """``num`` evenly spaced samples: out[i] = start + i·(stop − start)/d with d = num − 1
    (num without the endpoint), broadcast over the shapes of start and stop, the new axis
    at ``axis``. Linear in start and stop: ∂out[i]/∂start = 1 − i/d, ∂out[i]/∂stop = i/d.
    With ``retstep`` returns (samples, step) (step NaN when d = 0, as NumPy). Python
    numbers give the default dtype.

    >>> import chainrule as cr
    >>> from chainrule.construction import linspace
    >>> a = cr.tensor(0.0, requires_grad=True)
    >>> y = linspace(a, 1.0, num=5)
    >>> y.tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> cr.sum(y).backward(); a.grad     # Σᵢ (1 − i/4)
    tensor(2.5)
    """
    out: Tensor | tuple[Tensor, Tensor | float] = _row(
        "linspace",
        _tensor(start, "linspace"),
        _tensor(stop, "linspace"),
        num=num,
        endpoint=endpoint,
        retstep=retstep,
        dtype=dtype,
        axis=axis,
    )
    return out


def logspace(
    start: TensorLike,
    stop: TensorLike,
    num: int = 50,
    endpoint: bool = True,
    base: TensorLike = 10.0,
    dtype: npt.DTypeLike | None = None,
    axis: int = 0,
) -> Tensor:
    """``num`` samples spaced evenly on a log scale, as ``np.logspace``: out = base ** y with
    y = :func:`linspace` (start, stop, num, endpoint) along ``axis``, from base**start to
    base**stop. Made of linspace and pow, so differentiable in start, stop and base:
    ∂out[i]/∂start = out[i] ln(base) (1 − i/d). ``dtype`` converts the result. Python numbers
    give the default dtype.

    >>> import chainrule as cr
    >>> from chainrule.construction import logspace
    >>> a = cr.tensor(0.0, requires_grad=True)
    >>> y = logspace(a, 2.0, num=3)
    >>> y.tolist()
    [1.0, 10.0, 100.0]
    >>> cr.sum(y).backward(); a.grad     # ln 10 · (1·1 + 10·½ + 100·0)
    tensor(13.815511)
    """
    y = cast(Tensor, linspace(start, stop, num=num, endpoint=endpoint, axis=axis))  # no retstep: one Tensor
    b: TensorLike = base
    if np.ndim(data_of(base)) > 0:
        # As NumPy: base gets the axes of start and stop, and one of length 1 where the samples go.
        b = _tensor(base, "logspace")
        ndim = max(np.ndim(data_of(start)), np.ndim(data_of(stop)), b.ndim)
        b = b.reshape((1,) * (ndim - b.ndim) + b.shape).expand_dims(axis)
    out = pow_(b, y)
    return out if dtype is None else out.astype(dtype)


# ------------------------------------------------------------------ index tricks
class AxisConcatenator:
    """``r_[...]`` and ``c_[...]``: slices, numbers, arrays and Tensors joined along an axis.

    A slice ``a:b:s`` becomes ``arange(a, b, s)`` (``linspace(a, b, n)`` for an imaginary
    step ``nj``); numbers and arrays are given at least ``ndmin`` axes (1-d arrays stand
    along axis ``trans1d`` when that is not -1); everything is cast to one dtype and
    joined along ``axis``. A first entry that is a string sets these: ``'0'`` (axis),
    ``'0,2'`` (axis, ndmin), ``'0,2,0'`` (and trans1d), or ``'r'``/``'c'`` (a 2-d row or
    column; no ``np.matrix``). The join is concatenate, so Tensors get gradients.

    >>> import chainrule as cr
    >>> from chainrule.construction import c_, r_
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> r_[x, 0, 4:6].tolist()
    [1.0, 2.0, 0.0, 4.0, 5.0]
    >>> c_[x, [3.0, 4.0]].tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    >>> r_["0,2", x, [3.0, 4.0]].shape      # axis 0, at least 2-d: rows
    (2, 2)
    >>> cr.sum(r_[x, x] * r_[1.0, 2.0, 3.0, 4.0]).backward(); x.grad
    tensor([4., 6.])
    """

    __slots__ = ("name", "axis", "ndmin", "trans1d")

    def __init__(self, name: str, axis: int = 0, ndmin: int = 1, trans1d: int = -1) -> None:
        self.name = name
        self.axis = axis
        self.ndmin = ndmin
        self.trans1d = trans1d

    def __repr__(self) -> str:
        return f"<chainrule.construction.{self.name}: join along axis {self.axis}, at least {self.ndmin}-d>"

    def __len__(self) -> int:
        return 0

    def __getitem__(self, key: Any) -> Tensor:
        name = self.name
        if isinstance(key, str):
            raise ValueError(f"{name}: matrix strings such as {key!r} are not supported; index with entries")
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d, matrix = self.axis, self.ndmin, self.trans1d, ""
        parts: list[Any] = []
        kinds: list[Any] = []  # dtypes of arrays, values of scalars (weak in NumPy's promotion)
        for k, item in enumerate(items):
            if isinstance(item, str):
                if k:
                    raise ValueError(f"{name}: the directive {item!r} must be the first entry, not entry {k}")
                axis, ndmin, trans1d, matrix = _directive(name, item, axis, ndmin, trans1d)
                continue
            if isinstance(item, slice):
                values = _range(name, item)
                kinds.append(values.dtype)
                if ndmin > 1:
                    values = values.reshape((1,) * (ndmin - 1) + values.shape)
                    if trans1d != -1:
                        values = np.swapaxes(values, -1, trans1d)
                parts.append(Tensor._make(values, None))
            elif isinstance(item, (bool, int, float, complex, np.generic)):
                kinds.append(item)
                parts.append(item)
            else:
                t = _tensor(item, name)
                kinds.append(dtypes.numpy_dtype(t.dtype))
                parts.append(_lifted(t, ndmin, trans1d))
        if not parts:
            raise ValueError(f"{name}: needs at least one entry to join")
        dtype = _joined_dtype(kinds)
        device = next((p.device for p in parts if isinstance(p, Tensor)), "cpu")  # numbers join them there
        joined = [
            Tensor._make(backends.move(np.full((1,) * ndmin, p, dtype=dtype), device), None)
            if not isinstance(p, Tensor)
            else p
            if dtypes.numpy_dtype(p.dtype) == dtype
            else p.astype(dtype)
            for p in parts
        ]
        check_join(name, joined, axis)
        out = joined[0].reshape(joined[0].shape) if len(joined) == 1 else RECORDING.concat(joined, axis=axis)
        return _as_matrix(name, out, matrix) if matrix else out


def _directive(name: str, item: str, axis: int, ndmin: int, trans1d: int) -> tuple[int, int, int, str]:
    if item in ("r", "c"):
        return axis, ndmin, trans1d, item
    try:
        numbers = [int(x) for x in item.split(",")]
    except ValueError:
        numbers = []
    if not 1 <= len(numbers) <= 3:
        raise ValueError(
            f"{name}: unknown directive {item!r}; give 'axis', 'axis,ndmin', 'axis,ndmin,trans1d', 'r' or 'c'"
        )
    numbers += [ndmin, trans1d][len(numbers) - 1 :]
    return numbers[0], numbers[1], numbers[2], ""


def _range(name: str, item: slice) -> np.ndarray:
    """A slice as NumPy's index tricks read it: arange, or linspace for an imaginary step."""
    start: Any = 0 if item.start is None else item.start
    step: Any = 1 if item.step is None else item.step
    if item.stop is None:
        raise ValueError(f"{name}: a slice needs a stop, got {item!r}")
    if isinstance(step, (complex, np.complexfloating)):
        values = np.linspace(start, item.stop, num=int(abs(complex(step))))
    else:
        values = np.arange(start, item.stop, step)
    if values.dtype.kind == "f":  # a range of floats has the default dtype, as cr.arange's
        values = values.astype(dtypes.get_default_dtype())
    return values


def _lifted(t: Tensor, ndmin: int, trans1d: int) -> Tensor:
    """t with at least ``ndmin`` axes: leading 1s added, then (with trans1d) its own axes
    moved to start at axis ``trans1d``, as NumPy places a 1-d array in a column."""
    if t.ndim >= ndmin:
        return t
    extra = ndmin - t.ndim
    t = t.reshape((1,) * extra + t.shape)
    if trans1d == -1:
        return t
    k1 = trans1d + extra + 1 if trans1d < 0 else trans1d
    axes = list(range(ndmin))
    return t.transpose(tuple(axes[:k1] + axes[extra:] + axes[k1:extra]))


def _joined_dtype(kinds: list[Any]) -> np.dtype:
    """NumPy's result type of the entries, Python floats alone giving the default dtype."""
    if any(isinstance(k, (np.dtype, np.generic)) for k in kinds):
        return np.result_type(*kinds)
    return as_array(kinds, what="r_").dtype


def _as_matrix(name: str, out: Tensor, matrix: str) -> Tensor:
    if out.ndim > 2:
        raise ValueError(
            f"{name}: the directive {matrix!r} makes a 2-d result, but the join has shape {out.shape}"
        )
    if out.ndim == 2:
        return out
    return out.reshape((-1, 1) if matrix == "c" and out.ndim == 1 else (1, -1))


r_ = AxisConcatenator("r_")  # np.r_: entries joined along axis 0
c_ = AxisConcatenator(
    "c_", axis=-1, ndmin=2, trans1d=0
)  # np.c_: 1-d entries as columns, joined along the last axis
