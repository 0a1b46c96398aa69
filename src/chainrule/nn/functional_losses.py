"""The regression and divergence losses of ``cr.nn.functional``, as PyTorch defines them,
each a composite of table ops (so differentiable to any order):

    l1_loss              |x − y|
    huber_loss           ½d² where |d| < δ, else δ(|d| − ½δ)          (d = x − y)
    smooth_l1_loss       ½d²/β where |d| < β, else |d| − ½β          (huber_loss / β)
    binary_cross_entropy −w [y log x + (1 − y) log(1 − x)], each log at least −100
    kl_div               y (log y − x)  (x holds log-probabilities; 0 where y = 0)

``reduction`` is "mean" (over every element), "sum" or "none"; kl_div also takes
"batchmean" (the sum divided by the batch size, the true KL divergence per example).
The legacy ``size_average`` / ``reduce`` arguments are read as PyTorch reads them.

>>> import chainrule as cr, chainrule.nn.functional as F
>>> F.l1_loss(cr.tensor([1.0, -3.0]), cr.tensor([0.0, 0.0])).item()
2.0
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backends
from ..functions import abs as _abs
from ..functions import clip, exp, log, where
from ..ops.losses import REDUCTIONS
from ..reading import shape_of
from ..tensor import Tensor, TensorLike, data_of

__all__ = ["binary_cross_entropy", "huber_loss", "kl_div", "l1_loss", "smooth_l1_loss"]

# log(x) is clamped to at least −100 in binary_cross_entropy, as PyTorch clamps it, so a
# prediction of exactly 0 or 1 gives a large finite loss rather than inf.
LOG_FLOOR = -100.0
TINY = math.exp(LOG_FLOOR)


def legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str, name: str) -> str:
    """``reduction`` as PyTorch derives it from the deprecated ``size_average``/``reduce``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        f"{name}: size_average and reduce args will be deprecated, please use reduction= instead",
        UserWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def reduce_losses(losses: Tensor, reduction: str, name: str) -> Tensor:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def check_target_size(name: str, input: TensorLike, target: TensorLike) -> None:
    """Warn, as PyTorch does, when a regression loss's target has another shape than its
    input: broadcasting (N, 1) outputs against (N,) targets compares every output with
    every target, a plausible number that is not the loss meant."""
    input_shape, target_shape = shape_of(input), shape_of(target)
    if input_shape != target_shape:
        warnings.warn(
            f"{name}: Using a target size {target_shape} that is different to the input size "
            f"{input_shape}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def weighted(
    losses: Tensor, weight: TensorLike | None, reduction: str, name: str, *, normalized: bool = True
) -> Tensor:
    """Elementwise losses times ``weight`` (of the input's shape), reduced; with
    ``normalized`` the "mean" is Σ w·ℓ / Σ w, as PyTorch's mse_loss and l1_loss take it."""
    if weight is None:
        return reduce_losses(losses, reduction, name)
    if shape_of(weight) != losses.shape:
        raise ValueError(
            f"{name}: weight has shape {shape_of(weight)}, but it must have the input's shape {losses.shape}"
        )
    losses = losses * weight
    if reduction == "mean" and normalized:
        total: Tensor = losses.sum()
        return total / (weight.sum() if isinstance(weight, Tensor) else float(np.sum(weight)))
    return reduce_losses(losses, reduction, name)


def l1_loss(
    input: TensorLike,
    target: TensorLike,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: TensorLike | None = None,
) -> Tensor:
    """|input − target|, averaged over all elements by default (slope sign(d), 0 at d = 0).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.l1_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0]), reduction="sum").item()
    4.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "l1_loss")
    check_target_size("l1_loss", input, target)
    return weighted(_abs(difference(input, target)), weight, reduction, "l1_loss")


def difference(input: TensorLike, target: TensorLike) -> Tensor:
    d = input - target if isinstance(input, Tensor) else -(target - input)  # type: ignore[operator]
    if not isinstance(d, Tensor):
        raise TypeError(f"a loss needs a Tensor input or target, got {type(input).__name__}")
    return d


def huber_loss(
    input: TensorLike,
    target: TensorLike,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: TensorLike | None = None,
) -> Tensor:
    """½d² where |d| < δ, else δ(|d| − ½δ), for d = input − target: quadratic near 0 and
    linear beyond δ, with a continuous slope (clip(d, −δ, δ)).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.huber_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    check_target_size("huber_loss", input, target)
    d = difference(input, target)
    size = _abs(d)
    losses = where(size < delta, 0.5 * d * d, delta * (size - 0.5 * delta))
    return weighted(losses, weight, reduction, "huber_loss", normalized=False)


