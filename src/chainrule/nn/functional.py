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

import warnings

import numpy as np

from ..creation import Seed
from ..functions import matmul, relu, sigmoid, softplus, tanh, transpose
from ..functions import sum as _sum
from ..ops import OPS
from ..ops.losses import REDUCTIONS
from ..tensor import Tensor, TensorLike, apply, as_array, data_of

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


def log_softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """log softmax(x) = x − logsumexp(x), one stable table op: finite for any finite x.

    Its gradient is g − softmax(x) · Σ g along ``axis``.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.log_softmax(cr.tensor([1000.0, 1000.0])).tolist()        # log ½ each
    [-0.6931471824645996, -0.6931471824645996]
    """
    return apply(OPS["log_softmax"], x, axis=axis)


def softmax(x: TensorLike, axis: int = -1) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ), as exp(log_softmax(x)).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.softmax(cr.tensor([0.0, 0.0, 0.0, 0.0])).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    return log_softmax(x, axis).exp()


def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """x Wᵀ + b, with W of shape (out, in) and b of shape (out,), as in PyTorch.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.linear(cr.tensor([[1.0, 2.0]]), cr.tensor([[1.0, 1.0], [0.0, 3.0]]), cr.tensor([0.5, 0.0]))
    tensor([[3.5, 6. ]])
    """
    if bias is not None and np.ndim(weight) == 2 and np.ndim(bias) == 1:
        return apply(OPS["affine"], x, weight, bias)  # the usual layer: one table op
    out = matmul(x, transpose(weight))
    return out if bias is None else out + bias


def embedding(indices: TensorLike, weight: TensorLike, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at integer ``indices``: out[k…] = weight[indices[k…]].

    The output has shape ``indices.shape + weight.shape[1:]``. The gradient adds each
    output row's gradient into its row of ``weight`` (rows used twice get both), and
    is zero on every other row; with ``sparse=True`` it is a row-sparse gradient that
    stores only the rows used (:class:`chainrule.sparse.RowSparse`). Every index must be
    in [0, rows): a negative one raises ``IndexError`` as one past the end does, instead
    of picking a row from the end the way NumPy would.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> E = cr.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], requires_grad=True)
    >>> F.embedding([2, 0, 2], E, sparse=True).sum().backward()
    >>> E.grad.indices.tolist(), E.grad.values.tolist()
    ([0, 2], [[1.0, 1.0], [2.0, 2.0]])
    """
    indices = np.asarray(data_of(indices))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    _check_rows(indices, np.shape(data_of(weight)))
    if sparse:
        return apply(OPS["gather_rows"], weight, rows=indices)
    return apply(OPS["getitem"], weight, index=indices)


def _check_rows(indices: np.ndarray, shape: tuple[int, ...]) -> None:
    """An IndexError naming the first index outside [0, rows) of a weight of ``shape``."""
    if not shape:
        raise ValueError("embedding: weight must have a row axis, got a 0-d tensor")
    rows = shape[0]
    # One pass over the indices: read as unsigned, a negative index exceeds any row count.
    if indices.size and indices.view(indices.dtype.str.replace("i", "u")).max() >= rows:
        bad = indices[(indices < 0) | (indices >= rows)].flat[0]
        raise IndexError(
            f"embedding: index {bad} is out of range for a weight of {rows} rows "
            f"(shape {shape}); indices must be in [0, {rows})"
        )


def dropout(x: Tensor, p: float = 0.5, training: bool = True, *, seed: Seed = None) -> Tensor:
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
    keep: np.ndarray = np.random.default_rng(seed).random(np.shape(data_of(x))) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    return x * (keep * scale).astype(x.dtype)


def _reduce(losses: Tensor, reduction: str, name: str) -> Tensor:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def _check_target_size(name: str, input: TensorLike, target: TensorLike) -> None:
    """Warn, as PyTorch does, when a regression loss's target has another shape than its
    input: broadcasting (N, 1) outputs against (N,) targets compares every output with
    every target, a plausible number that is not the loss meant."""
    input_shape, target_shape = np.shape(data_of(input)), np.shape(data_of(target))
    if input_shape != target_shape:
        warnings.warn(
            f"{name}: Using a target size {target_shape} that is different to the input size "
            f"{input_shape}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _class_axis(x: TensorLike) -> int:
    return 1 if np.ndim(data_of(x)) >= 2 else 0


def _probability_coefficients(
    x: TensorLike, target: TensorLike, weight: TensorLike | None
) -> Tensor | np.ndarray:
    """For class-probability targets p: the coefficients c = weight ⊙ p of −Σ_c c_c log ŷ_c."""
    xd = as_array(x, what="cross_entropy")
    axis = _class_axis(xd)
    classes: int = xd.shape[axis]
    if np.shape(data_of(target)) != xd.shape:
        raise ValueError(
            f"cross_entropy: probability targets of shape {np.shape(data_of(target))} "
            f"must have the logits' shape {xd.shape}"
        )
    target = target if isinstance(target, Tensor) else np.asarray(target, dtype=xd.dtype)
    if weight is None:
        return target
    w: np.ndarray = np.asarray(data_of(weight), dtype=xd.dtype)
    if w.shape != (classes,):
        raise ValueError(
            f"cross_entropy: weight has shape {w.shape}, expected ({classes},) for logits of shape {xd.shape}"
        )
    return target * w.reshape((classes,) + (1,) * (xd.ndim - axis - 1))


def nll_loss(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of the target classes: ℓᵢ = −w[yᵢ] · input[i, yᵢ].

    ``input`` holds log-probabilities with classes on axis 1 (``(N, C, ...)``) or axis 0
    (``(C,)``); ``target`` holds class indices. "mean" divides by the summed weights of
    the examples counted (those whose target is not ``ignore_index``), as PyTorch does.
    One table op (``nll``, linear in ``input``).

    >>> import numpy as np, chainrule as cr, chainrule.nn.functional as F
    >>> F.nll_loss(cr.tensor([[-1.0, -2.0], [-3.0, -0.5]]), np.array([1, 1])).item()    # (2 + 0.5) / 2
    1.25
    """
    return apply(
        OPS["nll"],
        input,
        target=data_of(target),
        weight=data_of(weight),
        ignore_index=ignore_index,
        reduction=reduction,
    )


