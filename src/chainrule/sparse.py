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

The indices and values are arrays of one library, where the lookup ran: on another array
library (CuPy, array-api-strict's ``device1``) the rows are sorted and summed there through
its namespace, :meth:`RowSparse.dense` is the dense gradient there, and ``np.asarray(g)``
is refused, as it is for a Tensor there (``g.numpy()`` copies to the host).

>>> import numpy as np
>>> g = RowSparse(np.array([3, 0, 3]), np.ones((3, 2)), shape=(5, 2))
>>> g.indices.tolist(), g.values.tolist()          # row 3 was used twice: summed
([0, 3], [[1.0, 1.0], [2.0, 2.0]])
>>> np.asarray(g)[:, 0].tolist()
[1.0, 0.0, 0.0, 2.0, 0.0]
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backends
from .ops.extras import add_into, put_rows

if TYPE_CHECKING:
    from .tensor import Tensor


class RowSparse:
    """A gradient of ``shape`` that is zero outside the rows ``indices``.

    ``values[k]`` is the gradient of row ``indices[k]``; repeated rows given to the
    constructor are summed, so ``indices`` ends up sorted and unique.
    """

    __slots__ = ("shape", "indices", "values")

    def __init__(self, indices, values, shape: tuple) -> None:
        self.shape = tuple(shape)
        if backends.is_array(values):  # another array library's values: sum them there
            self._sum_runs_on_device(indices, values)
            return
        indices = np.asarray(indices).reshape(-1)
        values = np.asarray(values)
        self._check(indices.shape, values.shape)
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

    def _check(self, indices_shape: tuple, values_shape: tuple) -> None:
        """A ValueError unless the values hold one row of the gradient per index."""
        if tuple(values_shape) != tuple(indices_shape) + self.shape[1:]:
            raise ValueError(
                f"RowSparse: values of shape {tuple(values_shape)} do not hold one row of "
                f"{self.shape[1:]} per index ({math.prod(indices_shape)} indices)"
            )

    def _sum_runs_on_device(self, indices, values) -> None:
        """NumPy's constructor in the values' own namespace, on their device: a stable
        ``argsort`` of the row numbers, one ``take`` of the first row of each run of equal
        rows, and the repeats added into it by the scatter-add of ``ops/extras.py``."""
        xp = backends.namespace_of(values)
        indices = xp.reshape(indices, (-1,))
        self._check(indices.shape, values.shape)
        order = xp.argsort(indices, stable=True)
        indices = xp.take(indices, order)
        starts = xp.ones((min(indices.shape[0], 1),), dtype=xp.bool, device=values.device)
        first = xp.concat([starts, indices[1:] != indices[:-1]])  # where a run starts
        (kept,) = xp.nonzero(first)
        if kept.shape[0] == indices.shape[0]:
            self.indices, self.values = indices, xp.take(values, order, axis=0)
            return
        (repeat,) = xp.nonzero(~first)
        run = xp.cumulative_sum(xp.astype(first, indices.dtype)) - 1  # each sorted row's run
        self.indices = xp.take(indices, kept)
        self.values = add_into(
            xp,
            xp.take(values, xp.take(order, kept), axis=0),
            (xp.take(run, repeat),),
            xp.take(values, xp.take(order, repeat), axis=0),
        )

    @property
    def dtype(self) -> Any:
        """The values' dtype (their library's own)."""
        return self.values.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def numpy(self) -> np.ndarray:
        """The dense gradient as a new ndarray (zeros outside ``indices``); for values on
        another array library's device, a copy to the host (an explicit transfer, as
        ``Tensor.numpy``)."""
        if backends.is_array(self.values):
            return backends.host(self.dense())
        dense = np.zeros(self.shape, dtype=self.values.dtype)
        dense[self.indices] = self.values
        return dense

    def dense(self) -> Any:
        """The dense gradient as a new array of the values' library, on their device (zeros
        outside ``indices``, the rows set by :func:`~chainrule.ops.extras.put_rows`): an
        ndarray for NumPy, as :meth:`numpy` gives it."""
        if not backends.is_array(self.values):
            return self.numpy()
        xp = backends.namespace_of(self.values)
        zeros = xp.zeros(self.shape, dtype=self.values.dtype, device=self.values.device)
        return put_rows(xp, zeros, self.indices, self.values)

    data = property(dense, doc="The dense gradient, as ``Tensor.data`` would give it (where the values are).")

    def to_dense(self) -> Tensor:
        """The dense gradient as a Tensor, where the values are."""
        from .tensor import Tensor

        return Tensor._make(self.dense(), None)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if backends.is_array(self.values):
            raise TypeError(
                f"a row-sparse gradient on {backends.describe(self.values)} was converted to a NumPy "
                "array implicitly (np.asarray, or a NumPy function given it); chainrule never copies "
                "between devices unasked: call g.numpy() (a copy to the host) first"
            )
        dense = self.numpy()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def __add__(self, other):
        """Row-sparse + row-sparse stays row-sparse; anything else is added to the dense form."""
        if isinstance(other, RowSparse):
            if other.shape != self.shape:
                raise ValueError(f"RowSparse: cannot add gradients of shapes {self.shape} and {other.shape}")
            concat = (
                np.concatenate
                if type(self.values) is np.ndarray
                else backends.namespace_of(self.values).concat
            )
            return RowSparse(
                concat([self.indices, other.indices]),
                concat([self.values, other.values]),
                self.shape,
            )
        dense = self.dense()
        return other + dense if backends.is_array(dense) and not backends.is_array(other) else dense + other

    __radd__ = __add__

    def __repr__(self) -> str:
        """Its shape, rows (read to the host, as ``print`` of a Tensor reads its values), dtype
        and, off NumPy, device."""
        rows = backends.host(self.indices).tolist()
        where = f", device={backends.device_of(self.values)!r}" if backends.is_array(self.values) else ""
        dtype = backends.numpy_dtype(self.dtype).name
        return f"RowSparse(shape={self.shape}, rows={rows}, dtype={dtype}{where})"
