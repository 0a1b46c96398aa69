"""Loss modules, as in PyTorch: each holds its constructor's arguments (``reduction``,
``weight``, …) and calls its ``cr.nn.functional`` function on ``(input, target)``.

The deprecated ``size_average`` and ``reduce`` arguments are read as PyTorch reads them
(with its warning) and turned into ``reduction``.

>>> import numpy as np, chainrule as cr
>>> loss = cr.nn.CrossEntropyLoss(label_smoothing=0.1)
>>> round(loss(cr.tensor([[0.0, 0.0]]), np.array([1])).item(), 4)        # log 2 either way
0.6931
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, TensorLike
from . import functional as F
from .functional_losses import legacy_reduction
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "NLLLoss",
    "SmoothL1Loss",
]

REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    """A loss: ``reduction`` checked when the module is made, so a typo fails there."""

    allowed: tuple[str, ...] = REDUCTIONS
    weight: Tensor | None  # a buffer, in the losses that take class or element weights

    def __init__(
        self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        name = type(self).__name__
        reduction = legacy_reduction(size_average, reduce, reduction, name)
        if reduction not in self.allowed:
            raise ValueError(f"{name}: reduction must be one of {self.allowed}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def _buffer(loss: Module, name: str, weight: TensorLike | None) -> None:
    """Register a class or element weight as a buffer, as PyTorch does (it is in the
    state dict); an array or list becomes a Tensor."""
    value = None if weight is None else weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
    loss.register_buffer(name, value)


class MSELoss(_Loss):
    """(input − target)², reduced."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input − target|, reduced."""

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices, from log-probabilities."""

    def __init__(
        self,
        weight: TensorLike | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        _buffer(self, "weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of scores against class indices or class probabilities."""

    def __init__(
        self,
        weight: TensorLike | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        F.check_label_smoothing(label_smoothing, "CrossEntropyLoss")
        _buffer(self, "weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1]."""

    def __init__(
        self,
        weight: TensorLike | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        _buffer(self, "weight", weight)

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of scores (logits), through a stable softplus."""

    pos_weight: Tensor | None

    def __init__(
        self,
        weight: TensorLike | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: TensorLike | None = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        _buffer(self, "weight", weight)
        _buffer(self, "pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor | np.ndarray) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class HuberLoss(_Loss):
    """½d² where |d| < delta, else delta (|d| − ½ delta)."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """½d²/beta where |d| < beta, else |d| − ½ beta (beta = 0: the L1 loss)."""

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(_Loss):
    """Pointwise KL divergence of log-probabilities ``input`` from ``target``; use
    ``reduction="batchmean"`` for the KL divergence per example."""

    allowed = (*REDUCTIONS, "batchmean")

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: TensorLike, target: TensorLike) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
