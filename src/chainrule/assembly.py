"""NumPy's shape and assembly functions on Tensors, with NumPy's names and signatures.

Flip, rotate, make at least n-d, stack, join, split, repeat and tile. Each is a row of
the derivative table made of other rows (``ops/assembly.py``), so gradients flow in both
modes and to every order. Arguments may mix Tensors, NumPy arrays, numbers and nested
lists; the result is a Tensor (or a list or tuple of Tensors where NumPy returns
several), and the gradient reaches the Tensors among the inputs. NumPy's functions that
build arrays (pad, select, diagonals, products, grids, ``r_`` and ``c_``) are in
:mod:`chainrule.construction`.

>>> import chainrule as cr
>>> from chainrule import assembly as A
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> y = A.vstack([x, [3.0, 4.0]])      # a Tensor row over a list row
>>> y.shape
(2, 2)
>>> cr.sum(A.tile(x, 3)).backward(); x.grad    # each element was copied 3 times
tensor([3., 3.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .arguments import run_row as _row
from .arguments import tensor_argument as _tensor
from .tensor import Tensor, TensorLike

__all__ = [
    "append",
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "dsplit",
    "dstack",
    "fliplr",
    "flipud",
    "hsplit",
    "hstack",
    "repeat",
    "rollaxis",
    "rot90",
    "row_stack",
    "tile",
    "vsplit",
    "vstack",
]


def _sequence(value: Any, name: str) -> list[Tensor]:
    """The arrays to join: a list or tuple, or the rows of one array (as NumPy iterates it)."""
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim:
        rows: list[Any] = [value[i] for i in range(value.shape[0])]
    elif isinstance(value, (list, tuple)):
        rows = list(value)
    else:
        raise TypeError(
            f"{name}: the arrays to join must be a sequence (list or tuple), got {type(value).__name__}"
        )
    return [_tensor(v, name) for v in rows]


# ------------------------------------------------------------------ flips and rotations
def fliplr(m: TensorLike) -> Tensor:
    """m with its axis 1 reversed: out[i, j] = m[i, n−1−j] (m has at least 2 axes).

    Linear; the gradient is g reversed the same way.

    >>> import chainrule as cr
    >>> from chainrule.assembly import fliplr
    >>> fliplr(cr.tensor([[1.0, 2.0, 3.0]])).tolist()
    [[3.0, 2.0, 1.0]]
    """
    out: Tensor = _row("fliplr", _tensor(m, "fliplr"))
    return out


def flipud(m: TensorLike) -> Tensor:
    """m with its axis 0 reversed: out[i, ...] = m[n−1−i, ...] (m has at least 1 axis).

    >>> import chainrule as cr
    >>> from chainrule.assembly import flipud
    >>> flipud(cr.tensor([1.0, 2.0, 3.0])).tolist()
    [3.0, 2.0, 1.0]
    """
    out: Tensor = _row("flipud", _tensor(m, "flipud"))
    return out


def rot90(m: TensorLike, k: int = 1, axes: Sequence[int] = (0, 1)) -> Tensor:
    """m rotated by 90° k times in the plane of ``axes``, from the first axis towards the
    second (k may be negative): a flip and a transpose, so the gradient is g rotated back.

    >>> import chainrule as cr
    >>> from chainrule.assembly import rot90
    >>> rot90(cr.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[2.0, 4.0], [1.0, 3.0]]
    """
    out: Tensor = _row("rot90", _tensor(m, "rot90"), k=k, axes=axes)
    return out


def rollaxis(a: TensorLike, axis: int, start: int = 0) -> Tensor:
    """a with axis ``axis`` moved to stand before axis ``start`` (NumPy's older moveaxis).

    >>> import chainrule as cr
    >>> from chainrule.assembly import rollaxis
    >>> rollaxis(cr.zeros(2, 3, 4), 2).shape
    (4, 2, 3)
    """
    out: Tensor = _row("rollaxis", _tensor(a, "rollaxis"), axis, start=start)
    return out


# ------------------------------------------------------------------ at least n axes
def atleast_1d(*arys: TensorLike) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least one axis (0-d → shape (1,)); one input gives a Tensor,
    several a tuple, as in NumPy.

    >>> import chainrule as cr
    >>> from chainrule.assembly import atleast_1d
    >>> atleast_1d(cr.tensor(5.0)).shape
    (1,)
    """
    out: Tensor | tuple[Tensor, ...] = _row("atleast_1d", *(_tensor(a, "atleast_1d") for a in arys))
    return out


def atleast_2d(*arys: TensorLike) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least two axes: 0-d → (1, 1), (n,) → (1, n).

    >>> import chainrule as cr
    >>> from chainrule.assembly import atleast_2d
    >>> [t.shape for t in atleast_2d(1.0, [1.0, 2.0])]
    [(1, 1), (1, 2)]
    """
    out: Tensor | tuple[Tensor, ...] = _row("atleast_2d", *(_tensor(a, "atleast_2d") for a in arys))
    return out


def atleast_3d(*arys: TensorLike) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least three axes: 0-d → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1).

    >>> import chainrule as cr
    >>> from chainrule.assembly import atleast_3d
    >>> atleast_3d(cr.zeros(2, 3)).shape
    (2, 3, 1)
    """
    out: Tensor | tuple[Tensor, ...] = _row("atleast_3d", *(_tensor(a, "atleast_3d") for a in arys))
    return out


# ------------------------------------------------------------------ stacks and joins
def vstack(
    tup: Sequence[TensorLike], *, dtype: npt.DTypeLike | None = None, casting: str = "same_kind"
) -> Tensor:
    """The arrays, each made at least 2-d ((n,) → (1, n)), joined along axis 0.

    Linear; the gradient is g cut back into the pieces.

    >>> import chainrule as cr
    >>> from chainrule.assembly import vstack
    >>> vstack([cr.tensor([1.0, 2.0]), [[3.0, 4.0], [5.0, 6.0]]]).tolist()
    [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    """
    out: Tensor = _row("vstack", _sequence(tup, "vstack"), dtype=dtype, casting=casting)
    return out


row_stack = vstack  # NumPy's older name (deprecated there) for vstack


def hstack(
    tup: Sequence[TensorLike], *, dtype: npt.DTypeLike | None = None, casting: str = "same_kind"
) -> Tensor:
    """The arrays, each made at least 1-d, joined along axis 1 (axis 0 for 1-d arrays).

    >>> import chainrule as cr
    >>> from chainrule.assembly import hstack
    >>> hstack([cr.tensor([1.0, 2.0]), 3.0]).tolist()
    [1.0, 2.0, 3.0]
    """
    out: Tensor = _row("hstack", _sequence(tup, "hstack"), dtype=dtype, casting=casting)
    return out


def dstack(tup: Sequence[TensorLike]) -> Tensor:
    """The arrays, each made at least 3-d ((n,) → (1, n, 1), (m, n) → (m, n, 1)), joined along axis 2.

    >>> import chainrule as cr
    >>> from chainrule.assembly import dstack
    >>> dstack([cr.tensor([1.0, 2.0]), [3.0, 4.0]]).shape
    (1, 2, 2)
    """
    out: Tensor = _row("dstack", _sequence(tup, "dstack"))
    return out


def column_stack(tup: Sequence[TensorLike]) -> Tensor:
    """1-d (and 0-d) arrays as columns (n, 1), 2-d arrays as they are, joined along axis 1.

    >>> import chainrule as cr
    >>> from chainrule.assembly import column_stack
    >>> column_stack([cr.tensor([1.0, 2.0]), [3.0, 4.0]]).tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    out: Tensor = _row("column_stack", _sequence(tup, "column_stack"))
    return out


def append(arr: TensorLike, values: TensorLike, axis: int | None = None) -> Tensor:
    """``values`` joined after ``arr`` along ``axis``; both flattened first for None.

    >>> import chainrule as cr
    >>> from chainrule.assembly import append
    >>> append(cr.tensor([[1.0, 2.0]]), [3.0]).tolist()
    [1.0, 2.0, 3.0]
    """
    out: Tensor = _row("append", _tensor(arr, "append"), _tensor(values, "append"), axis=axis)
    return out


# ------------------------------------------------------------------ splits
def array_split(ary: TensorLike, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """ary cut along ``axis`` into n pieces (the first l mod n of them one longer, for an
    axis of length l) or at the given indices. Each piece is a slice, so its gradient
    lands in that slice.

    >>> import chainrule as cr
    >>> from chainrule.assembly import array_split
    >>> [p.tolist() for p in array_split(cr.tensor([1.0, 2.0, 3.0]), 2)]
    [[1.0, 2.0], [3.0]]
    """
    parts: list[Tensor] = _row("array_split", _tensor(ary, "array_split"), indices_or_sections, axis=axis)
    return parts


def vsplit(ary: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """``split`` along axis 0 of an array with at least 2 axes (sections must divide it).

    >>> import chainrule as cr
    >>> from chainrule.assembly import vsplit
    >>> [p.shape for p in vsplit(cr.zeros(4, 2), 2)]
    [(2, 2), (2, 2)]
    """
    parts: list[Tensor] = _row("vsplit", _tensor(ary, "vsplit"), indices_or_sections)
    return parts


def hsplit(ary: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """``split`` along axis 1 (axis 0 of a 1-d array).

    >>> import chainrule as cr
    >>> from chainrule.assembly import hsplit
    >>> [p.shape for p in hsplit(cr.zeros(2, 3), [1])]
    [(2, 1), (2, 2)]
    """
    parts: list[Tensor] = _row("hsplit", _tensor(ary, "hsplit"), indices_or_sections)
    return parts


def dsplit(ary: TensorLike, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """``split`` along axis 2 of an array with at least 3 axes.

    >>> import chainrule as cr
    >>> from chainrule.assembly import dsplit
    >>> [p.shape for p in dsplit(cr.zeros(1, 2, 4), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    parts: list[Tensor] = _row("dsplit", _tensor(ary, "dsplit"), indices_or_sections)
    return parts


# ------------------------------------------------------------------ copies
def repeat(a: TensorLike, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Each element of a repeated ``repeats`` times along ``axis`` (of the flattened a for
    None); ``repeats`` is one count or one per element. The gradient of an element is the
    sum of g over its copies.

    >>> import chainrule as cr
    >>> from chainrule.assembly import repeat
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> repeat(x, [3, 1]).tolist()
    [1.0, 1.0, 1.0, 2.0]
    >>> cr.sum(repeat(x, [3, 1])).backward(); x.grad
    tensor([3., 1.])
    """
    out: Tensor = _row("repeat", _tensor(a, "repeat"), repeats, axis=axis)
    return out


def tile(A: TensorLike, reps: int | Sequence[int]) -> Tensor:  # noqa: N803 - NumPy's name
    """A repeated whole ``reps[i]`` times along axis i; A or reps is first given leading 1s
    so they have as many entries. out.shape[i] = reps[i]·A.shape[i]; the gradient sums g
    over the tiles.

    >>> import chainrule as cr
    >>> from chainrule.assembly import tile
    >>> tile(cr.tensor([1.0, 2.0]), (2, 2)).tolist()
    [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]
    """
    out: Tensor = _row("tile", _tensor(A, "tile"), reps)
    return out
