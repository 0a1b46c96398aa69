"""The base of every optimizer: which parameters it owns, their state, ``step`` and
``zero_grad``.

An update rule is written once, on the rows it changes: for a dense gradient those
are all of the parameter (``...``); for a row-sparse gradient (a sparse embedding's)
only the rows looked up, so every other row — its value and its optimizer state —
stays bit-identical.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import EllipsisType
from typing import Any, TypeAlias

import numpy as np

from .. import dtypes
from ..mode import no_grad
from ..sparse import RowSparse
from ..tensor import Tensor

Rows: TypeAlias = "np.ndarray | EllipsisType"
"""The rows of a parameter an update changes: the indices a row-sparse gradient holds, or
``...`` for all of them."""


def check_nonnegative(name: str, **values: float) -> None:
    """A ValueError naming the optimizer and the setting when a value is negative."""
    for setting, value in values.items():
        if not value >= 0:
            raise ValueError(f"{name}: invalid {setting} {value}; it must be >= 0")


def check_parameters(name: str, params: Iterable[Tensor]) -> list[Tensor]:
    """``params`` as a list, each a distinct floating-point leaf Tensor, or the error that
    names the optimizer, the parameter's position and its shape.

    A tensor computed from others (a non-leaf) is rebuilt by every forward pass, so
    updating it trains nothing; a tensor listed twice would be stepped twice per step.
    A leaf that does not require grad is accepted, as in PyTorch: it moves when it
    has a ``.grad``.
    """
    if isinstance(params, Tensor):
        raise TypeError(
            f"{name}: params must be an iterable of Tensors, got one Tensor of shape "
            f"{params.shape}; pass [tensor]"
        )
    params = list(params)
    if not params:
        raise ValueError(f"{name}: got an empty parameter list")
    position: dict[Tensor, int] = {}
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if not dtypes.is_differentiable(p.dtype):
            raise TypeError(
                f"{name}: parameter {i} (shape {p.shape}) has dtype {p.dtype}; only "
                "floating-point tensors can be optimized"
            )
        if p.grad_fn is not None:
            raise ValueError(
                f"{name}: can't optimize a non-leaf Tensor: parameter {i} (shape {p.shape}) "
                f"was computed by {p.grad_fn.name}; pass the leaf tensors it was "
                "computed from, or a detached copy with requires_grad=True"
            )
        if p in position:
            raise ValueError(
                f"{name}: parameter {i} (shape {p.shape}) is the same tensor as parameter "
                f"{position[p]}; list each parameter once"
            )
        position[p] = i
    return params


class Optimizer:
    """Holds ``params`` (an iterable of Tensors, checked by :func:`check_parameters`) and
    a state dict per parameter."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        self.params = check_parameters(type(self).__name__, params)
        self.state: dict[Tensor, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        """Set ``.grad`` of every parameter to None (the next backward starts afresh)."""
        for p in self.params:
            p.grad = None

    @no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient, in place on ``.data`` (each update
        counts in the parameter's version, as any in-place change does)."""
        for p in self.params:
            grad = p.grad
            if grad is None:
                continue
            if isinstance(grad, RowSparse):
                rows, g = grad.indices, grad.values
            else:
                rows, g = Ellipsis, np.asarray(grad.data)
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = self.initial_state(p.data)
            x = p.data if rows is Ellipsis else p.data[rows]  # the whole parameter, or a copy of rows
            new = self.update(x, g, rows, state)
            if new is not x or rows is not Ellipsis:
                p.data[rows] = new
            p._count_change()  # a graph that saved the old value now refuses it

    def initial_state(self, data: np.ndarray) -> dict[str, Any]:
        """The state of a parameter before its first step (arrays shaped like ``data``)."""
        return {}

    def update(self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any]) -> np.ndarray:
        """The new values of the rows ``x = p.data[rows]`` whose gradient is ``g`` (a rule may
        update ``x`` in place and return it: for dense gradients x is the parameter itself).

        Arrays in ``state`` have the whole parameter's shape; a rule reads and
        writes them at ``rows`` only.
        """
        raise NotImplementedError
