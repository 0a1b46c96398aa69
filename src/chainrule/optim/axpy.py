"""x ← x + a·y in place, in one pass over memory when SciPy is installed.

NumPy computes ``x += a * y`` in two passes with a temporary the size of x (one
multiply, one add); BLAS's axpy reads x and y once and writes x once. SGD's update
x ← x − η g is this operation, and on a large weight matrix the second pass and the
temporary are a noticeable share of a training step. SciPy (an optional extra) is
NumPy's route to BLAS level 1; without it, or for arrays BLAS cannot take as they
are (other dtypes, mixed memory layouts, views with gaps), NumPy does the update.

>>> import numpy as np
>>> x = np.array([1.0, 2.0, 3.0])
>>> axpy(-0.5, np.array([2.0, 2.0, 2.0]), x).tolist()
[0.0, 1.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_BLAS: dict[np.dtype, Callable[..., Any]] | None = None


def _routines() -> dict[np.dtype, Callable[..., Any]]:
    """SciPy's axpy for float32 and float64, or an empty dict without SciPy (looked up once)."""
    global _BLAS
    if _BLAS is None:
        try:
            from scipy.linalg import blas
        except ImportError:
            _BLAS = {}
        else:
            _BLAS = {np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy}
    return _BLAS


def _pairs_flat(x: np.ndarray, y: np.ndarray) -> bool:
    """x is writeable, and both are contiguous in the same order, so their flat views
    pair element with element."""
    fx, fy = x.flags, y.flags
    return fx.writeable and ((fx.c_contiguous and fy.c_contiguous) or (fx.f_contiguous and fy.f_contiguous))


def axpy(a: float, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Add a·y into x (same shape) in place and return x (by BLAS for NumPy arrays, else
    by x's own library)."""
    routine = (_BLAS if _BLAS is not None else _routines()).get(x.dtype) if type(x) is np.ndarray else None
    if (
        routine is not None
        and type(y) is np.ndarray
        and y.dtype == x.dtype
        and y.shape == x.shape
        and x.size
        and _pairs_flat(x, y)
    ):
        routine(y.ravel(order="K"), x.ravel(order="K"), a=a)
    else:
        x += a * y
    return x