def smooth_l1_loss(
    input: TensorLike,
    target: TensorLike,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """½d²/β where |d| < β, else |d| − ½β; β = 0 is the L1 loss.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.smooth_l1_loss(cr.tensor([0.5, 3.0]), cr.tensor([0.0, 0.0]), reduction="none").tolist()
    [0.125, 2.5]
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    check_target_size("smooth_l1_loss", input, target)
    d = difference(input, target)
    size = _abs(d)
    if beta == 0:
        return reduce_losses(size, reduction, "smooth_l1_loss")
    return reduce_losses(
        where(size < beta, (0.5 / beta) * d * d, size - 0.5 * beta), reduction, "smooth_l1_loss"
    )


def binary_cross_entropy(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """−w [y log x + (1 − y) log(1 − x)] for probabilities x in [0, 1], each log clamped
    to at least −100 as in PyTorch. Its gradient is w (x − y) / (x (1 − x)). ``target``
    must have the input's shape; an input outside [0, 1] raises ``ValueError``.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> round(F.binary_cross_entropy(cr.tensor([0.5]), cr.tensor([1.0])).item(), 4)     # log 2
    0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy")
    x = data_of(input)
    x = x if backends.is_array(x) else np.asarray(x)
    if x.shape != shape_of(target):
        raise ValueError(
            f"binary_cross_entropy: Using a target size {shape_of(target)} that is different "
            f"to the input size {x.shape} is not allowed; give them the same shape"
        )
    inside = backends.namespace_of(x).all((x >= 0) & (x <= 1))  # one boolean read from a device
    if x.size and not bool(backends.host(inside)):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 (probabilities); "
            "for scores (logits) use binary_cross_entropy_with_logits"
        )
    # log(max(x, e⁻¹⁰⁰)) is max(log x, −100), with no log(0) evaluated.
    log_x = log(clip(input, TINY, None))
    log_rest = log(clip(1 - input, TINY, None))  # type: ignore[operator]
    losses = -(target * log_x + (1 - target) * log_rest)  # type: ignore[operator]
    if weight is not None:
        losses = losses * weight
    return reduce_losses(losses, reduction, "binary_cross_entropy")


def kl_div(
    input: TensorLike,
    target: TensorLike,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL divergence pointwise, y (log y − x), with ``input`` x holding log-probabilities
    and ``target`` y probabilities (log-probabilities when ``log_target``: eʸ (y − x)).
    A target of 0 contributes 0, as in PyTorch. "batchmean" divides the sum by the
    size of the first axis (the KL divergence per example); "mean" divides by the number
    of elements, with PyTorch's warning that this is not the KL divergence.

    >>> import numpy as np, chainrule as cr, chainrule.nn.functional as F
    >>> p = cr.tensor([[0.5, 0.5]])
    >>> F.kl_div(cr.log(p), p, reduction="batchmean").item()
    0.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "kl_div")
    if reduction not in (*REDUCTIONS, "batchmean"):
        raise ValueError(f"kl_div: reduction must be one of {(*REDUCTIONS, 'batchmean')}, got {reduction!r}")
    if log_target:
        losses = exp(target) * (target - input)  # type: ignore[operator]
    else:
        positive = target > 0  # type: ignore[operator]
        safe = where(positive, target, 1.0)
        losses = where(positive, target * (log(safe) - input), 0.0 * input)  # type: ignore[operator]
    if reduction == "batchmean":
        batch = losses.shape[0] if losses.ndim else 1
        return losses.sum() / batch
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the support "
            "size; 'batchmean' divides only by the batch size and aligns with the KL math definition",
            UserWarning,
            stacklevel=2,
        )
    return reduce_losses(losses, reduction, "kl_div")
