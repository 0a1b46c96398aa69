"""RMSprop, as PyTorch defines it.

With gradient g of parameter x, learning rate η, smoothing constant α:

    g ← g + λ x                          (weight_decay λ)
    v ← α v + (1 − α) g²                 (v starts at 0: a running mean of g²)
    a ← α a + (1 − α) g;  ṽ = v − a²     (centered: a running variance of g instead)
    ṽ = v                                (not centered)
    b ← μ b + g / (√ṽ + ε);  x ← x − η b (momentum μ > 0; b starts at 0)
    x ← x − η g / (√ṽ + ε)               (momentum 0)

Each coordinate's step is divided by the root of its recent mean square gradient,
so coordinates with large gradients take steps no larger than the others.

>>> import chainrule as cr
>>> x = cr.tensor([3.0, -0.01], dtype="float64", requires_grad=True)
>>> opt = cr.optim.RMSprop([x], lr=0.01, alpha=0.99)
>>> (x * x).sum().backward(); opt.step()      # v = 0.01 g², so each step is η/√0.01 = 0.1
>>> [round(v, 6) for v in x.tolist()]
[2.9, 0.09]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backends import namespace_of
from .optimizer import Group, Optimizer, Rows, check_fraction, check_nonnegative, read_rows, write_rows


class RMSprop(Optimizer):
    """``RMSprop(params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
    capturable=False, foreach=None, maximize=False, differentiable=False)`` (PyTorch's order;
    see :mod:`~chainrule.optim.optimizer` for the last four).

    A row-sparse gradient (a sparse embedding's) moves only the rows looked up and
    updates only their running averages: a row without gradient keeps its averages
    until its next gradient (the dense rule would decay them by α each step), as Adam
    keeps its moments here. PyTorch refuses sparse gradients in RMSprop altogether;
    chainrule takes them without momentum and weight decay, and refuses those two,
    under which the dense rule would move rows that have no gradient.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def check_settings(self, group: Group) -> None:
        check_nonnegative(
            "RMSprop",
            lr=group["lr"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
        )
        # PyTorch takes any α >= 0; with α > 1 the "mean" of g² turns negative and the step NaN.
        check_fraction("RMSprop", "alpha", group["alpha"], one=True)

    def sparse_refusal(self, group: Group) -> str | None:
        options = [f"{option}={group[option]}" for option in ("momentum", "weight_decay") if group[option]]
        if not options:
            return None
        return (
            f"RMSprop with {' and '.join(options)} would move every row, not only the rows "
            "looked up; use momentum=0 and weight_decay=0 for a sparse embedding, or sparse=False"
        )

    def prepare_state(self, state: dict[str, Any], data: np.ndarray, group: Group) -> None:
        if not state:
            state.update(step=0, square_avg=namespace_of(data).zeros_like(data))
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = namespace_of(data).zeros_like(data)
        if group["momentum"] and "momentum_buffer" not in state:
            state["momentum_buffer"] = namespace_of(data).zeros_like(data)

    def update(
        self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any], group: Group
    ) -> np.ndarray:
        alpha, momentum, weight_decay = group["alpha"], group["momentum"], group["weight_decay"]
        if weight_decay:
            g = g + weight_decay * x
        state["step"] += 1
        v = alpha * read_rows(state["square_avg"], rows) + (1 - alpha) * (g * g)
        write_rows(state["square_avg"], rows, v)
        if group["centered"]:
            a = alpha * read_rows(state["grad_avg"], rows) + (1 - alpha) * g
            write_rows(state["grad_avg"], rows, a)
            v = v - a * a
        denominator = namespace_of(v).sqrt(v) + group["eps"]
        if momentum:
            b = momentum * read_rows(state["momentum_buffer"], rows) + g / denominator
            write_rows(state["momentum_buffer"], rows, b)
            x -= group["lr"] * b
        else:
            x -= group["lr"] * (g / denominator)
        return x
