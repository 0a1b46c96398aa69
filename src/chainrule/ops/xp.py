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
    "abs", "astype", "broadcast_to", "concat", "cos", "cosh", "einsum", "exp", "eye",
    "expand_dims", "expm1", "log", "log1p", "matmul", "matrix_transpose", "mean",
    "ones", "permute_dims", "prod", "reshape", "sign", "sin", "sinh", "sqrt", "sum",
    "tanh", "where", "zeros", "zeros_like",
)
EXTRAS = ("apply", "wrap", "recording")


def _apply(op, *args, **params):
    return op.forward(*args, **params)


def _sum(x, axis=None, keepdims=False):
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


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
