"""Shape operations. All are linear, so each entry states only its transpose.

Every forward here also runs on tangents that carry leading batch axes, so it acts
on the trailing ``len(in_shape)`` axes of its input.
"""

from __future__ import annotations

import itertools
import math
import operator

import numpy as np

from ..backends import namespace_of
from .core import OPS, Sample, composite, linear, sum_to
from .extras import index_into, scatter_into, take_indices

SHAPE_SAMPLES = [
    Sample(((2, 3),), {"shape": (3, 2)}),
    Sample(((2, 3),), {"shape": (-1,)}),
    Sample(((),), {"shape": (1, 1)}),
    Sample(((4,),), {"shape": (2, 1, 2)}),
]


def _probe(shape):
    """A zero-stride stand-in of a given shape, to let NumPy check a reshape or an index."""
    return np.broadcast_to(np.empty((), dtype=bool), shape)


def _reshape_prepare(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    size = math.prod(np.shape(x))
    known = math.prod(n for n in shape if n != -1)
    unknown = shape.count(-1)
    if unknown == 1 and known and size % known == 0:
        shape = tuple(size // known if n == -1 else n for n in shape)
    if unknown > 1 or any(n < 0 for n in shape) or math.prod(shape) != size:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {np.shape(x)} into {shape}")
    return {"shape": shape, "in_shape": tuple(np.shape(x))}


def _trailing(x, core_ndim):
    """The leading batch axes of x, for a forward that acts on its last ``core_ndim`` axes."""
    return x.shape[: x.ndim - core_ndim]


linear(
    "reshape",
    lambda xp, x, shape, in_shape: xp.reshape(x, _trailing(x, len(in_shape)) + shape),
    transpose=lambda g, xp, shape, in_shape: xp.reshape(g, _trailing(g, len(shape)) + in_shape),
    prepare=_reshape_prepare,
    samples=SHAPE_SAMPLES,
    reference=np.reshape,
)


def _transpose_prepare(x, axes=None):
    nd, shape = np.ndim(x), np.shape(x)
    if axes is None:
        return {"axes": tuple(range(nd))[::-1]}
    perm = tuple(distinct_axes("transpose", axes, nd, shape))
    if len(perm) != nd:
        raise ValueError(
            f"transpose: axes {axes!r} name {len(perm)} axes, but a tensor of shape "
            f"{shape} has {nd}: give a permutation of all of them"
        )
    return {"axes": perm}


def _inverse(axes):
    return tuple(sorted(range(len(axes)), key=axes.__getitem__))


def _permute(xp, x, axes):
    nb = x.ndim - len(axes)
    return xp.permute_dims(x, tuple(range(nb)) + tuple(nb + a for a in axes))


linear(
    "transpose",
    _permute,
    transpose=lambda g, xp, axes: xp.apply(OPS["transpose"], g, axes=_inverse(axes)),
    prepare=_transpose_prepare,
    reference=np.transpose,
    samples=[Sample(((2, 3),)), Sample(((2, 3, 4),), {"axes": (1, 2, 0)}), Sample(((),))],
)


def _broadcast_prepare(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        ok = np.broadcast_shapes(np.shape(x), shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {np.shape(x)} to {shape}")
    return {"shape": shape, "in_shape": tuple(np.shape(x))}


def _broadcast(xp, x, shape, in_shape):
    batch = _trailing(x, len(in_shape))
    x = xp.reshape(x, batch + (1,) * (len(shape) - len(in_shape)) + in_shape)
    return xp.broadcast_to(x, batch + shape)


# The transpose of broadcasting is summing back: sum_to over the core axes, keeping every
# leading axis of g beyond them (stacked cotangents, and the batch axes of a stacked
# tangent this op was applied to in forward mode, which broadcasting never touched).
linear(
    "broadcast_to",
    _broadcast,
    transpose=lambda g, xp, shape, in_shape: sum_to(g, in_shape, xp, batch_ndim=g.ndim - len(shape)),
    prepare=_broadcast_prepare,
    reference=np.broadcast_to,
    samples=[
        Sample(((3,),), {"shape": (2, 3)}),
        Sample(((3, 1),), {"shape": (3, 4)}),
        Sample(((),), {"shape": (2,)}),
    ],
)


def _concat_prepare(*xs, axis=0):
    shapes = [np.shape(x) for x in xs]
    if not xs or any(len(s) == 0 for s in shapes):
        raise ValueError(f"concatenate: needs at least one tensor and no 0-d ones, got shapes {shapes}")
    nd = len(shapes[0])
    given = axis
    axis = check_axis("concatenate", axis, nd, shapes[0]) - nd
    if any(
        len(s) != nd
        or s[: nd + axis] + s[nd + axis + 1 :] != shapes[0][: nd + axis] + shapes[0][nd + axis + 1 :]
        for s in shapes
    ):
        raise ValueError(f"concatenate: shapes {shapes} differ outside axis {given}")
    return {"axis": axis, "sizes": tuple(s[axis] for s in shapes)}


def _split_back(g, xp, axis, sizes):
    tail = (slice(None),) * (-axis - 1)
    bounds = [0, *itertools.accumulate(sizes)]
    return tuple(g[(Ellipsis, slice(a, b)) + tail] for a, b in zip(bounds, bounds[1:]))


linear(
    "concatenate",
    lambda xp, *xs, axis, sizes: xp.concat(xs, axis=axis),
    transpose=_split_back,
    prepare=_concat_prepare,
    variadic=True,
    reference=np.concatenate,
    samples=[
        Sample(((2, 3), (4, 3)), {"axis": 0}, call=lambda f, *xs, axis: f(list(xs), axis=axis)),
        Sample(((2, 3), (2, 1)), {"axis": -1}, call=lambda f, *xs, axis: f(list(xs), axis=axis)),
    ],
)


# ------------------------------------------------------------------ indexing
def _index_prepare(x, index):
    """Turn an index into a tuple with Ellipsis spelled out (so batch axes stay clear)."""
    if not isinstance(index, tuple):
        index = (index,)
    index = tuple(_index_part(i) for i in index)
    used = sum(
        0
        if i is None or i is Ellipsis
        else (i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1)
        for i in index
    )
    nd = np.ndim(x)
    at = next((k for k, i in enumerate(index) if i is Ellipsis), None)
    if at is not None:
        index = index[:at] + (slice(None),) * (nd - used) + index[at + 1 :]
    advanced = any(isinstance(i, np.ndarray) for i in index)
    try:
        out_ndim = _probe(np.shape(x))[index].ndim
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {np.shape(x)}, index {index!r})") from None
    return {"index": index, "shape": tuple(np.shape(x)), "out_ndim": out_ndim, "advanced": advanced}


def _index_part(i):
    if not isinstance(i, (slice, int, np.integer, type(None), type(Ellipsis))):
        i = np.asarray(i)  # lists, integer or boolean Tensors and arrays
    if isinstance(i, np.ndarray) and i.dtype.kind not in "iub":
        raise IndexError(f"getitem: arrays used as indices must be integer or boolean, got {i.dtype}")
    return i


def _batched(xp, fn, x, core_ndim):
    """Apply ``fn`` (which acts on leading axes) to x whose first axes are a batch."""
    batch = x.shape[: x.ndim - core_ndim]
    moved = xp.moveaxis(xp.reshape(x, (math.prod(batch),) + x.shape[len(batch) :]), 0, -1)
    r = xp.moveaxis(fn(moved), -1, 0)
    return xp.reshape(r, batch + r.shape[1:])


def _getitem(xp, x, index, shape, out_ndim, advanced):
    if x.ndim == len(shape):
        return index_into(xp, x, index)
    return _batched(xp, lambda a: index_into(xp, a, index), x, len(shape))


def _scatter_add(xp, g, index, shape, out_ndim, advanced):
    def scatter(moved):  # repeated indices accumulate; a basic index names each element once
        return scatter_into(xp, shape + moved.shape[out_ndim:], index, moved, moved, repeated=advanced)

    if g.ndim == out_ndim:
        return scatter(g)
    return _batched(xp, scatter, g, out_ndim)


linear(
    "getitem",
    _getitem,
    transpose=lambda g, xp, **params: xp.apply(OPS["scatter_add"], g, **params),
    prepare=_index_prepare,
    reference=lambda x, index: x[index],
    samples=[
        Sample(((4, 3),), {"index": 1}),
        Sample(((4, 3),), {"index": (slice(1, 3), -1)}),
        Sample(((4, 3),), {"index": np.array([0, 2, 0])}),
        Sample(((4, 3),), {"index": (Ellipsis, None, np.array([[1, 1], [0, 2]]))}),
        Sample(((2, 3, 4),), {"index": (np.array([0, 1, 1]), slice(None), np.array([3, 0, 3]))}),
    ],
)


def _scatter_reference(g, index, shape, out_ndim, advanced):
    z = np.zeros(shape, dtype=g.dtype)
    np.add.at(z, index, g)
    return z


# The transpose of reading x[index] is adding g into a zero tensor at index.
linear(
    "scatter_add",
    _scatter_add,
    transpose=lambda g, xp, **params: xp.apply(OPS["getitem"], g, **params),
    reference=_scatter_reference,
    samples=[
        Sample(
            ((3, 2),), {"index": (np.array([0, 2, 0]),), "shape": (4, 2), "out_ndim": 2, "advanced": True}
        ),
        Sample(((2,),), {"index": (1,), "shape": (3, 2), "out_ndim": 1, "advanced": False}),
    ],
)


# ------------------------------------------------------------------ row lookups (sparse embeddings)
def _rows_prepare(x, rows):
    rows = np.asarray(rows)
    n = np.shape(x)[0] if np.ndim(x) else 0
    if rows.dtype.kind not in "iu" or not np.ndim(x):
        raise IndexError(
            f"gather_rows: needs integer rows of a tensor with at least one axis, got "
            f"rows of dtype {rows.dtype} for shape {np.shape(x)}"
        )
    if rows.size and not (-n <= rows.min() and rows.max() < n):
        raise IndexError(
            f"gather_rows: a row index is out of range for a tensor of shape {np.shape(x)} "
            f"(rows from {rows.min()} to {rows.max()})"
        )
    return {"rows": np.where(rows < 0, rows + n, rows), "shape": tuple(np.shape(x))}


def _scatter_rows(xp, g, rows, shape):
    return _scatter_add(xp, g, (rows,), shape, rows.ndim + len(shape) - 1, True)


def _looked_up_rows(g, rows, shape):
    """The transpose of one lookup as (rows, values, shape): g's rows, to be added at ``rows``
    of a zero gradient of ``shape``, in g's own library, where g is (None for stacked
    cotangents)."""
    if g.ndim != rows.ndim + len(shape) - 1:
        return None
    if type(g) is np.ndarray:
        return rows, g.reshape((rows.size,) + shape[1:]), shape
    return rows, namespace_of(g).reshape(g, (math.prod(rows.shape),) + shape[1:]), shape


# x[rows] along the first axis, as getitem with one integer array would read it, except that
# its transpose also comes as the rows it touches, so that a leaf's gradient can stay row-sparse.
linear(
    "gather_rows",
    lambda xp, x, rows, shape: take_indices(xp, x, rows, axis=x.ndim - len(shape)),
    transpose=lambda g, xp, rows, shape: xp.apply(OPS["scatter_rows"], g, rows=rows, shape=shape),
    sparse_transpose=_looked_up_rows,
    prepare=_rows_prepare,
    reference=lambda x, rows: np.take(x, rows, axis=0),
    samples=[
        Sample(((5, 3),), {"rows": np.array([[0, 4], [4, 1]])}),
        Sample(((4,),), {"rows": np.array([2, -1, 2])}),
    ],
)
linear(
    "scatter_rows",
    _scatter_rows,
    transpose=lambda g, xp, rows, shape: xp.apply(OPS["gather_rows"], g, rows=rows, shape=shape),
    reference=lambda g, rows, shape: _scatter_reference(g, (rows,), shape, None, True),
    samples=[Sample(((2, 2, 3),), {"rows": np.array([[0, 4], [4, 1]]), "shape": (5, 3)})],
)


# ------------------------------------------------------------------ composites
def check_axis(name: str, axis, ndim: int, shape) -> int:
    """``axis`` as a non-negative int, or a ValueError naming the op and the shape."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for a tensor of shape {tuple(shape)}")
    return int(axis) % ndim


def distinct_axes(name: str, axes, ndim: int, shape) -> list[int]:
    """``axes`` (an int or a sequence of ints) as distinct non-negative ints, checked as NumPy
    checks them: each in range, none named twice."""
    given = tuple(axes) if isinstance(axes, (tuple, list, range)) else (axes,)
    found = [check_axis(name, ax, ndim, shape) for ax in given]
    if len(set(found)) != len(found):
        raise ValueError(f"{name}: repeated axis in {axes!r} for a tensor of shape {tuple(shape)}")
    return found


def check_integer(name: str, what: str, value) -> int:
    """An integer argument (a count, an offset), never a float silently truncated."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an integer, got {type(value).__name__} {value!r}") from None


def copy_node(lib, a):
    """A new node holding a's values (NumPy returns a new array or view where nothing moves)."""
    return lib.reshape(a, tuple(a.shape))


def _swapaxes(lib, a, axis1, axis2):
    axes = list(range(a.ndim))
    i, j = (check_axis("swapaxes", ax, a.ndim, a.shape) for ax in (axis1, axis2))
    axes[i], axes[j] = axes[j], axes[i]
    return lib.permute_dims(a, tuple(axes))


def _squeeze(lib, a, axis=None):
    shape = a.shape
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = set(distinct_axes("squeeze", axis, len(shape), shape))
        if any(shape[i] != 1 for i in axes):
            raise ValueError(f"squeeze: axis {axis} of a tensor of shape {shape} does not have size 1")
    return lib.reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


def _expand_dims(lib, a, axis, name="expand_dims"):
    nd = a.ndim + (len(axis) if isinstance(axis, (tuple, list, range)) else 1)
    new = set(distinct_axes(name, axis, nd, a.shape))
    rest = iter(a.shape)
    return lib.reshape(a, tuple(1 if i in new else next(rest) for i in range(nd)))


def _stack(lib, arrays, axis=0):
    shapes = {tuple(a.shape) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"stack: all inputs must have the same shape, got {sorted(shapes)}")
    return lib.concat([_expand_dims(lib, a, axis, name="stack") for a in arrays], axis=axis)


def _moveaxis(lib, a, source, destination):
    """The axes ``source`` moved to the places ``destination``; the others keep their order."""
    src = distinct_axes("moveaxis", source, a.ndim, a.shape)
    dst = distinct_axes("moveaxis", destination, a.ndim, a.shape)
    if len(src) != len(dst):
        raise ValueError(
            f"moveaxis: source {source!r} and destination {destination!r} must name "
            f"as many axes as each other (tensor of shape {a.shape})"
        )
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return lib.permute_dims(a, tuple(order))


def _split(lib, ary, indices_or_sections, axis=0):
    if ary.ndim == 0:
        raise ValueError("split: cannot split a 0-d tensor")
    axis = check_axis("split", axis, ary.ndim, ary.shape)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(
                f"split: {indices_or_sections} sections do not divide axis {axis} of size {n} equally"
            )
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        # As in NumPy: negative indices count from the end, and indices are clipped.
        bounds = [0, *(min(max(int(i) + n if i < 0 else int(i), 0), n) for i in indices_or_sections), n]
    lead = (slice(None),) * axis
    return [ary[lead + (slice(a, max(a, b)),)] for a, b in zip(bounds, bounds[1:])]


composite(
    "swapaxes", _swapaxes, reference=np.swapaxes, samples=[Sample(((2, 3, 4),), {"axis1": 0, "axis2": 2})]
)
composite(
    "moveaxis",
    _moveaxis,
    reference=np.moveaxis,
    samples=[
        Sample(((2, 3, 4),), {"source": 0, "destination": -1}),
        Sample(((2, 3, 4),), {"source": (0, 1), "destination": (2, 0)}),
    ],
)
composite(
    "flatten",
    lambda lib, a: lib.reshape(a, (-1,)),
    reference=np.ravel,
    samples=[Sample(((2, 3),)), Sample(((),))],
)
composite(
    "squeeze",
    _squeeze,
    reference=np.squeeze,
    samples=[Sample(((1, 3, 1),)), Sample(((1, 3, 1),), {"axis": 0})],
)
composite(
    "expand_dims",
    _expand_dims,
    reference=np.expand_dims,
    samples=[Sample(((3,),), {"axis": 0}), Sample(((2, 3),), {"axis": (0, -1)})],
)
composite(
    "stack",
    _stack,
    reference=np.stack,
    samples=[Sample(((2, 3), (2, 3)), {"axis": 1}, call=lambda f, *xs, axis: f(list(xs), axis=axis))],
)


composite(
    "split",
    _split,
    reference=np.split,
    samples=[
        Sample(((6, 2),), {"indices_or_sections": 3}),
        Sample(((2, 5),), {"indices_or_sections": [1, 3], "axis": 1}),
    ],
)
