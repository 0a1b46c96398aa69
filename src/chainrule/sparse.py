"""Row-sparse gradients: the gradient of a row lookup ``E[rows]`` touches only those rows.

For out = E[rows] (an embedding lookup), the VJP scatters the upstream gradient
back: ∂L/∂E[r] = Σ_{k : rows_k = r} g_k, and every row that was not looked up gets
zero. :class:`RowSparse` stores only the rows that were looked up (``indices``,
sorted and unique) and their summed gradients (``values``), so a step on a
400,000-word embedding costs as much as the words in the batch.

The derivative table only states such a transpose, as plain ``(rows, values, shape)``
(``gather_rows``'s ``sparse_transpose`` in ``ops/shape.py``); the reverse pass
(``graph.row_sparse_vjp``) makes the RowSparse. It has the dense gradient's ``shape``
and ``dtype``, so the pass handles it like any gradient; adding two keeps it
row-sparse, adding a dense array gives a dense array, and NumPy sees the dense matrix
(``np.asarray(g)``).

>>> import numpy as np
>>> g = RowSparse(np.array([3, 0, 3]), np.ones((3, 2)), shape=(5, 2))
>>> g.indices.tolist(), g.values.tolist()          # row 3 was used twice: summed
([0, 3], [[1.0, 1.0], [2.0, 2.0]])
>>> np.asarray(g)[:, 0].tolist()
[1.0, 0.0, 0.0, 2.0, 0.0]
"""

from __future__ import annotations

import numpy as np


class RowSparse:
    """A gradient of ``shape`` that is zero outside the rows ``indices``.

    ``values[k]`` is the gradient of row ``indices[k]``; repeated rows given to the
    constructor are summed, so ``indices`` ends up sorted and unique.
    """

    __slots__ = ("shape", "indices", "values")

    def __init__(self, indices, values, shape: tuple) -> None:
        indices = np.asarray(indices).reshape(-1)
        values = np.asarray(values)
        self.shape = tuple(shape)
        if values.shape != indices.shape + self.shape[1:]:
            raise ValueError(
                f"RowSparse: values of shape {values.shape} do not hold one row of "
                f"{self.shape[1:]} per index ({indices.size} indices)"
            )
        # A stable sort of the row numbers (a radix sort when they fit in 16 bits), then
        # one gather of the values: each run of equal rows keeps its first row, and the
        # (few) repeats are added into it.
        key = indices.astype(np.uint16) if 0 < self.shape[0] <= 1 << 16 else indices
        order = np.argsort(key, kind="stable")
        indices = indices[order]
        first = np.ones(indices.size, dtype=bool)  # where a run of equal indices starts
        np.not_equal(indices[1:], indices[:-1], out=first[1:])
        if first.all():
            self.indices, self.values = indices, np.take(values, order, axis=0)
            return
        repeat = ~first
        self.indices = indices[first]
        self.values = np.take(values, order[first], axis=0)
        np.add.at(self.values, np.cumsum(first)[repeat] - 1, np.take(values, order[repeat], axis=0))

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numpy(self) -> np.ndarray:
        """The dense gradient as a new ndarray (zeros outside ``indices``)."""
        dense = np.zeros(self.shape, dtype=self.values.dtype)
        dense[self.indices] = self.values
        return dense

    data = property(numpy, doc="The dense gradient, as ``Tensor.data`` would give it.")

    def to_dense(self):
        """The dense gradient as a Tensor."""
        from .tensor import Tensor

        return Tensor._make(self.numpy(), None)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        dense = self.numpy()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def __add__(self, other):
        """Row-sparse + row-sparse stays row-sparse; anything else is added to the dense form."""
        if isinstance(other, RowSparse):
            if other.shape != self.shape:
                raise ValueError(f"RowSparse: cannot add gradients of shapes {self.shape} and {other.shape}")
            return RowSparse(
                np.concatenate([self.indices, other.indices]),
                np.concatenate([self.values, other.values]),
                self.shape,
            )
        return self.numpy() + other

    __radd__ = __add__

    def __repr__(self) -> str:
        return f"RowSparse(shape={self.shape}, rows={self.indices.tolist()}, dtype={self.dtype.name})"
