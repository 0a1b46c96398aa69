"""How code above the engine reads an argument that may be a Tensor or array-like data:
its shape, its dtype, a layout without values, or (given to an op as a parameter) its array.

They answer for a tensor vmap batches too (its shape is one example's), where reading the
values would be refused: see :mod:`chainrule.batching`.

>>> import chainrule as cr
>>> shape_of(cr.zeros((2, 3))), shape_of([1.0, 2.0]), dtype_of(cr.tensor([1, 2]))
((2, 3), (2,), dtype('int64'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import numpy_dtype
from .tensor import BatchedAccess, Tensor

__all__ = ["dtype_of", "layout_of", "parameter_of", "shape_of"]


def shape_of(value: Any) -> tuple[int, ...]:
    """The shape of a Tensor (one example's, under vmap) or of array-like data."""
    return value.shape if isinstance(value, Tensor) else np.shape(value)


def layout_of(t: Tensor) -> np.ndarray:
    """An array with t's shape and dtype that holds no values (one zero, broadcast): what a
    shape check reads, for a tensor vmap batches too."""
    return np.broadcast_to(np.zeros((), numpy_dtype(t.dtype)), t.shape)


def dtype_of(value: Any) -> np.dtype:
    """The dtype of a Tensor or of array-like data."""
    return value.dtype if isinstance(value, Tensor) else np.asarray(value).dtype


def parameter_of(value: Any) -> Any:
    """A Tensor given as an op's parameter (targets, indices) as its array; one vmap batches
    stays itself, for the op's batching rule to read."""
    if isinstance(value, Tensor):
        try:
            return value._data
        except BatchedAccess:
            return value
    return value
