"""The array namespace rules run on in an ordinary backward pass: NumPy's own arrays.

Rules may call only the names in :data:`NAMES` on ``xp``: names of the Python array
API standard (NumPy 2 has them all), plus the declared extras ``apply`` (run a table
op's forward), ``einsum`` and ``wrap``. chainrule's recording namespace offers the
same names on Tensors; a test checks that rules use nothing else.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

NAMES = (
    "abs",
    "astype",
    "broadcast_to",
    "concat",
    "cos",
    "cosh",
    "einsum",
    "exp",
    "eye",
    "expand_dims",
    "expm1",
    "log",
    "log1p",
    "matmul",
    "matrix_transpose",
    "mean",
    "ones",
    "permute_dims",
    "prod",
    "reshape",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "sum",
    "tanh",
    "where",
    "zeros",
    "zeros_like",
)
EXTRAS = ("apply", "wrap", "recording")


def _apply(op, *args, **params):
    return op.forward(*args, **params)


def reduce_along(ufunc, x, axis=None, keepdims=False):
    """``ufunc.reduce(x, axis, keepdims=keepdims)``, fast for a short last axis too.

    NumPy reduces a short innermost axis row by row (summing the 5 logits of each of
    256 rows takes 11 µs); for a last axis of at most 16 elements the same reduction
    runs across a transposed copy instead, over its first axis, which is vectorized
    (3 µs). The result is the same.
    """
    last = x.ndim - 1 if type(x) is np.ndarray else 0
    if last > 0 and (axis == -1 or axis == last or axis == (-1,) or axis == (last,)) and x.shape[-1] <= 16:
        r = ufunc.reduce(np.ascontiguousarray(x.transpose((last, *range(last)))), axis=0)
        return r[..., None] if keepdims else r
    return ufunc.reduce(x, axis=axis, keepdims=keepdims)


def _sum(x, axis=None, keepdims=False):
    return reduce_along(np.add, x, axis, keepdims)


# The names every backward pass calls most, bound to NumPy's methods and ufunc directly:
# the same results as np.sum, np.reshape and np.matrix_transpose without their Python
# dispatch layers (about a microsecond per call each).
_FAST = {
    "sum": _sum,
    "reshape": lambda x, shape: x.reshape(shape),
    "matrix_transpose": lambda x: x.swapaxes(-1, -2),
}

NUMPY = SimpleNamespace(
    recording=False,
    apply=_apply,
    wrap=lambda value, parent, tangents=None: value,
    **{name: _FAST.get(name) or getattr(np, name) for name in NAMES},
)
