"""NumPy's shape and assembly functions, each a fixed composition of other rows.

Flips, rotations, at-least-n-d, stacks, splits, repeats and tiles move, copy or combine
elements: every one of them is made here of rows the table already has (flip,
transpose, reshape, broadcast_to, concatenate, getitem), so its derivatives are theirs
and nothing new needs a rule:

- a copy made by broadcasting (``repeat`` by a count, ``tile``) sums its gradient back
  over the copies (broadcast_to's transpose);
- a copy made by reading indices (``repeat`` by counts) adds its gradient back at those
  indices (getitem's transpose);
- a join (stacks, ``append``) slices its gradient apart, and a split joins it back
  (concatenate and getitem, each the other's transpose).

Pads, selections, diagonals, products and grids are in ``ops/construction.py``.

Each ``fn(lib, *args, **params)`` checks its arguments as NumPy does and raises a
ValueError naming the function and the shapes; ``lib`` is the recording namespace.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..dtypes import numpy_dtype
from .core import OPS, Sample, composite
from .shape import check_axis, distinct_axes
from .shape import check_integer as _index
from .shape import copy_node as _copy


def _flip(lib, m, axes):
    """m reversed along the non-negative ``axes`` (flip's canonical axes count from the end)."""
    return lib.apply(OPS["flip"], m, axes=tuple(a - m.ndim for a in axes))


# ------------------------------------------------------------------ flips and rotations
def _fliplr(lib, m):
    if m.ndim < 2:
        raise ValueError(f"fliplr: needs a tensor with at least two axes, got shape {tuple(m.shape)}")
    return _flip(lib, m, (1,))


def _flipud(lib, m):
    if m.ndim < 1:
        raise ValueError("flipud: needs a tensor with at least one axis, got a 0-d one")
    return _flip(lib, m, (0,))


def _rot90(lib, m, k=1, axes=(0, 1)):
    """Rotation by 90° k times from the first of ``axes`` towards the second: a flip and
    a transpose (k = 1, 3), two flips (k = 2), nothing (k = 0)."""
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name two axes, got {axes!r}")
    a0, a1 = distinct_axes("rot90", axes, m.ndim, m.shape)
    k = _index("rot90", "k", k) % 4
    if k == 0:
        return _copy(lib, m)
    if k == 2:
        return _flip(lib, m, (a0, a1))
    swap = list(range(m.ndim))
    swap[a0], swap[a1] = a1, a0
    if k == 1:
        return lib.permute_dims(_flip(lib, m, (a1,)), tuple(swap))
    return _flip(lib, lib.permute_dims(m, tuple(swap)), (a1,))


def _rollaxis(lib, a, axis, start=0):
    """The axis ``axis`` moved to stand before the axis ``start`` (older spelling of moveaxis)."""
    n = a.ndim
    axis = check_axis("rollaxis", axis, n, a.shape)
    start = _index("rollaxis", "start", start)
    place = start + n if start < 0 else start
    if not 0 <= place <= n:
        raise ValueError(
            f"rollaxis: start {start} must be in [{-n}, {n}] for a tensor of shape {tuple(a.shape)}"
        )
    if axis < place:
        place -= 1
    order = [i for i in range(n) if i != axis]
    order.insert(place, axis)
    return lib.permute_dims(a, tuple(order))


# ------------------------------------------------------------------ at least n axes, stacks
def _atleast_shape(n: int, shape: tuple) -> tuple:
    """NumPy's rule: 0-d → (1, …), 1-d (k,) → (1, k) or (1, k, 1), 2-d (m, k) → (m, k, 1)."""
    if len(shape) >= n:
        return shape
    if n == 3 and len(shape) == 2:
        return shape + (1,)
    if n == 3 and len(shape) == 1:
        return (1,) + shape + (1,)
    return (1,) * (n - len(shape)) + shape


def _atleast(n: int):
    def fn(lib, *arys):
        outs = tuple(a if a.ndim >= n else lib.reshape(a, _atleast_shape(n, tuple(a.shape))) for a in arys)
        return outs[0] if len(outs) == 1 else outs

    return fn


def check_join(name: str, parts, axis: int):
    """The axis of the join, non-negative, once the parts agree on every other axis."""
    shapes = [tuple(p.shape) for p in parts]
    if not shapes:
        raise ValueError(f"{name}: needs at least one array to join")
    nd = len(shapes[0])
    if nd == 0 or any(len(s) != nd for s in shapes):
        raise ValueError(
            f"{name}: the arrays must have the same number of axes (at least one), got shapes {shapes}"
        )
    axis = check_axis(name, axis, nd, shapes[0])
    if any(s[:axis] + s[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :] for s in shapes):
        raise ValueError(f"{name}: shapes {shapes} differ outside axis {axis}")
    return axis


def _join(name, lib, parts, axis, dtype=None, casting="same_kind"):
    """``parts`` concatenated along ``axis``, each cast to ``dtype`` first when one is given."""
    axis = check_join(name, parts, axis)
    if dtype is not None or casting != "same_kind":
        given = [numpy_dtype(p.dtype) for p in parts]  # any array library's dtypes, by NumPy's names
        target = numpy_dtype(dtype) if dtype is not None else np.result_type(*given)
        for p, d in zip(parts, given):
            if not np.can_cast(d, target, casting):
                raise TypeError(f"{name}: cannot cast {p.dtype} to {target} under the rule {casting!r}")
        parts = [p if d == target else lib.astype(p, target) for p, d in zip(parts, given)]
    if len(parts) == 1:
        return _copy(lib, parts[0])
    return lib.concat(list(parts), axis=axis)


def _vstack(lib, tup, *, dtype=None, casting="same_kind"):
    return _join("vstack", lib, [_atleast(2)(lib, a) for a in tup], 0, dtype, casting)


def _hstack(lib, tup, *, dtype=None, casting="same_kind"):
    parts = [_atleast(1)(lib, a) for a in tup]
    axis = 0 if parts and parts[0].ndim == 1 else 1
    return _join("hstack", lib, parts, axis, dtype, casting)


def _dstack(lib, tup):
    return _join("dstack", lib, [_atleast(3)(lib, a) for a in tup], 2)


def _column_stack(lib, tup):
    """1-d and 0-d inputs become columns (k, 1); the others join as they are along axis 1."""
    parts = [lib.reshape(a, (-1, 1)) if a.ndim < 2 else a for a in tup]
    return _join("column_stack", lib, parts, 1)


def _append(lib, arr, values, axis=None):
    if axis is None:
        return lib.concat([lib.reshape(arr, (-1,)), lib.reshape(values, (-1,))], axis=0)
    return _join("append", lib, [arr, values], axis)


# ------------------------------------------------------------------ splits
def _cut(lib, ary, bounds, axis):
    """The pieces of ary between consecutive ``bounds`` along ``axis``."""
    lead = (slice(None),) * axis
    return [ary[lead + (slice(a, max(a, b)),)] for a, b in zip(bounds, bounds[1:])]


def _bounds(name, n, indices_or_sections, equal):
    """Where the pieces start and end along an axis of length n, as NumPy cuts them."""
    if np.ndim(indices_or_sections) == 0:
        sections = _index(name, "the number of sections", indices_or_sections)
        if sections <= 0:
            raise ValueError(f"{name}: the number of sections must be larger than 0, got {sections}")
        if equal and n % sections:
            raise ValueError(f"{name}: {sections} sections do not divide an axis of length {n} equally")
        each, extra = divmod(n, sections)
        return [0, *itertools.accumulate([each + 1] * extra + [each] * (sections - extra))]
    # As Python slices them: negative indices count from the end, and indices are clipped.
    cuts = [_index(name, "a split index", i) for i in np.asarray(indices_or_sections).tolist()]
    return [0, *(min(max(i + n if i < 0 else i, 0), n) for i in cuts), n]


def _split_along(name, lib, ary, indices_or_sections, axis, equal):
    if ary.ndim == 0:
        raise ValueError(f"{name}: cannot split a 0-d tensor")
    axis = check_axis(name, axis, ary.ndim, ary.shape)
    return _cut(lib, ary, _bounds(name, ary.shape[axis], indices_or_sections, equal), axis)


def _array_split(lib, ary, indices_or_sections, axis=0):
    """Like split, but n sections of an axis of length l need not divide it: the first
    l mod n pieces are one longer."""
    return _split_along("array_split", lib, ary, indices_or_sections, axis, equal=False)


def _fixed_split(name, min_ndim, axis_of):
    def fn(lib, ary, indices_or_sections):
        if ary.ndim < min_ndim:
            raise ValueError(
                f"{name}: needs a tensor with at least {min_ndim} axes, got shape {tuple(ary.shape)}"
            )
        return _split_along(name, lib, ary, indices_or_sections, axis_of(ary.ndim), equal=True)

    return fn


# ------------------------------------------------------------------ repeat, tile
def _repeat(lib, a, repeats, axis=None):
    """Each element repeated along ``axis`` (the flattened a for None).

    One count c for all: a new axis after ``axis`` broadcast to c copies and merged in,
    so the gradient sums the copies. A count per element: a read of the indices
    0,…,0, 1,…,1, …, whose gradient adds each copy back where it came from.
    """
    if axis is None:
        a, axis = lib.reshape(a, (-1,)), 0
    else:
        axis = check_axis("repeat", axis, a.ndim, a.shape)
    shape, n = tuple(a.shape), a.shape[axis]
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu" and not (counts.dtype.kind == "b" or counts.size == 0):
        raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
    counts = counts.astype(np.int64)
    if counts.ndim > 1 or (counts.ndim == 1 and counts.size not in (1, n)):
        raise ValueError(
            f"repeat: {counts.size} repeats do not fit axis {axis} of length {n} (tensor of shape {shape})"
        )
    if counts.size and counts.min() < 0:
        raise ValueError(f"repeat: repeats may not be negative, got {repeats!r}")
    if counts.size == 1:
        c = int(counts.reshape(-1)[0])
        spread = lib.broadcast_to(
            lib.reshape(a, shape[: axis + 1] + (1,) + shape[axis + 1 :]),
            shape[: axis + 1] + (c,) + shape[axis + 1 :],
        )
        return lib.reshape(spread, shape[:axis] + (n * c,) + shape[axis + 1 :])
    return a[(slice(None),) * axis + (np.repeat(np.arange(n), counts),)]


def _tile(lib, A, reps):
    """A repeated ``reps[i]`` times along each axis i: each axis of length n gets a new
    axis of length r before it (broadcast), and the two merge into one of length r·n."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(np.asarray(reps).tolist())
    reps = tuple(_index("tile", "reps", r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps may not be negative, got {reps}")
    shape = (1,) * (len(reps) - A.ndim) + tuple(A.shape)
    reps = (1,) * (A.ndim - len(reps)) + reps
    x = lib.reshape(A, tuple(v for n in shape for v in (1, n)))
    x = lib.broadcast_to(x, tuple(v for r, n in zip(reps, shape) for v in (r, n)))
    return lib.reshape(x, tuple(r * n for r, n in zip(reps, shape)))


# ------------------------------------------------------------------ the rows
def _listed(f, *xs, **params):
    return f(list(xs), **params)


composite("fliplr", _fliplr, reference=np.fliplr, samples=[Sample(((2, 3),)), Sample(((2, 3, 2),))])
composite("flipud", _flipud, reference=np.flipud, samples=[Sample(((3,),)), Sample(((3, 2),))])
composite(
    "rot90",
    _rot90,
    reference=np.rot90,
    samples=[
        Sample(((2, 3),)),
        Sample(((2, 3),), {"k": 2}),
        Sample(((2, 3),), {"k": -1}),
        Sample(((2, 3, 2),), {"k": 1, "axes": (2, 0)}),
        Sample(((2, 3),), {"k": 4}),
    ],
)
composite(
    "rollaxis",
    _rollaxis,
    reference=np.rollaxis,
    samples=[
        Sample(((2, 3, 4),), {"axis": 2}),
        Sample(((2, 3, 4),), {"axis": 0, "start": 3}),
        Sample(((2, 3, 4),), {"axis": -1, "start": -2}),
    ],
)
for _n in (1, 2, 3):
    composite(
        f"atleast_{_n}d",
        _atleast(_n),
        reference=getattr(np, f"atleast_{_n}d"),
        samples=[Sample(((),)), Sample(((3,),)), Sample(((2, 3),)), Sample(((2, 1, 2, 1),))],
    )
composite(
    "vstack",
    _vstack,
    reference=np.vstack,
    samples=[Sample(((3,), (3,)), call=_listed), Sample(((2, 3), (3,), (1, 3)), call=_listed)],
)
composite(
    "hstack",
    _hstack,
    reference=np.hstack,
    samples=[Sample(((2,), (), (3,)), call=_listed), Sample(((2, 1), (2, 3)), call=_listed)],
)
composite(
    "dstack",
    _dstack,
    reference=np.dstack,
    samples=[Sample(((2,), (2,)), call=_listed), Sample(((2, 2), (2, 2, 2)), call=_listed)],
)
composite(
    "column_stack",
    _column_stack,
    reference=np.column_stack,
    samples=[Sample(((3,), (3, 2)), call=_listed), Sample(((), ()), call=_listed)],
)
composite(
    "append",
    _append,
    reference=np.append,
    samples=[
        Sample(((2, 2), (3,))),
        Sample(((2, 3), (1, 3)), {"axis": 0}),
        Sample(((2, 1), (2, 2)), {"axis": -1}),
    ],
)
composite(
    "array_split",
    _array_split,
    reference=np.array_split,
    samples=[
        Sample(((7,),), {"indices_or_sections": 3}),
        Sample(((2, 5),), {"indices_or_sections": [1, -1, 9], "axis": 1}),
        Sample(((2, 3),), {"indices_or_sections": 4, "axis": -1}),
    ],
)
composite(
    "vsplit",
    _fixed_split("vsplit", 2, lambda nd: 0),
    reference=np.vsplit,
    samples=[Sample(((4, 2),), {"indices_or_sections": 2}), Sample(((3, 2),), {"indices_or_sections": [1]})],
)
composite(
    "hsplit",
    _fixed_split("hsplit", 1, lambda nd: 1 if nd > 1 else 0),
    reference=np.hsplit,
    samples=[Sample(((4,),), {"indices_or_sections": 2}), Sample(((2, 3),), {"indices_or_sections": [2]})],
)
composite(
    "dsplit",
    _fixed_split("dsplit", 3, lambda nd: 2),
    reference=np.dsplit,
    samples=[
        Sample(((1, 2, 4),), {"indices_or_sections": 2}),
        Sample(((2, 1, 3),), {"indices_or_sections": [1, 2]}),
    ],
)
composite(
    "repeat",
    _repeat,
    reference=np.repeat,
    samples=[
        Sample(((2, 2),), {"repeats": 2}),
        Sample(((2, 3),), {"repeats": [1, 0, 2], "axis": 1}),
        Sample(((3, 2),), {"repeats": 3, "axis": 0}),
        Sample(((),), {"repeats": 3}),
    ],
)
composite(
    "tile",
    _tile,
    reference=np.tile,
    samples=[
        Sample(((3,),), {"reps": 2}),
        Sample(((2, 2),), {"reps": (2, 1, 2)}),
        Sample(((2, 1, 2),), {"reps": (3, 1)}),
        Sample(((),), {"reps": (2, 2)}),
    ],
)
