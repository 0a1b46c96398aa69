"""The stacked basis of a one-pass Jacobian, kept diagonal for as long as it stays so.

Seeding reverse mode with all cotangent basis vectors at once (or forward mode with
all tangent basis vectors) means pushing the identity matrix I through the rules.
Elementwise rules scale its rows, g · f'(x), which leaves it diagonal, and a matrix
product with a diagonal stack is a scaling of rows, D·M = d[:, None]·M. Carried as
its diagonal d, the stack costs O(n) through elementwise ops and O(n·k) through a
product, instead of the O(n²) and O(n²·k) of the dense identity. Any other operation
sees the dense array (``__array__``), so results never depend on the representation.

>>> import numpy as np
>>> D = StackedDiagonal(np.array([1.0, 2.0]), (2,))
>>> np.asarray(D * np.array([3.0, 5.0])).tolist()
[[3.0, 0.0], [0.0, 10.0]]
"""

from __future__ import annotations

import math

import numpy as np


class StackedDiagonal:
    """The stack D with D[i] = d[i]·eᵢ reshaped to ``core``: shape ``(n,) + core``, n = |core|."""

    __slots__ = ("d", "core")
    __array_priority__ = 1000
    base = None  # it owns its diagonal: it is never a view of a tensor's storage

    def __init__(self, d: np.ndarray, core: tuple) -> None:
        self.d = d
        self.core = tuple(core)

    @classmethod
    def identity(cls, core: tuple, dtype) -> StackedDiagonal:
        return cls(np.ones(math.prod(core), dtype=dtype), core)

    @property
    def shape(self) -> tuple:
        return (self.d.size,) + self.core

    @property
    def ndim(self) -> int:
        return 1 + len(self.core)

    @property
    def size(self) -> int:
        return self.d.size * self.d.size

    @property
    def dtype(self) -> np.dtype:
        return self.d.dtype

    def __getattr__(self, name: str):
        """Every ndarray attribute not written here reads the dense array, so a rule that
        calls a method this class lacks (``swapaxes``, ``transpose``, ...) gets the right
        numbers instead of an AttributeError."""
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(np.asarray(self), name)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        n = self.d.size
        dense = np.zeros((n, n), dtype=dtype or self.d.dtype)
        dense[np.arange(n), np.arange(n)] = self.d
        return dense.reshape(self.shape)

    def _scaled(self, factor):
        """D · factor, still diagonal when factor broadcasts within the core shape."""
        if isinstance(factor, StackedDiagonal):
            return None
        f = np.asarray(factor)
        if f.dtype.kind not in "biuf" or f.ndim > len(self.core):
            return None
        try:
            f = np.broadcast_to(f, self.core)
        except ValueError:
            return None
        return StackedDiagonal(self.d * f.reshape(-1), self.core)

    # With an operand that is not plain data (a Tensor) the operators give way
    # (NotImplemented), so the operand's own operator records the product on its graph.
    def __mul__(self, other):
        if not _plain(other):
            return NotImplemented
        scaled = self._scaled(other)
        return np.asarray(self) * other if scaled is None else scaled

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not _plain(other):
            return NotImplemented
        scaled = self._scaled(1 / np.asarray(other))
        return np.asarray(self) / other if scaled is None else scaled

    def __neg__(self) -> StackedDiagonal:
        return StackedDiagonal(-self.d, self.core)

    def __add__(self, other):
        return np.asarray(self) + other if _plain(other) else NotImplemented

    __radd__ = __add__

    def __sub__(self, other):
        return np.asarray(self) - other if _plain(other) else NotImplemented

    def __rsub__(self, other):
        return other - np.asarray(self) if _plain(other) else NotImplemented

    def __getitem__(self, index):
        return np.asarray(self)[index]

    def __matmul__(self, other):
        return np.matmul(self, other)

    def __rmatmul__(self, other):
        return np.matmul(other, self)

    def astype(self, dtype, copy: bool = True) -> StackedDiagonal:
        return StackedDiagonal(self.d.astype(dtype), self.core)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        if shape and shape[0] == self.d.size and math.prod(shape[1:]) == math.prod(self.core):
            return StackedDiagonal(self.d, tuple(shape[1:]))
        return np.asarray(self).reshape(shape)

    def _product(self, other, left: bool):
        """D @ M (``left``) or M @ D for a 1-D core and a plain matrix M."""
        m = np.asarray(other)
        if len(self.core) != 1 or m.ndim != 2:
            return None
        return self.d[:, None] * m if left else m * self.d[None, :]

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and len(inputs) == 2:
            a, b = inputs
            if ufunc is np.multiply:
                return a * b if isinstance(a, StackedDiagonal) else b * a
            if ufunc is np.matmul:
                found = self._product(b, True) if a is self else self._product(a, False)
                if found is not None:
                    return found
        dense = [np.asarray(x) if isinstance(x, StackedDiagonal) else x for x in inputs]
        return getattr(ufunc, method)(*dense, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func is np.reshape:
            return self.reshape(tuple(args[1]) if len(args) > 1 else tuple(kwargs["shape"]))
        if func is np.matrix_transpose and len(self.core) == 1:
            return self  # a diagonal matrix is its own transpose
        return func(*_dense(args), **_dense(kwargs))


def _plain(value) -> bool:
    """Whether an operand is plain data (an array, a number, a stacked diagonal)."""
    return isinstance(value, (np.ndarray, np.generic, int, float, StackedDiagonal))


def _dense(value):
    if isinstance(value, StackedDiagonal):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_dense(v) for v in value)
    if isinstance(value, dict):
        return {k: _dense(v) for k, v in value.items()}
    return value