def cross_entropy(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Softmax cross-entropy: ℓ = −Σ_c c_c log softmax(input)_c per example.

    ``target`` holds class indices (shape of ``input`` without the class axis) or class
    probabilities (the shape of ``input``). ``weight`` (C,) scales each class; examples
    whose target is ``ignore_index`` count for nothing. "mean" divides by the summed
    weights of the counted examples (by N for probabilities), as PyTorch does, so for
    plain labels ∂ℓ/∂input = (ŷ − y)/N. With class indices it is
    ``nll_loss(log_softmax(input))``: two table ops.

    >>> import numpy as np, chainrule as cr, chainrule.nn.functional as F
    >>> round(F.cross_entropy(cr.tensor([[0.0, 0.0]]), np.array([1])).item(), 4)     # log 2
    0.6931
    """
    axis = _class_axis(input)
    if np.asarray(data_of(target)).dtype.kind != "f":
        return apply(
            OPS["nll"],
            log_softmax(input, axis),
            target=data_of(target),
            weight=data_of(weight),
            ignore_index=ignore_index,
            reduction=reduction,
            name="cross_entropy",
        )
    losses = -_sum(_probability_coefficients(input, target, weight) * log_softmax(input, axis), axis=axis)
    if reduction == "mean":
        examples: int = np.size(data_of(input)) // np.shape(data_of(input))[axis]
        return losses.sum() / examples
    return _reduce(losses, reduction, "cross_entropy")


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor | np.ndarray,
    weight: TensorLike | None = None,
    *,
    reduction: str = "mean",
    pos_weight: TensorLike | None = None,
) -> Tensor:
    """ℓ = −w [p · y log σ(x) + (1 − y) log(1 − σ(x))] with σ the sigmoid, computed as
    w [p · y · softplus(−x) + (1 − y) · softplus(x)] (finite for any x); p is
    ``pos_weight`` (1 by default). Its gradient is w (σ(x) − y) when p = 1. ``target``
    must have the shape of ``input`` (``ValueError`` otherwise, as in PyTorch).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
    0.6931
    """
    input_shape, target_shape = np.shape(data_of(input)), np.shape(data_of(target))
    if input_shape != target_shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: Target size {target_shape} must be the same "
            f"as input size {input_shape}"
        )
    positive = softplus(-input) * target
    if pos_weight is not None:
        positive = positive * pos_weight
    losses = positive + softplus(input) * (1 - target)
    if weight is not None:
        losses = losses * weight
    return _reduce(losses, reduction, "binary_cross_entropy_with_logits")


def mse_loss(input: Tensor, target: TensorLike, *, reduction: str = "mean") -> Tensor:
    """(input − target)², averaged over all elements by default.

    A ``target`` of another shape than ``input`` is broadcast against it, with PyTorch's
    ``UserWarning``: (N, 1) outputs against (N,) targets make an (N, N) loss.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])).item()
    5.0
    """
    _check_target_size("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")
