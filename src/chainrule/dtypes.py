"""Dtypes: the default floating dtype, and which dtypes can carry a gradient.

Python floats (and lists of them) become the default dtype, ``float32`` unless
changed with :func:`set_default_dtype`; NumPy arrays keep their dtype; Python ints
stay integers. Only floating dtypes carry gradients.

>>> import numpy as np, chainrule as cr
>>> cr.get_default_dtype()
dtype('float32')
"""

from __future__ import annotations

import numpy as np

_FLOATING = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
_default_dtype = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """The dtype Python floats become (``float32`` at start)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (a floating dtype) the one Python floats become.

    >>> import numpy as np, chainrule as cr
    >>> cr.set_default_dtype(np.float64); cr.tensor(1.5).dtype
    dtype('float64')
    >>> cr.set_default_dtype(np.float32)
    """
    global _default_dtype
    dt = np.dtype(dtype)
    if dt not in _FLOATING:
        raise TypeError(f"set_default_dtype: expected float16, float32 or float64, got {dt}")
    _default_dtype = dt


def is_differentiable(dtype) -> bool:
    """True when values of ``dtype`` can carry a gradient (floating dtypes)."""
    return np.dtype(dtype).kind == "f"

