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

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backends import namespace_of
from .optimizer import Group, Optimizer, Rows, check_nonnegative, read_rows, write_rows


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None)``
    (see :mod:`~chainrule.optim.optimizer` for the last five).

    With a row-sparse gradient only the rows looked up move and only their moments
    are updated; the step count t is the parameter's number of steps.
    """

    decoupled = False
    pytorch_only = {"amsgrad": False, "decoupled_weight_decay": False}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def check_settings(self, group: Group) -> None:
        name = type(self).__name__
        check_nonnegative(name, lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2 and all(0 <= b < 1 for b in betas)):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")

    def prepare_state(self, state: dict[str, Any], data: np.ndarray, group: Group) -> None:
        if not state:
            xp = namespace_of(data)
            state.update(step=0, exp_avg=xp.zeros_like(data), exp_avg_sq=xp.zeros_like(data))

    def update(
        self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any], group: Group
    ) -> np.ndarray:
        lr, weight_decay = group["lr"], group["weight_decay"]
        if weight_decay and self.decoupled:
            x *= 1 - lr * weight_decay
        elif weight_decay:
            g = g + weight_decay * x
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        m = beta1 * read_rows(state["exp_avg"], rows) + (1 - beta1) * g
        v = beta2 * read_rows(state["exp_avg_sq"], rows) + (1 - beta2) * (g * g)
        write_rows(state["exp_avg"], rows, m)
        write_rows(state["exp_avg_sq"], rows, v)
        denominator = namespace_of(v).sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        x -= lr / (1 - beta1**t) * m / denominator
        return x


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, *,
    maximize=False, foreach=None, capturable=False, differentiable=False, fused=None)``: Adam
    with the weight decay applied to x directly (x ← x(1 − ηλ)), not added to the gradient."""

    decoupled = True
    pytorch_only = {"amsgrad": False, "decoupled_weight_decay": True}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
        )
