"""Layers and losses as functions, built from table ops (so every one is differentiable,
to any order): ``import chainrule.nn.functional as F``.

Classes sit on axis 1 of a batch (``(N, C)`` logits, as in PyTorch), or on axis 0 of a
single example of shape ``(C,)``.

>>> import numpy as np, chainrule as cr
>>> import chainrule.nn.functional as F
>>> z = cr.tensor([[1.0, 2.0, 0.5]], dtype="float64", requires_grad=True)
>>> F.cross_entropy(z, np.array([1])).backward()
>>> np.round(z.grad.numpy() - F.softmax(z).numpy(), 6).tolist()        # ŷ − y
[[0.0, -1.0, 0.0]]
"""

from __future__ import annotations

import numpy as np

from ..functions import matmul, relu, sigmoid, softplus, tanh, transpose
from ..functions import sum as _sum
from ..ops import OPS
from ..tensor import Tensor, apply, data_of

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "dropout", "embedding", "linear",
           "log_softmax", "mse_loss", "relu", "sigmoid", "softmax", "tanh"]

REDUCTIONS = ("mean", "sum", "none")


def log_softmax(x, axis: int = -1) -> Tensor:
    """log softmax(x) = x − logsumexp(x), one stable table op: finite for any finite x.

    Its gradient is g − softmax(x) · Σ g along ``axis``.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.log_softmax(cr.tensor([1000.0, 1000.0])).tolist()        # log ½ each
    [-0.6931471824645996, -0.6931471824645996]
    """
    return apply(OPS["log_softmax"], x, axis=axis)


def softmax(x, axis: int = -1) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ), as exp(log_softmax(x)).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.softmax(cr.tensor([0.0, 0.0, 0.0, 0.0])).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    return log_softmax(x, axis).exp()


def linear(x, weight, bias=None) -> Tensor:
    """x Wᵀ + b, with W of shape (out, in) and b of shape (out,), as in PyTorch.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.linear(cr.tensor([[1.0, 2.0]]), cr.tensor([[1.0, 1.0], [0.0, 3.0]]), cr.tensor([0.5, 0.0]))
    tensor([[3.5, 6. ]])
    """
    out = matmul(x, transpose(weight))
    return out if bias is None else out + bias


def embedding(indices, weight, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at integer ``indices``: out[k…] = weight[indices[k…]].

    The output has shape ``indices.shape + weight.shape[1:]``. The gradient adds each
    output row's gradient into its row of ``weight`` (rows used twice get both), and
    is zero on every other row; with ``sparse=True`` it is a row-sparse gradient that
    stores only the rows used (:class:`chainrule.sparse.RowSparse`).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> E = cr.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], requires_grad=True)
    >>> F.embedding([2, 0, 2], E, sparse=True).sum().backward()
    >>> E.grad.indices.tolist(), E.grad.values.tolist()
    ([0, 2], [[1.0, 1.0], [2.0, 2.0]])
    """
    indices = np.asarray(data_of(indices))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    if sparse:
        return apply(OPS["gather_rows"], weight, rows=indices)
    return apply(OPS["getitem"], weight, index=indices)


def dropout(x, p: float = 0.5, training: bool = True, *, seed=None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 − p) (so the
    expectation is x); the identity when ``training`` is False. ``seed``: an int or a
    ``numpy.random.Generator``.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> y = F.dropout(cr.ones(1000), p=0.25, seed=0)
    >>> sorted(set(y.tolist())), round(y.mean().item(), 1)
    ([0.0, 1.3333333730697632], 1.0)
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be between 0 and 1, got {p}")
    if not training or p == 0:
        return x
    keep = np.random.default_rng(seed).random(np.shape(data_of(x))) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    return x * (keep * scale).astype(data_of(x).dtype)


def _reduce(losses: Tensor, reduction: str, name: str) -> Tensor:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def _class_axis(x) -> int:
    return 1 if np.ndim(data_of(x)) >= 2 else 0


def _class_coefficients(x, target, weight, ignore_index):
    """Per-element coefficients c (shaped like the logits) and the mean's denominator.

    The loss of one example is −Σ_c c_c · log softmax(x)_c: for a class index y,
    c = weight[y] · one_hot(y) (zero when y is ``ignore_index``); for class
    probabilities, c = weight ⊙ target.
    """
    xd = data_of(x)
    axis = _class_axis(xd)
    classes = xd.shape[axis]
    w = np.ones(classes, dtype=xd.dtype) if weight is None else np.asarray(data_of(weight), dtype=xd.dtype)
    if w.shape != (classes,):
        raise ValueError(f"cross_entropy: weight has shape {w.shape}, expected ({classes},) for "
                         f"logits of shape {xd.shape}")
    w = w.reshape((classes,) + (1,) * (xd.ndim - axis - 1))
    if np.asarray(data_of(target)).dtype.kind == "f":
        if np.shape(data_of(target)) != xd.shape:
            raise ValueError(f"cross_entropy: probability targets of shape {np.shape(data_of(target))} "
                             f"must have the logits' shape {xd.shape}")
        target = target if isinstance(target, Tensor) else np.asarray(target, dtype=xd.dtype)
        return target * w, xd.size // classes
    t = np.asarray(data_of(target))
    expected = xd.shape[:axis] + xd.shape[axis + 1:]
    if t.dtype.kind not in "iu" or t.shape != expected:
        raise ValueError(f"cross_entropy: class-index targets must be integers of shape {expected} "
                         f"for logits of shape {xd.shape}, got {t.dtype} of shape {t.shape}")
    valid = t != ignore_index
    if np.any((t[valid] < 0) | (t[valid] >= classes)):
        raise IndexError(f"cross_entropy: a target is outside the {classes} classes [0, {classes})")
    hit = np.moveaxis((t[..., None] == np.arange(classes)) & valid[..., None], -1, axis)
    coefficients = hit * w
    return coefficients, coefficients.sum()


def cross_entropy(input, target, weight=None, *, ignore_index: int = -100,
                  reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy: ℓ = −Σ_c c_c log softmax(input)_c per example.

    ``target`` holds class indices (shape of ``input`` without the class axis) or class
    probabilities (the shape of ``input``). ``weight`` (C,) scales each class; examples
    whose target is ``ignore_index`` count for nothing. "mean" divides by the summed
    weights of the counted examples (by N for probabilities), as PyTorch does, so for
    plain labels ∂ℓ/∂input = (ŷ − y)/N.

    >>> import numpy as np, chainrule as cr, chainrule.nn.functional as F
    >>> round(F.cross_entropy(cr.tensor([[0.0, 0.0]]), np.array([1])).item(), 4)     # log 2
    0.6931
    """
    coefficients, count = _class_coefficients(input, target, weight, ignore_index)
    axis = _class_axis(input)
    losses = -_sum(coefficients * log_softmax(input, axis), axis=axis)
    if reduction == "mean":
        return losses.sum() / count
    return _reduce(losses, reduction, "cross_entropy")


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """ℓ = −w [p · y log σ(x) + (1 − y) log(1 − σ(x))] with σ the sigmoid, computed as
    w [p · y · softplus(−x) + (1 − y) · softplus(x)] (finite for any x); p is
    ``pos_weight`` (1 by default). Its gradient is w (σ(x) − y) when p = 1.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
    0.6931
    """
    positive = softplus(-input) * target
    if pos_weight is not None:
        positive = positive * pos_weight
    losses = positive + softplus(input) * (1 - target)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


def mse_loss(input, target, *, reduction: str = "mean") -> Tensor:
    """(input − target)², averaged over all elements by default.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])).item()
    5.0
    """
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")
