"""The NumPy functions a forward may call beyond the array API standard
(``FORWARD_EXTRAS`` in ``xp.py``), composed from standard functions for a namespace that
lacks them.

NumPy and CuPy have every extra under its NumPy name; another namespace (array-api-strict,
or any array-API library) gets these compositions. :func:`with_extras` gives a namespace
that has them all, which is what ``OpDef.forward_on`` binds a forward to. Each composition
computes what NumPy's function computes (``fmod``'s sign, ``fmax``'s NaN rule,
``nan_to_num``'s defaults; ``einsum`` and ``gradient`` to rounding), and
``tests/test_backends.py`` checks it against NumPy on array-api-strict arrays.

NumPy's indexing beyond the standard's (integer and boolean arrays) and its in-place
scatter-add ``add.at`` are composed here too, as :func:`indexed` and :func:`add_at`: forwards
reach them through :func:`index_into`, :func:`scatter_into`, :func:`add_into` and
:func:`take_indices`, which take NumPy's own fast calls on NumPy. :func:`put_rows` assigns
rows (``z[rows] = values``), as a sparse optimizer step writes them.

>>> import numpy as np
>>> with_extras(np) is np
True
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

from .xp import on_numpy

__all__ = ["FALLBACKS", "with_extras"]


def exp2(xp: Any, x: Any) -> Any:
    return 2.0**x


def rad2deg(xp: Any, x: Any) -> Any:
    return x * (180 / math.pi)


def fmax(xp: Any, x: Any, y: Any) -> Any:
    """The maximum, where a NaN loses to a number."""
    return xp.where(xp.isnan(y), x, xp.where(xp.isnan(x), y, xp.maximum(x, y)))


def fmin(xp: Any, x: Any, y: Any) -> Any:
    """The minimum, where a NaN loses to a number."""
    return xp.where(xp.isnan(y), x, xp.where(xp.isnan(x), y, xp.minimum(x, y)))


def fmod(xp: Any, x: Any, y: Any) -> Any:
    """x − trunc(x / y) · y, with x's sign: ``remainder`` (y's sign, exact), moved by y
    where the signs differ; a zero keeps x's sign, and a finite x over an infinite y is x."""
    r = xp.remainder(x, y)
    r = xp.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)
    r = xp.where(r == 0, xp.copysign(r, x), r)
    return xp.where(xp.isinf(y) & xp.isfinite(x), x, r)


def logaddexp2(xp: Any, x: Any, y: Any) -> Any:
    """log2(2ˣ + 2ʸ) = logaddexp(x ln 2, y ln 2) / ln 2."""
    return xp.logaddexp(x * math.log(2), y * math.log(2)) / math.log(2)


