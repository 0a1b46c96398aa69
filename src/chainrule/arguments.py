"""How the public functions take NumPy's arguments and call their table rows.

The helpers that the modules of public functions (``functions``, ``statistics``,
``assembly`` and ``construction``) share: NumPy's reduction arguments converted or refused,
plain data read as a constant Tensor, and a composite row run on the recording namespace.
They are no part of the public surface (``chainrule`` exports none of them).
"""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from .ops import OPS
from .tensor import RECORDING, Tensor, TensorLike, apply, as_array

__all__ = ["reduction_input", "run_row", "tensor_argument"]


def reduction_input(
    name: str,
    a: TensorLike,
    dtype: npt.DTypeLike | None,
    out: object,
    initial: object = None,
    where: object = True,
) -> TensorLike:
    """a, converted to ``dtype``, once NumPy's arguments chainrule does not take are refused."""
    if out is not None:
        raise TypeError(f"{name}: out= writes into an existing array; chainrule returns a new tensor, use it")
    if initial is not None:
        raise TypeError(f"{name}: initial= is not supported; combine the result with it afterwards")
    if where is not True:
        raise TypeError(f"{name}: where= is not supported; mask the input first (where(mask, a, 0))")
    return a if dtype is None else apply(OPS["astype"], a, dtype=dtype)  # functions.astype


def tensor_argument(value: Any, name: str) -> Tensor:
    """A Tensor as it is; an array, number or nested list as a constant Tensor (no copy)."""
    return value if isinstance(value, Tensor) else Tensor._make(as_array(value, what=name), None)


def run_row(name: str, *args: Any, **params: Any) -> Any:
    """The table row ``name`` (a composite's forward) run on the recording namespace."""
    return OPS[name].fn(RECORDING, *args, **params)
