"""Stochastic gradient descent, with momentum and weight decay, as PyTorch defines it.

With gradient g of parameter x at step t (dampening 0):

    g ← g + λ x                       (weight_decay λ)
    b ← μ b + g                       (momentum μ; b starts at 0, so b₁ = g₁)
    g ← g + μ b  if nesterov, else b
    x ← x − η g                       (learning rate η)

>>> import chainrule as cr
>>> x = cr.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
>>> opt = cr.optim.SGD([x], lr=0.1, momentum=0.9)
>>> for _ in range(2):
...     opt.zero_grad(); (x * x).sum().backward(); opt.step()
>>> [round(v, 12) for v in x.tolist()]     # x₁ = 0.8x₀;  b₂ = 0.9·2x₀ + 2x₁ = 3.4x₀;  x₂ = x₁ − 0.34x₀
[0.46, -0.92]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backends import namespace_of
from .axpy import axpy
from .optimizer import Group, Optimizer, Rows, check_nonnegative, read_rows, write_rows


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0.0, weight_decay=0.0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)`` (see
    :mod:`~chainrule.optim.optimizer` for the last four).

    With a row-sparse gradient only the rows looked up move, and only their momentum
    decays (the other rows' momentum waits for their next gradient).
    """

    pytorch_only = {"dampening": 0}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def check_settings(self, group: Group) -> None:
        check_nonnegative(
            "SGD", lr=group["lr"], momentum=group["momentum"], weight_decay=group["weight_decay"]
        )
        if group["nesterov"] and group["momentum"] == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")

    def prepare_state(self, state: dict[str, Any], data: np.ndarray, group: Group) -> None:
        if group["momentum"] and "momentum_buffer" not in state:
            state["momentum_buffer"] = namespace_of(data).zeros_like(data)

    def update(
        self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any], group: Group
    ) -> np.ndarray:
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if weight_decay:
            g = g + weight_decay * x
        if momentum:
            b = momentum * read_rows(state["momentum_buffer"], rows) + g
            write_rows(state["momentum_buffer"], rows, b)
            g = g + momentum * b if group["nesterov"] else b
        return axpy(-group["lr"], g, x)