def nan_to_num(
    xp: Any, x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Any:
    """x with NaN, +inf and −inf replaced (by default with 0 and the largest finite values)."""
    info = xp.finfo(x.dtype)
    top = info.max if posinf is None else posinf
    bottom = info.min if neginf is None else neginf
    return xp.where(xp.isnan(x), nan, xp.where(x == math.inf, top, xp.where(x == -math.inf, bottom, x)))


# ------------------------------------------------------------------ einsum
def einsum(xp: Any, subscripts: str, *operands: Any, optimize: Any = False) -> Any:
    """``numpy.einsum(subscripts, *operands)``: out[o] = Σ over the labels not in o of the
    product of the operands at their labels, from ``permute_dims``, ``reshape``, ``sum``,
    ``broadcast_to`` and ``matmul``.

    NumPy's grammar: ``...`` (its axes aligned on the right and broadcast between operands),
    a label repeated within a term (a diagonal: ``ii->i``, the trace ``ii->``), an explicit
    ``->`` output or NumPy's implicit one (the ellipsis, then the labels used once, sorted).
    A repeated label becomes the strided slice ``[..., ::n + 1]`` of its two axes flattened;
    a label no later term or the output uses is summed away; two operands are contracted
    by one ``matmul`` over (shared kept labels | own labels | summed labels). ``optimize``
    is ignored: it only picks a contraction order, and here the operands are contracted
    left to right.

    >>> import numpy as np
    >>> einsum(np, "ij,jk", np.eye(2), np.ones((2, 3))).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    terms, output = _einsum_labels(subscripts, [x.ndim for x in operands])
    pending = [_diagonals(xp, x, term) for x, term in zip(operands, terms)]
    x, term = pending[0]
    for k in range(1, len(pending)):
        y, other = pending[k]
        later = set(output).union(*(t for _, t in pending[k + 1 :]))
        x, term = _sum_unused(xp, x, term, later | set(other))
        y, other = _sum_unused(xp, y, other, later | set(term))
        x, term = _contract(xp, x, term, y, other, later)
    x, term = _sum_unused(xp, x, term, set(output))
    return xp.permute_dims(x, tuple(term.index(c) for c in output))


def _einsum_labels(subscripts: str, ndims: list[int]) -> tuple[list[list[Any]], list[Any]]:
    """Each input term's labels and the output's: letters, and for the axes under ``...`` the
    ints 0, 1, … counted from the left of the widest ellipsis (so they align on the right)."""
    lhs, arrow, rhs = subscripts.replace(" ", "").partition("->")
    terms = lhs.split(",")
    width = max((n - len(t) + 3 for t, n in zip(terms, ndims) if "..." in t), default=0)

    def labels(term: str, ndim: int) -> list[Any]:
        head, dots, tail = term.partition("...")
        under = ndim - len(head) - len(tail) if dots else 0
        return [*head, *range(width - under, width), *tail]

    if arrow:
        return [labels(t, n) for t, n in zip(terms, ndims)], labels(rhs, len(rhs) - 3 + width)
    letters = lhs.replace("...", "").replace(",", "")
    once = sorted(c for c in set(letters) if letters.count(c) == 1)
    return [labels(t, n) for t, n in zip(terms, ndims)], [*range(width), *once]


def _diagonals(xp: Any, x: Any, term: list[Any]) -> tuple[Any, list[Any]]:
    """x with each label repeated in its term reduced to one axis, the diagonal: the two axes
    moved last and flattened, every (n + 1)-th entry is x[..., i, i]."""
    term = list(term)
    while len(set(term)) < len(term):
        c = next(c for c in term if term.count(c) > 1)
        first = term.index(c)
        second = term.index(c, first + 1)
        rest = [i for i in range(len(term)) if i not in (first, second)]
        x = xp.permute_dims(x, (*rest, first, second))
        n = x.shape[-1]
        x = xp.reshape(x, x.shape[:-2] + (n * n,))[..., :: n + 1]
        term = [term[i] for i in rest] + [c]
    return x, term


def _sum_unused(xp: Any, x: Any, term: list[Any], used: set[Any]) -> tuple[Any, list[Any]]:
    """x summed over the axes whose labels are not in ``used``."""
    axes = tuple(i for i, c in enumerate(term) if c not in used)
    if not axes:
        return x, term
    return xp.sum(x, axis=axes), [c for c in term if c in used]


def _contract(xp: Any, x: Any, xt: list[Any], y: Any, yt: list[Any], kept: set[Any]) -> tuple[Any, list[Any]]:
    """Σ over the labels x and y share that are not ``kept``: one batched ``matmul`` of x as
    (shared kept | own | summed) and y as (shared kept | summed | own), size-1 axes broadcast."""
    sizes: dict[Any, int] = {}
    for c, n in [*zip(xt, x.shape), *zip(yt, y.shape)]:
        sizes[c] = n if sizes.get(c, 1) == 1 else sizes[c]
    batch = [c for c in xt if c in yt and c in kept]
    summed = [c for c in xt if c in yt and c not in kept]
    x_own = [c for c in xt if c not in yt]
    y_own = [c for c in yt if c not in xt]

    def matrices(a: Any, term: list[Any], rows: list[Any], cols: list[Any]) -> Any:
        order = batch + rows + cols
        a = xp.permute_dims(a, tuple(term.index(c) for c in order))
        a = xp.broadcast_to(a, tuple(sizes[c] for c in order))
        rc = (math.prod(sizes[c] for c in rows), math.prod(sizes[c] for c in cols))
        return xp.reshape(a, tuple(sizes[c] for c in batch) + rc)

    product = xp.matmul(matrices(x, xt, x_own, summed), matrices(y, yt, summed, y_own))
    labels = batch + x_own + y_own
    return xp.reshape(product, tuple(sizes[c] for c in labels)), labels


# ------------------------------------------------------------------ gradient
def gradient(xp: Any, f: Any, *spacings: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """``numpy.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` from slices and
    arithmetic. Along each axis, central differences inside,

        out[i] = (f[i+1] − f[i−1]) / 2h,  or with coordinates x (dᵢ = x[i+1] − x[i]):
        out[i] = −d₁/(d₀(d₀+d₁)) f[i−1] + (d₁−d₀)/(d₀d₁) f[i] + d₀/(d₁(d₀+d₁)) f[i+1],

    (d₀ = dᵢ₋₁, d₁ = dᵢ) and one-sided differences of order ``edge_order`` (1 or 2) at the two
    ends. A spacing is a scalar h or 1-D coordinates along its axis (one for every axis, or
    one per axis). NumPy takes h's formula for evenly spaced coordinates; the coordinates'
    formula gives the same to rounding. One axis gives an array, several a tuple."""
    axes = tuple(range(f.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    steps = list(spacings) * len(axes) if len(spacings) == 1 else list(spacings) or [1.0] * len(axes)
    if not xp.isdtype(f.dtype, "real floating"):
        f = xp.astype(f, xp.float64)
    outs = tuple(_gradient_along(xp, f, ax % f.ndim - f.ndim, h, edge_order) for ax, h in zip(axes, steps))
    return outs[0] if len(outs) == 1 else outs


def _gradient_along(xp: Any, f: Any, axis: int, h: Any, edge_order: int) -> Any:
    """np.gradient of f along one negative axis, h a scalar spacing or coordinates."""
    tail = (slice(None),) * (-axis - 1)
    n = f.shape[axis]

    def at(start: int, stop: int | None) -> Any:
        return f[(Ellipsis, slice(start, stop)) + tail]

    if _is_array(h):
        h = xp.astype(h, f.dtype)
        steps = h[1:] - h[:-1]
        d0 = xp.reshape(steps[:-1], (n - 2,) + (1,) * len(tail))
        d1 = xp.reshape(steps[1:], (n - 2,) + (1,) * len(tail))
        inside = (
            -d1 / (d0 * (d0 + d1)) * at(0, -2)
            + (d1 - d0) / (d0 * d1) * at(1, -1)
            + d0 / (d1 * (d0 + d1)) * at(2, None)
        )
        first, second, before_last, last = (
            steps[0],
            steps[min(1, n - 2)],
            steps[max(n - 3, 0)],
            steps[n - 2],
        )
    else:
        inside = (at(2, None) - at(0, -2)) / (2.0 * h)
        first = second = before_last = last = h
    if edge_order == 1:
        start = (at(1, 2) - at(0, 1)) / first
        end = (at(n - 1, n) - at(n - 2, n - 1)) / last
    else:
        a, b = first, second
        start = (
            -(2.0 * a + b) / (a * (a + b)) * at(0, 1)
            + (a + b) / (a * b) * at(1, 2)
            - a / (b * (a + b)) * at(2, 3)
        )
        a, b = before_last, last
        end = (
            b / (a * (a + b)) * at(n - 3, n - 2)
            - (a + b) / (a * b) * at(n - 2, n - 1)
            + (2.0 * b + a) / (b * (a + b)) * at(n - 1, n)
        )
    return xp.concat([start, inside, end], axis=axis)


# ------------------------------------------------------------------ NumPy's indexing
# The standard indexes with ints, slices, None and ``...`` (basic indexing); NumPy also with
# integer and boolean arrays. x[index] splits into the basic part x[basic], with ``:`` where
# the arrays stand, and one ``take`` along the axes the arrays index, flattened into one:
# the arrays (and any ints among them, which NumPy then counts as arrays) broadcast to a
# shape B, and the entry taken is at the flat position Σₖ iₖ · strideₖ. B's axes stand where
# the arrays stand when these are side by side in the index, else first.


def _is_array(part: Any) -> bool:
    return hasattr(part, "shape") and hasattr(part, "dtype")


def _is_int(part: Any) -> bool:
    return isinstance(part, numbers.Integral) and not _is_array(part)


class _Index:
    """An index into an array, split as above (made by :func:`_split`).

    ``parts``: the index with ``...`` spelled out and each boolean array replaced by its
    ``nonzero()`` integer arrays (NumPy's rule); ``basic``: parts with ``:`` where an array
    (or an int among arrays) stands; ``arrays``: those positions in the index; ``axes``: the
    axes of x[basic] they index; ``place``: where B's axes go in x[index]."""

    def __init__(self, parts: list[Any]) -> None:
        any_array = any(_is_array(p) for p in parts)
        self.arrays = [k for k, p in enumerate(parts) if _is_array(p) or (any_array and _is_int(p))]
        self.parts = tuple(parts)
        self.basic = tuple(slice(None) if k in self.arrays else p for k, p in enumerate(parts))
        self.axes: list[int] = []
        axis = 0
        for k, p in enumerate(self.basic):
            if k in self.arrays:
                self.axes.append(axis)
            axis += not _is_int(p)
        first = self.arrays[0] if self.arrays else 0
        side_by_side = self.arrays == list(range(first, first + len(self.arrays)))
        self.place = self.axes[0] if self.axes and side_by_side else 0

    def flat(self, view_shape: tuple[int, ...]) -> tuple[Any, tuple[int, ...], list[int]]:
        """(positions, sizes, rest): Σₖ (iₖ mod nₖ) · strideₖ over the index arrays (a negative
        entry counts from the end), the sizes nₖ of the axes of x[basic] they index, and the
        other axes of x[basic]."""
        sizes = tuple(view_shape[a] for a in self.axes)
        total, stride = 0, 1
        for k, n in zip(reversed(self.arrays), reversed(sizes)):
            total = total + (self.parts[k] % n) * stride
            stride *= n
        return total, sizes, [a for a in range(len(view_shape)) if a not in self.axes]

    def order(self, nb: int, ndim: int) -> tuple[int, ...]:
        """The axes of x[index] (``ndim`` of them, B's ``nb``) as B first, then the others."""
        p = self.place
        return (*range(p, p + nb), *range(p), *range(p + nb, ndim))


def _split(xp: Any, index: Any, ndim: int) -> _Index:
    """``index`` into an array of ``ndim`` axes as an :class:`_Index`."""
    parts: list[Any] = []
    for part in index if isinstance(index, tuple) else (index,):
        boolean = _is_array(part) and xp.isdtype(part.dtype, "bool")
        parts.extend(xp.nonzero(part) if boolean else (part,))
    at = next((k for k, p in enumerate(parts) if p is Ellipsis), None)  # `in` would compare arrays
    if at is None:
        parts.append(Ellipsis)
        at = len(parts) - 1
    parts[at : at + 1] = [slice(None)] * (ndim + 1 - sum(p is not None for p in parts))
    return _Index(parts)


def indexed(xp: Any, x: Any, index: Any) -> Any:
    """``x[index]`` with NumPy's indexing (integer and boolean arrays, an index naming only the
    first axes), from basic indexing, ``permute_dims``, ``reshape`` and ``take``."""
    split = _split(xp, index, x.ndim)
    view = x[split.basic]
    if not split.axes:
        return view
    flat, sizes, rest = split.flat(view.shape)
    rows = xp.reshape(xp.permute_dims(view, (*split.axes, *rest)), (-1, *(view.shape[a] for a in rest)))
    taken = xp.reshape(xp.take(rows, xp.reshape(flat, (-1,)), axis=0), flat.shape + rows.shape[1:])
    return xp.permute_dims(taken, _inverse(split.order(flat.ndim, taken.ndim)))


def add_at(xp: Any, z: Any, index: Any, values: Any) -> Any:
    """``numpy.add.at(z, index, values)``: z with ``values`` added at z[index], repeated indices
    accumulating; z is updated through the standard's (basic) ``__setitem__`` and returned.

    The values at index arrays are first summed per target, by one ``matmul`` with one-hot
    weights Pᵢⱼ = [position i is target j]: P is m × n in the values' dtype (m values, n the
    product of the sizes of the axes the arrays index), so m · n entries of memory and
    m · n · (the size of the other axes) multiply-adds. CuPy has this as ``cupyx.scatter_add``
    (and ``cupy.add.at``)."""
    split = _split(xp, index, z.ndim)
    view_shape = z[split.basic].shape
    if split.axes:
        flat, sizes, rest = split.flat(view_shape)
        ndim = flat.ndim + len(rest)
        shape = tuple(flat.shape) + tuple(view_shape[a] for a in rest)
        got = tuple(shape[k] for k in _inverse(split.order(flat.ndim, ndim)))
        values = xp.reshape(
            xp.permute_dims(xp.broadcast_to(values, got), split.order(flat.ndim, ndim)),
            (math.prod(flat.shape), -1),
        )
        onehot = xp.astype(
            xp.reshape(flat, (-1, 1)) == xp.arange(math.prod(sizes), device=z.device), values.dtype
        )
        summed = xp.reshape(
            xp.matmul(xp.matrix_transpose(onehot), values), sizes + tuple(view_shape[a] for a in rest)
        )
        values = xp.permute_dims(summed, _inverse((*split.axes, *rest)))
    key = tuple(p for p in split.basic if p is not None)  # None adds a size-1 axis the key lacks
    values = xp.reshape(xp.broadcast_to(xp.astype(values, z.dtype), view_shape), z[key].shape)
    z[key] = z[key] + values
    return z


def take_indices(xp: Any, x: Any, indices: Any, axis: int) -> Any:
    """``take(x, indices, axis=axis)`` for integer ``indices`` of any shape, whose axes replace
    ``axis``: NumPy's take itself, else the standard's (1-d indices) on them flattened."""
    if on_numpy(xp) or indices.ndim == 1:
        return xp.take(x, indices, axis=axis)
    axis %= x.ndim
    taken = xp.take(x, xp.reshape(indices, (-1,)), axis=axis)
    return xp.reshape(taken, x.shape[:axis] + indices.shape + x.shape[axis + 1 :])


def index_into(xp: Any, x: Any, index: Any) -> Any:
    """``x[index]`` with NumPy's indexing: NumPy's own, else :func:`indexed`."""
    return x[index] if on_numpy(xp) else indexed(xp, x, index)


def scatter_into(
    xp: Any, shape: tuple[int, ...], index: Any, values: Any, like: Any, repeated: bool = True
) -> Any:
    """Zeros of ``shape`` (with the dtype and device of the array ``like``) with ``values``
    added at ``[index]`` (NumPy's indexing), repeated indices accumulating: the namespace's
    ``add.at`` where its ``add`` has NumPy's in-place method (NumPy), or a plain assignment
    where ``repeated`` is false (an index naming each element once), else :func:`add_into`."""
    z = xp.zeros(shape, dtype=like.dtype, device=like.device)
    if repeated or not hasattr(xp.add, "at"):
        return add_into(xp, z, index, values)
    z[index] = values
    return z


def add_into(xp: Any, z: Any, index: Any, values: Any) -> Any:
    """``z`` with ``values`` added at ``z[index]`` (NumPy's indexing) in place, repeated indices
    accumulating, and returned: the namespace's ``add.at`` where its ``add`` has NumPy's
    in-place method (NumPy, CuPy), else :func:`add_at`."""
    if not hasattr(xp.add, "at"):
        return add_at(xp, z, index, values)
    xp.add.at(z, index, values)
    return z


def put_rows(xp: Any, z: Any, rows: Any, values: Any) -> Any:
    """``z[rows] = values`` for distinct non-negative row numbers ``rows`` (a 1-d integer
    array): ``values[k]`` becomes row ``rows[k]`` of ``z``, in place, and ``z`` is returned;
    the other rows keep their values bit for bit.

    A namespace with NumPy's integer-array ``__setitem__`` (NumPy, CuPy: those whose ``add``
    has ``at``) assigns directly. Otherwise, from standard functions: with the rows sorted,
    ``searchsorted`` finds for every row j of z the position of j among them; where j is one
    of them (``take`` of the sorted rows there equals j) ``where`` picks its new values, else
    the old, and one basic assignment ``z[...] = ...`` writes the result. This costs a pass
    over all of z, and memory for one array of its shape."""
    if hasattr(xp.add, "at"):
        z[rows] = values
        return z
    m = rows.shape[0]
    if not m:
        return z
    order = xp.argsort(rows)
    ordered = xp.take(rows, order)
    every = xp.arange(z.shape[0], dtype=rows.dtype, device=z.device)
    position = xp.clip(xp.searchsorted(ordered, every), 0, m - 1)  # clip: j past the last row
    hit = xp.take(ordered, position) == every
    spread = xp.take(values, xp.take(order, position), axis=0)
    z[...] = xp.where(xp.reshape(hit, (-1,) + (1,) * (z.ndim - 1)), spread, z)
    return z


def _inverse(order: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """The permutation that undoes ``permute_dims(a, order)``."""
    inverse = [0] * len(order)
    for k, a in enumerate(order):
        inverse[a] = k
    return tuple(inverse)


FALLBACKS: dict[str, Callable[..., Any]] = {
    "einsum": einsum,
    "exp2": exp2,
    "rad2deg": rad2deg,
    "fmax": fmax,
    "fmin": fmin,
    "fmod": fmod,
    "gradient": gradient,
    "logaddexp2": logaddexp2,
    "nan_to_num": nan_to_num,
}
"""The extras composed here, by their NumPy names (``add.at``, an in-place ufunc method, is
:func:`add_at`, reached through :func:`scatter_into`)."""


class _WithExtras:
    """A namespace's own functions, and the fallbacks for the extras it lacks."""

    def __init__(self, xp: Any) -> None:
        self._xp = xp

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._xp, name)
        except AttributeError:
            if name in FALLBACKS:
                return functools.partial(FALLBACKS[name], self._xp)
            raise


def with_extras(xp: Any) -> Any:
    """``xp`` itself when it has every extra with a fallback here (NumPy, CuPy), else ``xp``
    with the fallbacks for those it lacks."""
    if all(hasattr(xp, name) for name in FALLBACKS):
        return xp
    return _WithExtras(xp)
