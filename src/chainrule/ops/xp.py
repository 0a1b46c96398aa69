"""The array namespaces of the table: what rules and forwards may call on ``xp``.

Rules may call only the names in :data:`NAMES` on ``xp``: names of the Python array
API standard (NumPy 2 has them all), plus the declared extras ``apply`` (run a table
op's forward), ``einsum`` and ``wrap``. chainrule's recording namespace offers the
same names on Tensors; a test checks that rules use nothing else.

Forwards run on an array namespace too: on NumPy it is the ``numpy`` module itself
(``OpDef.forward``), on another backend whatever ``OpDef.forward_on`` is given. A forward
may call the standard names in :data:`STANDARD`, the NumPy functions the standard lacks
that are declared in :data:`FORWARD_EXTRAS` (each says what it means, so that a backend
knows what to supply), and NumPy itself only where :data:`NUMPY_ONLY` says why.
``tests/test_table.py`` walks every forward and checks all three.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

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
    "full_like",
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

# The array API standard functions the table's forwards call (revision 2023.12; the four
# marked 2024.12 joined in that revision, and NumPy >= 2.1 has them). A dotted name is
# in a sub-namespace: ``linalg.inv`` is ``xp.linalg.inv``.
STANDARD = (
    "abs",
    "acos",
    "acosh",
    "add",
    "arange",
    "argsort",
    "asarray",
    "asin",
    "asinh",
    "astype",
    "atan",
    "atan2",
    "atanh",
    "broadcast_to",
    "ceil",
    "clip",
    "concat",
    "copysign",
    "cos",
    "cosh",
    "cumulative_prod",  # 2024.12
    "cumulative_sum",
    "diff",  # 2024.12
    "divide",
    "exp",
    "expand_dims",
    "expm1",
    "flip",
    "floor",
    "hypot",
    "isdtype",
    "isfinite",
    "linalg.cholesky",
    "linalg.det",
    "linalg.diagonal",
    "linalg.eigh",
    "linalg.eigvalsh",
    "linalg.inv",
    "linalg.pinv",
    "linalg.qr",
    "linalg.slogdet",
    "linalg.solve",
    "linalg.svd",
    "linalg.svdvals",
    "linalg.trace",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "matmul",
    "matrix_transpose",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "moveaxis",
    "multiply",
    "negative",
    "nonzero",
    "ones_like",
    "permute_dims",
    "pow",
    "prod",
    "reciprocal",  # 2024.12
    "remainder",
    "reshape",
    "result_type",
    "roll",
    "round",
    "sign",
    "sin",
    "sinh",
    "sort",
    "sqrt",
    "square",
    "std",
    "subtract",
    "sum",
    "take",
    "take_along_axis",  # 2024.12
    "tan",
    "tanh",
    "tril",
    "triu",
    "where",
    "zeros",
)

# NumPy functions the standard lacks, which forwards call by the same name on ``xp``: a
# backend supplies each with NumPy's meaning (CuPy has them all under these names).
FORWARD_EXTRAS = {
    "add.at": "numpy.add.at(z, index, values): unbuffered scatter-add, repeated indices accumulate",
    "einsum": "numpy.einsum(spec, *operands, optimize=flag); optimize only picks a contraction order",
    "exp2": "numpy.exp2(x): 2 ** x elementwise",
    "fmax": "numpy.fmax(x, y): maximum where a NaN loses to a number",
    "fmin": "numpy.fmin(x, y): minimum where a NaN loses to a number",
    "fmod": "numpy.fmod(x, y): the C remainder x - trunc(x / y) * y, with x's sign",
    "gradient": "numpy.gradient(x, spacing, axis=axis, edge_order=n): central differences",
    "logaddexp2": "numpy.logaddexp2(x, y): log2(2 ** x + 2 ** y) without overflow",
    "nan_to_num": "numpy.nan_to_num(x, nan=, posinf=, neginf=): NaN and infinities replaced",
    "rad2deg": "numpy.rad2deg(x): x * 180/pi with the constant rounded in x's dtype",
}

# The NumPy a forward may reach, each for a reason: helpers of this module that take the
# namespace and fall back to standard calls on any other, and ``np.<name>`` attributes.
NUMPY_ONLY = {
    "sum_along": "NumPy sums a short last axis row by row; reduce_along is 3x faster (else xp.sum)",
    "max_along": "as sum_along, for the maximum (else xp.max)",
    "numpy_linalg": "NumPy's eigh, eigvalsh and pinv take UPLO and hermitian (else their meaning computed)",
    "on_numpy": "NumPy takes and indexes with index arrays itself; MPI reads its arrays (else composed)",
    "linalg.LinAlgError": "NumPy's singular-matrix error, caught only to restate it with the op's name",
}


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


def sum_along(xp, x, axis, keepdims=False):
    """``xp.sum(x, axis=axis, keepdims=keepdims)``; on NumPy through :func:`reduce_along`."""
    if xp is np:
        return reduce_along(np.add, x, axis, keepdims)
    return xp.sum(x, axis=axis, keepdims=keepdims)


def max_along(xp, x, axis, keepdims=False):
    """``xp.max(x, axis=axis, keepdims=keepdims)``; on NumPy through :func:`reduce_along`."""
    if xp is np:
        return reduce_along(np.maximum, x, axis, keepdims)
    return xp.max(x, axis=axis, keepdims=keepdims)


def on_numpy(xp):
    """Whether ``xp`` is NumPy itself."""
    return xp is np


def numpy_linalg(xp):
    """Whether ``xp.linalg`` is NumPy's, whose ``eigh`` and ``eigvalsh`` take ``UPLO`` and
    ``pinv`` takes ``hermitian`` beyond the standard: a forward passes them there (keeping
    NumPy's own results), and on another namespace computes what they mean."""
    return xp.linalg.eigh is np.linalg.eigh


# The names every backward pass calls most, bound to NumPy's methods and ufunc directly:
# the same results as np.sum, np.reshape and np.matrix_transpose without their Python
# dispatch layers (about a microsecond per call each).
_FAST = {
    "sum": _sum,
    "reshape": lambda x, shape: x.reshape(shape),
    "matrix_transpose": lambda x: x.swapaxes(-1, -2),
}


def _unwrapped(value, parent, tangents=None):
    return value


NUMPY = SimpleNamespace(
    recording=False,
    apply=_apply,
    wrap=_unwrapped,
    **{name: _FAST.get(name) or getattr(np, name) for name in NAMES},
)

_RULE_NAMESPACES: dict = {}


def rules_namespace(xp: Any) -> Any:
    """The namespace the rules run on for arrays of the array namespace ``xp`` (an ordinary
    reverse or forward pass on that backend): :data:`NUMPY` for NumPy, else ``xp``'s own
    functions for :data:`NAMES` (with the fallbacks of ``extras.py`` where it lacks one),
    ``apply`` running a table op's forward bound to ``xp``. Made once per namespace."""
    if xp is np:
        return NUMPY
    made = _RULE_NAMESPACES.get(xp)
    if made is None:
        from .extras import with_extras

        full = with_extras(xp)

        def apply(op, *args, **params):
            return op.forward_on(xp)(*args, **params)

        made = SimpleNamespace(
            recording=False,
            apply=apply,
            wrap=_unwrapped,
            namespace=xp,
            **{name: getattr(full, name) for name in NAMES if hasattr(full, name)},
        )
        _RULE_NAMESPACES[xp] = made
    return made
