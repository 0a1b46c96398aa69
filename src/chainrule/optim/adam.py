"""Adam and AdamW, as PyTorch defines them.

With gradient g of parameter x at step t, learning rate η, betas (β₁, β₂):

    g ← g + λ x                                  (Adam's weight_decay λ: an L2 term)
    x ← x (1 − η λ)                              (AdamW's weight_decay: decoupled)
    m ← β₁ m + (1 − β₁) g                        (m, v start at 0)
    v ← β₂ v + (1 − β₂) g²
    x ← x − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

The bias corrections 1 − βᵗ undo the pull of the zero start, so the first step
moves every coordinate by about η.

>>> import chainrule as cr
>>> x = cr.tensor([3.0, -0.01], dtype="float64", requires_grad=True)
>>> opt = cr.optim.Adam([x], lr=0.1)
>>> (x * x).sum().backward(); opt.step()
>>> [round(v, 4) for v in x.tolist()]           # each coordinate moves by ≈ η, against its sign
[2.9, 0.09]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, Rows, check_nonnegative


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)``.

    With a row-sparse gradient only the rows looked up move and only their moments
    are updated; the step count t is the parameter's number of steps.
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        name = type(self).__name__
        check_nonnegative(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if not all(0 <= b < 1 for b in betas) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay

    def initial_state(self, data: np.ndarray) -> dict[str, Any]:
        return {"step": 0, "exp_avg": np.zeros_like(data), "exp_avg_sq": np.zeros_like(data)}

    def update(self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay and self.decoupled:
            x *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            g = g + self.weight_decay * x
        beta1, beta2 = self.betas
        state["step"] += 1
        t = state["step"]
        m = beta1 * state["exp_avg"][rows] + (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"][rows] + (1 - beta2) * (g * g)
        state["exp_avg"][rows], state["exp_avg_sq"][rows] = m, v
        denominator = np.sqrt(v) / np.sqrt(1 - beta2**t) + self.eps
        x -= self.lr / (1 - beta1**t) * m / denominator
        return x


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)``: Adam with
    the weight decay applied to x directly (x ← x(1 − ηλ)), not added to the gradient."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
