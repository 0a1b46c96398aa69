"""Making tensors: from data, filled with a value, ranges and random draws.

Every function takes ``dtype=`` and ``requires_grad=``. Shapes may be given as
``zeros(2, 3)`` or ``zeros((2, 3))``. Random functions take an explicit ``seed``
(an int or a ``numpy.random.Generator``); there is no hidden global state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .tensor import Tensor, as_array


def tensor(data: Any, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of ``data``.

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def _shape(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


def _leaf(arr: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor._make(arr, None).requires_grad_(requires_grad) if requires_grad else Tensor._make(arr, None)


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def zeros(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros(_shape(shape), dtype=_float(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones(_shape(shape), dtype=_float(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (a float fill gives the default dtype)."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if dtype is None:
        dtype = as_array(fill_value, what="full").dtype
    return _leaf(np.full(shape, fill_value, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in [start, stop); integers unless an argument is a float."""
    if stop is None:
        start, stop = 0, start
    if dtype is None and any(isinstance(v, float) for v in (start, stop, step)):
        dtype = dtypes.get_default_dtype()
    return _leaf(np.arange(start, stop, step, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.zeros_like(as_array(t), dtype=dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad: bool = False) -> Tensor:
    return _leaf(np.ones_like(as_array(t), dtype=dtype), requires_grad)


def _generator(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def randn(*shape, seed=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws; the same ``seed`` gives the same numbers."""
    arr = _generator(seed).standard_normal(_shape(shape)).astype(_float(dtype))
    return _leaf(arr, requires_grad)


def rand(*shape, seed=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform draws from [0, 1); the same ``seed`` gives the same numbers."""
    arr = _generator(seed).random(_shape(shape)).astype(_float(dtype))
    return _leaf(arr, requires_grad)
