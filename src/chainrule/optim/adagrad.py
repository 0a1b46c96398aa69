"""Adagrad, as PyTorch defines it.

With gradient g of parameter x at step t (the parameter's t-th step), learning rate
η, learning-rate decay δ:

    g ← g + λ x                          (weight_decay λ)
    s ← s + g²                           (s starts at initial_accumulator_value)
    x ← x − η / (1 + (t − 1) δ) · g / (√s + ε)

s only grows, so a coordinate that has seen large gradients takes ever smaller steps.

>>> import chainrule as cr
>>> x = cr.tensor([3.0, -0.01], dtype="float64", requires_grad=True)
>>> opt = cr.optim.Adagrad([x], lr=0.1)
>>> (x * x).sum().backward(); opt.step()      # s = g², so the first step is η · sign(g)
>>> [round(v, 6) for v in x.tolist()]
[2.9, 0.09]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..backends import namespace_of
from .optimizer import Group, Optimizer, Rows, check_nonnegative, read_rows, write_rows


class Adagrad(Optimizer):
    """``Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
    foreach=None, *, maximize=False, differentiable=False, fused=None)`` (PyTorch's order; see
    :mod:`~chainrule.optim.optimizer` for the last four).

    A row-sparse gradient (a sparse embedding's) moves the rows looked up and adds to
    their sums only; the dense rule leaves the other rows as they are too (their g is
    0), so the two agree, as in PyTorch. The step count t counts every step the
    parameter had a gradient. Weight decay is refused with a sparse gradient, as in
    PyTorch: it would move every row.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def check_settings(self, group: Group) -> None:
        check_nonnegative(
            "Adagrad",
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            initial_accumulator_value=group["initial_accumulator_value"],
            eps=group["eps"],
        )

    def sparse_refusal(self, group: Group) -> str | None:
        if not group["weight_decay"]:
            return None
        return (
            f"Adagrad with weight_decay={group['weight_decay']} would move every row, not only the "
            "rows looked up (PyTorch refuses it too); use weight_decay=0 for a sparse embedding, "
            "or sparse=False"
        )

    def prepare_state(self, state: dict[str, Any], data: np.ndarray, group: Group) -> None:
        if not state:
            state.update(step=0, sum=namespace_of(data).full_like(data, group["initial_accumulator_value"]))

    def update(
        self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any], group: Group
    ) -> np.ndarray:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * x
        state["step"] += 1
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        s = read_rows(state["sum"], rows) + g * g
        write_rows(state["sum"], rows, s)
        x -= lr * (g / (namespace_of(s).sqrt(s) + group["eps"]))
        return x
