"""NumPy's functions that build arrays, each a fixed composition of other rows.

Pads, selections, diagonals (``diag``, ``diagflat``), the products ``kron``, ``inner`` and
``cross``, and the grids ``linspace`` and ``meshgrid`` are made here of rows the table
already has (reshape, broadcast_to, concatenate, getitem, scatter_add, where, mul,
tensordot, stack, moveaxis), so their derivatives are theirs and nothing new needs a rule:

- a copy made by broadcasting (``kron``, ``meshgrid``) sums its gradient back over the
  copies (broadcast_to's transpose);
- a copy made by reading indices (``pad`` by edge, reflect, symmetric or wrap, ``diag`` of
  a matrix) adds its gradient back at those indices (getitem's transpose);
- a join (``pad`` by a constant) slices its gradient apart (concatenate's transpose).

Each ``fn(lib, *args, **params)`` checks its arguments as NumPy does and raises a
ValueError naming the function and the shapes; ``lib`` is the recording namespace.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import dtypes
from .core import OPS, Sample, composite, constant_like
from .shape import check_axis
from .shape import check_integer as _index
from .shape import copy_node as _copy

# ------------------------------------------------------------------ pad
PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
_NUMPY_ONLY_MODES = ("empty", "linear_ramp", "maximum", "mean", "median", "minimum")


def _pairs(name, what, shape, ndim):
    """For a value of ``shape`` read as (before, after) pairs per axis, the flat position
    of each axis's pair in it (NumPy's rules: one number, one pair, or a pair per axis)."""
    flat = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    if flat.ndim < 3 and flat.size == 1:
        return np.broadcast_to(flat.reshape(()), (ndim, 2))
    if flat.ndim < 3 and flat.size == 2 and flat.shape != (2, 1):  # one pair; (2, 1) is one number per axis
        return np.broadcast_to(flat.reshape(2), (ndim, 2))
    try:
        return np.broadcast_to(flat, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"{name}: {what} of shape {shape} does not fit a tensor with {ndim} axes: give one number, "
            "one (before, after) pair, or one pair per axis"
        ) from None


def _pad_widths(array, pad_width):
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    if widths.size and widths.min() < 0:
        raise ValueError(f"pad: pad_width may not be negative, got {pad_width!r}")
    at = _pairs("pad", "pad_width", widths.shape, array.ndim)
    return [tuple(int(w) for w in widths.reshape(-1)[at[i]]) for i in range(array.ndim)]


def _source_index(mode, n, before, after):
    """For each position of a padded axis, the position of the original it copies."""
    j = np.arange(-before, n + after)
    if mode == "edge" or (mode == "reflect" and n == 1):  # NumPy extends a single element as edge does
        return np.clip(j, 0, n - 1)
    if mode == "wrap":
        return j % n
    period = 2 * n if mode == "symmetric" else 2 * (n - 1)
    k = j % period
    return np.where(k < n, k, period - 1 - k if mode == "symmetric" else period - k)


def _constant_pad(lib, array, widths, constant_values):
    """Blocks of the constants joined on before and after each axis in turn (so a corner
    holds the later axis's constant, as in NumPy). Constants given as a Tensor get gradients."""
    values = constant_values if hasattr(constant_values, "ndim") else np.asarray(constant_values)
    fixed = isinstance(values, np.ndarray)
    if fixed and values.dtype.kind not in "biuf":
        raise TypeError(f"pad: constant_values must be numbers, got {constant_values!r}")
    at = _pairs("pad", "constant_values", tuple(values.shape), array.ndim)
    flat = values.reshape(-1) if fixed else lib.reshape(values, (-1,))

    def block(out, axis, side, width):
        shape = tuple(width if i == axis else n for i, n in enumerate(out.shape))
        value = flat[at[axis, side]]
        if fixed:
            return constant_like(np.full(shape, value, dtype=dtypes.numpy_dtype(array.dtype)), array)
        return lib.broadcast_to(
            value if value.dtype == array.dtype else lib.astype(value, array.dtype), shape
        )

    out = array
    for axis, (before, after) in enumerate(widths):
        if before or after:
            parts = [block(out, axis, 0, before)] if before else []
            parts += [out] + ([block(out, axis, 1, after)] if after else [])
            out = lib.concat(parts, axis=axis)
    return _copy(lib, out) if out is array else out


def _pad(lib, array, pad_width, mode="constant", *, constant_values=None, reflect_type=None):
    """array with ``pad_width`` = (before, after) elements added on each axis.

    constant: the constants (gradient: a slice of g); edge, reflect, symmetric, wrap:
    copies of the array's own elements, read by index (gradient: g added back there).
    """
    if not isinstance(mode, str) or mode not in PAD_MODES:
        if mode in _NUMPY_ONLY_MODES:
            raise NotImplementedError(
                f"pad: mode {mode!r} is not supported yet; chainrule pads by {PAD_MODES}"
            )
        raise ValueError(f"pad: mode {mode!r} is not supported; choose one of {PAD_MODES}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values applies to mode 'constant', not {mode!r}")
    if reflect_type is not None:
        if mode not in ("reflect", "symmetric"):
            raise ValueError(f"pad: reflect_type applies to modes 'reflect' and 'symmetric', not {mode!r}")
        if reflect_type != "even":
            raise NotImplementedError(f"pad: reflect_type {reflect_type!r} is not supported yet, only 'even'")
    widths = _pad_widths(array, pad_width)
    if mode == "constant":
        return _constant_pad(lib, array, widths, 0 if constant_values is None else constant_values)
    out = array
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        if array.shape[axis] == 0:
            raise ValueError(
                f"pad: cannot extend the empty axis {axis} of a tensor of shape {tuple(array.shape)} "
                f"with mode {mode!r} (only 'constant' can)"
            )
        out = out[(slice(None),) * axis + (_source_index(mode, array.shape[axis], before, after),)]
    return _copy(lib, out) if out is array else out


# ------------------------------------------------------------------ select, diagonals
def _select(lib, condlist, choicelist, default=0):
    """choicelist[i] where condlist[i] is the first condition that holds, else default:
    where(c₀, x₀, where(c₁, x₁, … default)), so the gradient reaches the chosen choice."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError(
            f"select: {len(condlist)} conditions but {len(choicelist)} choices; give one choice per condition"
        )
    if not condlist:
        raise ValueError("select: needs at least one condition")
    for i, c in enumerate(condlist):
        if dtypes.kind(c.dtype) != "b":
            raise TypeError(f"select: condition {i} must be boolean, got dtype {c.dtype}")
    shapes = [tuple(c.shape) for c in condlist] + [tuple(np.shape(x)) for x in [*choicelist, default]]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"select: shapes {shapes} (conditions, choices, default) do not broadcast") from None
    out = default
    for c, x in zip(reversed(condlist), reversed(choicelist)):
        out = lib.where(c, x, out)
    return out


def _beside(conditions, a):
    """A sample's boolean conditions (NumPy arrays) on the device of the tensor ``a``."""
    return [constant_like(c, a, dtype=bool) for c in conditions]


def _diag(lib, v, k=0):
    """For a vector v: a matrix with v on diagonal k, written there by scatter_add (its
    gradient reads g's diagonal back). For a matrix: its diagonal k, read by index."""
    k = _index("diag", "k", k)
    if v.ndim == 1:
        n = v.shape[0]
        rows, cols = np.arange(n) + max(-k, 0), np.arange(n) + max(k, 0)
        size = n + abs(k)
        return lib.apply(
            OPS["scatter_add"], v, index=(rows, cols), shape=(size, size), out_ndim=1, advanced=True
        )
    if v.ndim == 2:
        r0, c0 = max(-k, 0), max(k, 0)
        length = max(0, min(v.shape[0] - r0, v.shape[1] - c0))
        return v[np.arange(length) + r0, np.arange(length) + c0]
    raise ValueError(f"diag: needs a 1-d or 2-d tensor, got shape {tuple(v.shape)}")


def _diagflat(lib, v, k=0):
    return _diag(lib, lib.reshape(v, (-1,)), k)


# ------------------------------------------------------------------ products
def _kron(lib, a, b):
    """Kronecker product: out[i·m + j, …] = a[i, …]·b[j, …], an outer product whose axis
    pairs (a's, b's) are merged."""
    if a.ndim == 0 or b.ndim == 0:
        return lib.multiply(a, b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    x = lib.reshape(a, tuple(v for n in sa for v in (n, 1)))
    y = lib.reshape(b, tuple(v for n in sb for v in (1, n)))
    return lib.reshape(lib.multiply(x, y), tuple(m * n for m, n in zip(sa, sb)))


def _inner(lib, a, b):
    """Σ over the last axes: out[i…, j…] = Σₖ a[i…, k] b[j…, k] (a product with a 0-d input)."""
    if a.ndim == 0 or b.ndim == 0:
        return lib.multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"inner: shapes {tuple(a.shape)} and {tuple(b.shape)} are not aligned: their last axes "
            f"differ ({a.shape[-1]} != {b.shape[-1]})"
        )
    return OPS["tensordot"].fn(lib, a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def _times(x, y):
    return None if x is None or y is None else x * y


def _minus(x, y):
    """x − y where None stands for a zero component (of a 2-vector's missing z)."""
    return -y if x is None else x if y is None else x - y


def _cross(lib, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """a × b of 3-vectors along ``axisa`` and ``axisb`` (broadcast over the other axes):
    (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀). A 2-vector has z = 0; two 2-vectors give the
    z component alone (NumPy deprecates 2-vectors, and so warns)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"cross: needs vectors, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    a = OPS["moveaxis"].fn(lib, a, check_axis("cross", axisa, a.ndim, a.shape), -1)
    b = OPS["moveaxis"].fn(lib, b, check_axis("cross", axisb, b.ndim, b.shape), -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(
            f"cross: the vectors must have 2 or 3 components, got {na} and {nb} "
            f"(shapes {tuple(a.shape)} and {tuple(b.shape)} with the vector axis last)"
        )
    try:
        lead = np.broadcast_shapes(tuple(a.shape[:-1]), tuple(b.shape[:-1]))
    except ValueError:
        raise ValueError(
            f"cross: shapes {tuple(a.shape)} and {tuple(b.shape)} (vector axis last) do not broadcast"
        ) from None
    if na == 2 or nb == 2:
        warnings.warn(
            "cross: arrays of 2-dimensional vectors are deprecated (as in NumPy 2.0); use 3-d vectors",
            DeprecationWarning,
            stacklevel=4,
        )
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2] if na == 3 else None
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2] if nb == 3 else None
    z = _minus(_times(a0, b1), _times(a1, b0))
    if na == 2 and nb == 2:
        return z
    axisc = check_axis("cross", axisc, len(lead) + 1, lead + (3,))
    parts = [_minus(_times(a1, b2), _times(a2, b1)), _minus(_times(a2, b0), _times(a0, b2)), z]
    out = OPS["stack"].fn(
        lib, [p if tuple(p.shape) == lead else lib.broadcast_to(p, lead) for p in parts], axis=-1
    )
    return OPS["moveaxis"].fn(lib, out, -1, axisc)


# ------------------------------------------------------------------ grids
def _linspace(lib, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """num evenly spaced samples from start to stop: start + i·(stop − start)/div with div =
    num − 1 (num without the endpoint), the last one exactly stop; linear in start and stop."""
    num = _index("linspace", "num", num)
    if num < 0:
        raise ValueError(f"linspace: the number of samples must be non-negative, got {num}")
    floats = [dtypes.numpy_dtype(x.dtype) for x in (start, stop) if dtypes.kind(x.dtype) == "f"]
    dt = np.result_type(*floats) if floats else dtypes.get_default_dtype()
    start, stop = (x if dtypes.numpy_dtype(x.dtype) == dt else lib.astype(x, dt) for x in (start, stop))
    div = num - 1 if endpoint else num
    delta = stop - start
    i = constant_like(np.arange(num, dtype=dt).reshape((num,) + (1,) * delta.ndim), delta)
    step = delta / div if div > 0 else None
    # The Tensor on the left: another library's array (``i`` off NumPy) does not defer to it.
    y = step * i + start if step is not None else delta * i + start
    if endpoint and num > 1:
        last = lib.broadcast_to(lib.reshape(stop, (1,) + tuple(stop.shape)), (1,) + tuple(y.shape[1:]))
        y = lib.concat([y[:-1], last], axis=0)
    axis = check_axis("linspace", axis, y.ndim, y.shape)
    if axis != 0:
        y = OPS["moveaxis"].fn(lib, y, 0, axis)
    if dtype is not None and dtypes.kind(dtype) in "iu":  # NumPy floors before casting to integers
        y = lib.astype(lib.apply(OPS["floor"], y), dtype)
    elif dtype is not None:
        y = lib.astype(y, dtype)
    if retstep:
        return y, step if step is not None else float("nan")
    return y


def meshgrid_parts(lib: Any, *xi: Any, indexing: str = "xy", sparse: bool = False) -> tuple[Any, ...]:
    """The coordinate arrays of ``meshgrid``: x_i flattened onto axis i (axes 0 and 1 swapped
    for 'xy'), broadcast to the full grid unless ``sparse``."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    nd = len(xi)
    place = list(range(nd))
    if indexing == "xy" and nd > 1:
        place[0], place[1] = 1, 0
    parts = [lib.reshape(x, tuple(-1 if i == p else 1 for i in range(nd))) for x, p in zip(xi, place)]
    if sparse:
        return tuple(parts)
    shape = np.broadcast_shapes(*(tuple(p.shape) for p in parts))
    return tuple(p if tuple(p.shape) == shape else lib.broadcast_to(p, shape) for p in parts)


# ------------------------------------------------------------------ the rows
composite(
    "pad",
    _pad,
    reference=np.pad,
    samples=[
        Sample(((2, 3),), {"pad_width": 1}),
        Sample(((2, 3),), {"pad_width": ((1, 0), (0, 2)), "constant_values": ((1.5, 2.0), (-1.0, 3.0))}),
        Sample(((4,),), {"pad_width": (2, 3), "mode": "edge"}),
        Sample(((2, 3),), {"pad_width": ((3, 1), (4, 5)), "mode": "reflect"}),
        Sample(((3,),), {"pad_width": (4, 2), "mode": "symmetric"}),
        Sample(((2, 2),), {"pad_width": ((0, 3), (5, 1)), "mode": "wrap"}),
    ],
)
composite(
    "select",
    _select,
    reference=np.select,
    samples=[
        Sample(
            ((4,), (4,)),
            {"condlist": [np.array([True, False, True, False]), np.array([True, True, False, False])]},
            call=lambda f, *xs, condlist: f(_beside(condlist, xs[0]), list(xs)),
        ),
        Sample(
            ((2, 3), (3,), (2, 1)),
            {
                "condlist": [
                    np.array([[True, False, False], [False, True, False]]),
                    np.array([True, True, False]),
                ]
            },
            call=lambda f, *xs, condlist: f(_beside(condlist, xs[0]), list(xs[:-1]), xs[-1]),
        ),
    ],
)
composite(
    "diag",
    _diag,
    reference=np.diag,
    samples=[Sample(((3,),)), Sample(((2,),), {"k": -2}), Sample(((3, 3),)), Sample(((2, 4),), {"k": 1})],
)
composite(
    "diagflat",
    _diagflat,
    reference=np.diagflat,
    samples=[Sample(((2, 2),)), Sample(((),), {"k": 1})],
)
composite(
    "kron",
    _kron,
    reference=np.kron,
    samples=[Sample(((2,), (3,))), Sample(((2, 2), (2, 3))), Sample(((2,), (2, 2))), Sample(((), (2,)))],
)
composite(
    "inner",
    _inner,
    reference=np.inner,
    samples=[Sample(((3,), (3,))), Sample(((2, 3), (4, 3))), Sample(((2,), ()))],
)
composite(
    "cross",
    _cross,
    reference=np.cross,
    samples=[
        Sample(((3,), (3,))),
        Sample(((2, 3), (3,))),
        Sample(((3, 2), (2, 3)), {"axisa": 0, "axisc": 0}),
        Sample(((3, 1, 2), (3, 2)), {"axis": 0}),
    ],
)
composite(
    "linspace",
    _linspace,
    reference=np.linspace,
    samples=[
        Sample(((), ()), {"num": 5}),
        Sample(((2,), ()), {"num": 4, "endpoint": False}),
        Sample(((2,), (3, 1)), {"num": 3, "axis": -1}),
        Sample(((), ()), {"num": 1}),
    ],
)
