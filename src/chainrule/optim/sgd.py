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

from ..tensor import Tensor
from .axpy import axpy
from .optimizer import Optimizer, Rows, check_nonnegative


class SGD(Optimizer):
    """``SGD(params, lr, momentum=0.0, weight_decay=0.0, nesterov=False)``.

    With a row-sparse gradient only the rows looked up move, and only their momentum
    decays (the other rows' momentum waits for their next gradient).
    """

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        check_nonnegative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay, self.nesterov = lr, momentum, weight_decay, nesterov

    def initial_state(self, data: np.ndarray) -> dict[str, Any]:
        return {"momentum_buffer": np.zeros_like(data)} if self.momentum else {}

    def update(self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * x
        if self.momentum:
            b = self.momentum * state["momentum_buffer"][rows] + g
            state["momentum_buffer"][rows] = b
            g = g + self.momentum * b if self.nesterov else b
        return axpy(-self.lr, g, x)
