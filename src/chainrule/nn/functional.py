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

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import backends, dtypes
from ..creation import Seed, generator
from ..function import Function, FunctionCtx
from ..functions import astype, concatenate, matmul, relu, reshape, sigmoid, tanh, transpose, where
from ..functions import softplus as _softplus
from ..mode import is_grad_enabled, no_grad
from ..ops import OPS
from ..reading import dtype_of, parameter_of, shape_of
from ..reductions import sum as _sum
from ..tensor import Tensor, TensorLike, apply, as_array, data_of
from .functional_losses import (
    binary_cross_entropy,
    check_target_size,
    difference,
    huber_loss,
    kl_div,
    l1_loss,
    legacy_reduction,
    reduce_losses,
    smooth_l1_loss,
    weighted,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "flatten",
    "gelu",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]


def _softmax_axis(name: str, axis: int | None, dim: int | None) -> int:
    if dim is not None and axis is not None and axis != -1 and axis != dim:
        raise TypeError(f"{name}: give axis= or dim= (the same thing), not both ({axis} and {dim})")
    chosen = dim if dim is not None else axis
    return -1 if chosen is None else chosen


def log_softmax(
    x: TensorLike,
    axis: int | None = -1,
    *,
    dim: int | None = None,
    dtype: npt.DTypeLike | None = None,
) -> Tensor:
    """log softmax(x) = x − logsumexp(x), one stable table op: finite for any finite x.

    Its gradient is g − softmax(x) · Σ g along ``axis`` (PyTorch's ``dim=`` is the same;
    ``dtype`` converts x first). Without an axis it is the last one (PyTorch guesses an
    axis from the number of dimensions, with a warning; chainrule does not guess).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.log_softmax(cr.tensor([1000.0, 1000.0])).tolist()        # log ½ each
    [-0.6931471824645996, -0.6931471824645996]
    """
    if dtype is not None:
        x = astype(x, dtype)
    return apply(OPS["log_softmax"], x, axis=_softmax_axis("log_softmax", axis, dim))


def softmax(
    x: TensorLike,
    axis: int | None = -1,
    *,
    dim: int | None = None,
    dtype: npt.DTypeLike | None = None,
) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ), as exp(log_softmax(x)); ``dim=`` is ``axis``.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.softmax(cr.tensor([0.0, 0.0, 0.0, 0.0])).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    return log_softmax(x, axis, dim=dim, dtype=dtype).exp()


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


def embedding(
    input: TensorLike,  # noqa: A002 - PyTorch's name
    weight: TensorLike,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` at integer indices ``input``: out[k…] = weight[input[k…]].

    The output has shape ``input.shape + weight.shape[1:]``. The gradient adds each
    output row's gradient into its row of ``weight`` (rows used twice get both), and
    is zero on every other row; with ``sparse=True`` it is a row-sparse gradient that
    stores only the rows used (:class:`chainrule.sparse.RowSparse`). Every index must be
    in [0, rows): a negative one raises ``IndexError`` as one past the end does, instead
    of picking a row from the end the way NumPy would.

    As in PyTorch: the row ``padding_idx`` (negative counts from the end) gets no
    gradient (a sparse gradient leaves it out); ``max_norm`` first rescales, in place
    and without recording, each looked-up row of ``weight`` whose ``norm_type``-norm
    exceeds it to norm ``max_norm`` (a 2-D ``weight``); ``scale_grad_by_freq`` divides
    each row's gradient by how often its index occurs in ``input`` (dense only).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> E = cr.tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], requires_grad=True)
    >>> F.embedding([2, 0, 2], E, sparse=True).sum().backward()
    >>> E.grad.indices.tolist(), E.grad.values.tolist()
    ([0, 2], [[1.0, 1.0], [2.0, 2.0]])
    """
    given = data_of(input)
    indices = backends.host(given)  # one copy from a device: the checks and options read the values
    placed = given if backends.is_array(given) else indices  # what the lookup takes: where it was given
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    shape = shape_of(weight)
    _check_rows(indices, shape)
    pad = padding_row(padding_idx, shape[0])
    if max_norm is not None:
        if not isinstance(weight, Tensor):
            weight = np.asarray(weight)
        _renorm_rows(weight, indices, max_norm, norm_type)
    wants_grad = isinstance(weight, Tensor) and weight.requires_grad and is_grad_enabled()
    if sparse and scale_grad_by_freq and wants_grad:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    if not wants_grad or (pad is None and not scale_grad_by_freq):
        if sparse:
            return apply(OPS["gather_rows"], weight, rows=placed)
        return apply(OPS["getitem"], weight, index=placed)
    if sparse and pad is not None:  # gather the other rows only: the row-sparse gradient leaves it out
        keep = indices != pad
        if keep.all():
            return apply(OPS["gather_rows"], weight, rows=placed)
        kept = indices[keep]
        part = apply(OPS["gather_rows"], weight, rows=kept)
        padding = data_of(weight)[pad : pad + 1, ...]
        both = concatenate([part, padding])
        at = np.full(indices.shape, kept.size, dtype=np.intp)
        at[keep] = np.arange(kept.size)
        return apply(OPS["getitem"], both, index=at)
    row_shape = indices.shape + (1,) * (len(shape) - 1)
    mask = np.ones(indices.shape, dtype=backends.numpy_dtype(data_of(weight).dtype))
    if pad is not None:
        mask[indices == pad] = 0
    factor = mask
    if scale_grad_by_freq:
        _, inverse, counts = np.unique(indices, return_inverse=True, return_counts=True)
        factor = mask * (1.0 / counts)[inverse.reshape(indices.shape)].astype(mask.dtype)
    out = apply(OPS["getitem"], weight, index=placed)
    device = backends.device_of(data_of(weight))
    scaled = _ScaleGradient.apply(
        out, backends.move(factor.reshape(row_shape), device), backends.move(mask.reshape(row_shape), device)
    )
    assert isinstance(scaled, Tensor)
    return scaled


class _ScaleGradient(Function):
    """The identity, whose backward multiplies the gradient by ``factor`` (an array). As
    PyTorch's double backward of an embedding, a second-order pass through that product
    applies only the padding mask ``mask``, not the frequency scaling."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, factor: np.ndarray, mask: np.ndarray) -> Tensor:
        ctx.factor, ctx.mask = factor, mask  # type: ignore[attr-defined]
        return x

    @staticmethod
    def backward(ctx: FunctionCtx, g: Any) -> Any:
        factor, mask = ctx.factor, ctx.mask  # type: ignore[attr-defined]
        return (_Scaled.apply(g, factor, mask) if isinstance(g, Tensor) else g * factor), None, None

    @staticmethod
    def jvp(ctx: FunctionCtx, t: Any, _factor: Any, _mask: Any) -> Any:
        return t


class _Scaled(Function):
    """g · factor, whose backward multiplies by ``mask`` (see :class:`_ScaleGradient`)."""

    @staticmethod
    def forward(ctx: FunctionCtx, g: Tensor, factor: np.ndarray, mask: np.ndarray) -> Tensor:
        ctx.factor, ctx.mask = factor, mask  # type: ignore[attr-defined]
        return g * factor

    @staticmethod
    def backward(ctx: FunctionCtx, gg: Any) -> Any:
        return gg * ctx.mask, None, None  # type: ignore[attr-defined]

    @staticmethod
    def jvp(ctx: FunctionCtx, t: Any, _factor: Any, _mask: Any) -> Any:
        return t * ctx.factor  # type: ignore[attr-defined]


def padding_row(padding_idx: int | None, rows: int) -> int | None:
    """``padding_idx`` as a row number in [0, rows), checked as PyTorch checks it."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(
            f"embedding: padding_idx must be an int row number, got {padding_idx!r} "
            "(sparse is a keyword argument: Embedding(n, d, sparse=True))"
        )
    if not -rows <= padding_idx < rows:
        raise ValueError(
            f"embedding: padding_idx {padding_idx} must be within num_embeddings "
            f"(in [{-rows}, {rows}) for {rows} rows)"
        )
    return int(padding_idx) % rows


def _renorm_rows(weight: Tensor | np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale each row of ``weight`` at ``indices`` whose ``norm_type``-norm exceeds
    ``max_norm`` by max_norm / (norm + 1e-7), in place and unrecorded (PyTorch's
    ``embedding_renorm_``: one in-place change, so the weight's version goes up by one).

    On another array library the looked-up rows are copied to the host for their norms,
    and, as the array API has no assignment at an integer array, every row is multiplied
    by its scale there (1, exactly, for the rows left as they are)."""
    data = data_of(weight)
    if data.ndim != 2:
        raise ValueError(f"embedding: max_norm needs a 2-D weight, got shape {data.shape}")
    rows = np.unique(indices)
    on_numpy = type(data) is np.ndarray
    device = backends.device_of(data)
    if on_numpy:
        picked = data[rows]
    else:
        picked = backends.host(backends.namespace_of(data).take(data, backends.move(rows, device), axis=0))
    dtype = backends.numpy_dtype(data.dtype)
    norms = np.linalg.norm(picked, ord=norm_type, axis=1).astype(np.float64)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(dtype)
    if on_numpy:
        where: Any = rows
        renormed = picked * scale[:, None]
    else:
        every = np.ones((data.shape[0], 1), dtype=dtype)
        every[rows, 0] = scale
        where, renormed = ..., data * backends.move(every, device)
    if isinstance(weight, Tensor):
        with no_grad():
            weight[where] = renormed
    else:
        weight[where] = renormed


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


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False, *, seed: Seed = None
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 − p) (so the
    expectation is x); the identity when ``training`` is False. ``seed``: an int or a
    ``numpy.random.Generator``.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> y = F.dropout(cr.ones(1000), p=0.25, seed=0)
    >>> sorted(set(y.tolist())), round(y.mean().item(), 1)
    ([0.0, 1.3333333730697632], 1.0)

    ``inplace=True`` is accepted for PyTorch code and computes the same values out of
    place: the result is returned, ``x`` is left as it was.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be between 0 and 1, got {p}")
    if not training or p == 0:
        return x
    keep: np.ndarray = generator(seed).random(shape_of(x)) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    mask = (keep * scale).astype(dtypes.numpy_dtype(dtype_of(x)))
    out: Tensor = x * (backends.move(mask, x.device) if isinstance(x, Tensor) else mask)
    return out


def _class_axis(x: TensorLike) -> int:
    return 1 if len(shape_of(x)) >= 2 else 0


def _constant_weight(weight: TensorLike | None, name: str) -> None:
    """Class weights with class-index targets are constants (as in PyTorch): one that requires
    grad is refused rather than silently given no gradient."""
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise RuntimeError(
            f"{name}: the class weights are not differentiable with class-index targets (as in "
            "PyTorch); pass weight.detach(), or give the targets as class probabilities"
        )


def _probability_coefficients(
    x: TensorLike, target: TensorLike, weight: TensorLike | None
) -> Tensor | np.ndarray:
    """For class-probability targets p: the coefficients c = weight ⊙ p of −Σ_c c_c log ŷ_c."""
    xd = as_array(x, what="cross_entropy")
    axis = _class_axis(xd)
    classes: int = xd.shape[axis]
    if shape_of(target) != xd.shape:
        raise ValueError(
            f"cross_entropy: probability targets of shape {shape_of(target)} "
            f"must have the logits' shape {xd.shape}"
        )
    target = target if isinstance(target, Tensor) else np.asarray(target, dtype=xd.dtype)
    if weight is None:
        return target
    w = weight if isinstance(weight, Tensor) else np.asarray(weight, dtype=xd.dtype)  # a Tensor: on the graph
    if tuple(w.shape) != (classes,):
        raise ValueError(
            f"cross_entropy: weight has shape {tuple(w.shape)}, expected ({classes},) "
            f"for logits of shape {xd.shape}"
        )
    return target * w.reshape((classes,) + (1,) * (xd.ndim - axis - 1))


def nll_loss(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
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
    _constant_weight(weight, "nll_loss")
    return apply(
        OPS["nll"],
        input,
        target=parameter_of(target),
        weight=data_of(weight),
        ignore_index=ignore_index,
        reduction=legacy_reduction(size_average, reduce, reduction, "nll_loss"),
    )


def check_label_smoothing(label_smoothing: float, what: str) -> None:
    """A ValueError naming ``what`` unless 0 ≤ label_smoothing ≤ 1."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{what}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")


def cross_entropy(
    input: TensorLike,
    target: TensorLike,
    weight: TensorLike | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy: ℓ = −Σ_c c_c log softmax(input)_c per example.

    ``target`` holds class indices (shape of ``input`` without the class axis) or class
    probabilities (the shape of ``input``). ``weight`` (C,) scales each class; examples
    whose target is ``ignore_index`` count for nothing. "mean" divides by the summed
    weights of the counted examples (by N for probabilities), as PyTorch does, so for
    plain labels ∂ℓ/∂input = (ŷ − y)/N. With class indices it is
    ``nll_loss(log_softmax(input))``: two table ops.

    ``label_smoothing`` ε mixes the target with the uniform distribution over the C
    classes, as PyTorch does: (1 − ε) times the loss above plus ε/C times the loss
    against every class (weighted, ignored examples left out, the same "mean").

    >>> import numpy as np, chainrule as cr, chainrule.nn.functional as F
    >>> round(F.cross_entropy(cr.tensor([[0.0, 0.0]]), np.array([1])).item(), 4)     # log 2
    0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "cross_entropy")
    check_label_smoothing(label_smoothing, "cross_entropy")
    axis = _class_axis(input)
    log_p = log_softmax(input, axis)
    if dtypes.kind(dtype_of(target)) != "f":
        _constant_weight(weight, "cross_entropy")
        loss = apply(
            OPS["nll"],
            log_p,
            target=parameter_of(target),
            weight=data_of(weight),
            ignore_index=ignore_index,
            reduction=reduction,
            name="cross_entropy",
        )
        if label_smoothing == 0:
            return loss
        smooth = _uniform_target_loss(log_p, axis, target, weight, ignore_index, reduction)
        return (1 - label_smoothing) * loss + (label_smoothing / log_p.shape[axis]) * smooth
    if reduction not in ("mean", "sum", "none"):
        reduce_losses(log_p, reduction, "cross_entropy")  # the error naming the choices
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / log_p.shape[axis]  # type: ignore[operator]
    losses = -_sum(_probability_coefficients(input, target, weight) * log_p, axis=axis)
    if reduction == "mean":
        examples: int = math.prod(shape_of(input)) // shape_of(input)[axis]
        return losses.sum() / examples
    return reduce_losses(losses, reduction, "cross_entropy")


def _uniform_target_loss(
    log_p: Tensor, axis: int, target: TensorLike, weight: TensorLike | None, ignore_index: int, reduction: str
) -> Tensor:
    """−Σ_c w_c log p_c per example (0 for an ignored one), reduced as nll reduces: the
    loss against the uniform target that label smoothing mixes in."""
    classes = log_p.shape[axis]
    dtype, device = backends.numpy_dtype(log_p.dtype), backends.device_of(log_p._data)
    labels = backends.host(data_of(target))  # which examples count, and their weights: read on the host
    counted = labels != ignore_index
    if weight is None:
        per_example = -_sum(log_p, axis=axis)
        total_weight = float(np.sum(counted))
    else:
        w = np.asarray(backends.host(data_of(weight)), dtype=dtype)
        w_by_class = backends.move(w.reshape((classes,) + (1,) * (log_p.ndim - axis - 1)), device)
        per_example = -_sum(log_p * w_by_class, axis=axis)
        total_weight = float(np.sum(w[labels[counted]]))
    kept: Tensor = per_example * backends.move(counted.astype(dtype), device)
    if reduction == "none":
        return kept
    total: Tensor = kept.sum()
    return total / total_weight if reduction == "mean" else total


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor | np.ndarray,
    weight: TensorLike | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: TensorLike | None = None,
) -> Tensor:
    """ℓ = −w [p · y log σ(x) + (1 − y) log(1 − σ(x))] with σ the sigmoid, computed as
    w [p · y · softplus(−x) + (1 − y) · softplus(x)] (finite for any x); p is
    ``pos_weight`` (1 by default, broadcast along the last axis, one per class). Its
    gradient is w (σ(x) − y) when p = 1. ``target`` must have the shape of ``input``
    (``ValueError`` otherwise, as in PyTorch).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> round(F.binary_cross_entropy_with_logits(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)
    0.6931
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "binary_cross_entropy_with_logits")
    input_shape, target_shape = shape_of(input), shape_of(target)
    if input_shape != target_shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: Target size {target_shape} must be the same "
            f"as input size {input_shape}"
        )
    positive = _softplus(-input) * target
    if pos_weight is not None:
        positive = positive * pos_weight
    losses = positive + _softplus(input) * (1 - target)
    if weight is not None:
        losses = losses * weight
    return reduce_losses(losses, reduction, "binary_cross_entropy_with_logits")


def mse_loss(
    input: TensorLike,
    target: TensorLike,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: TensorLike | None = None,
) -> Tensor:
    """(input − target)², averaged over all elements by default; with ``weight`` (the
    input's shape) the "mean" is Σ w·ℓ / Σ w, as in PyTorch.

    A ``target`` of another shape than ``input`` is broadcast against it, with PyTorch's
    ``UserWarning``: (N, 1) outputs against (N,) targets make an (N, N) loss.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.mse_loss(cr.tensor([1.0, 3.0]), cr.tensor([0.0, 0.0])).item()
    5.0
    """
    reduction = legacy_reduction(size_average, reduce, reduction, "mse_loss")
    check_target_size("mse_loss", input, target)
    d = difference(input, target)
    return weighted(d * d, weight, reduction, "mse_loss")


# ------------------------------------------------------------------ activations
def _out_of_place(name: str, inplace: bool) -> None:
    """``inplace`` is accepted for PyTorch code; the result is computed out of place."""
    if not isinstance(inplace, bool):
        raise TypeError(f"{name}: inplace must be True or False, got {inplace!r}")


def leaky_relu(input: TensorLike, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope · x (slope negative_slope at 0, as in PyTorch).
    One table row. ``inplace=True`` computes the same values out of place.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.leaky_relu(cr.tensor([-2.0, 3.0]), 0.25).tolist()
    [-0.5, 3.0]
    """
    _out_of_place("leaky_relu", inplace)
    return apply(OPS["leaky_relu"], input, negative_slope=negative_slope)


def elu(input: TensorLike, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else α(eˣ − 1). One table row.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> [round(v, 4) for v in F.elu(cr.tensor([-1.0, 2.0])).tolist()]
    [-0.6321, 2.0]
    """
    _out_of_place("elu", inplace)
    return apply(OPS["elu"], input, alpha=alpha)


def gelu(input: TensorLike, approximate: str = "none") -> Tensor:
    """x Φ(x), Φ the standard normal distribution function; ``approximate="tanh"`` gives
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))). One table row.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> [round(v, 4) for v in F.gelu(cr.tensor([-1.0, 0.0, 1.0])).tolist()]
    [-0.1587, 0.0, 0.8413]
    """
    return apply(OPS["gelu"], input, approximate=approximate)


def silu(input: TensorLike, inplace: bool = False) -> Tensor:
    """x σ(x) (also called swish). One table row.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> round(F.silu(cr.tensor(1.0)).item(), 4)
    0.7311
    """
    _out_of_place("silu", inplace)
    return apply(OPS["silu"], input)


def softplus(input: TensorLike, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(βx)) / β, and x itself where βx > threshold, as PyTorch computes it
    (the gradient there is 1).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> round(F.softplus(cr.tensor(0.0), beta=2.0).item(), 4)       # log 2 / 2
    0.3466
    """
    smooth = _softplus(input) if beta == 1 else _softplus(input * beta) / beta  # type: ignore[operator]
    return where(input * beta > threshold, input, smooth)  # type: ignore[operator]


# ------------------------------------------------------------------ normalization and shape
def layer_norm(
    input: TensorLike,
    normalized_shape: int | Sequence[int],
    weight: TensorLike | None = None,
    bias: TensorLike | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x − mean) / √(var + eps) · weight + bias over the last ``len(normalized_shape)``
    axes, whose sizes must be ``normalized_shape`` (the variance is the biased one, as in
    PyTorch). Made of table ops (mean, subtraction, product, sqrt).

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> [round(v, 4) for v in F.layer_norm(cr.tensor([[1.0, 3.0]]), (2,)).tolist()[0]]
    [-1.0, 1.0]
    """
    shape = _normalized_shape(normalized_shape)
    x_shape = shape_of(input)
    if not shape or x_shape[len(x_shape) - len(shape) :] != shape or len(shape) > len(x_shape):
        raise ValueError(
            f"layer_norm: normalized_shape {list(shape)} must be the last axes of the input, "
            f"got input of shape {x_shape}"
        )
    for what, value in (("weight", weight), ("bias", bias)):
        if value is not None and shape_of(value) != shape:
            raise ValueError(
                f"layer_norm: {what} has shape {shape_of(value)}, expected normalized_shape {shape}"
            )
    x = input if isinstance(input, Tensor) else Tensor(as_array(input, what="layer_norm"))
    axes = tuple(range(-len(shape), 0))
    centred = x - x.mean(axis=axes, keepdims=True)
    variance = (centred * centred).mean(axis=axes, keepdims=True)
    out = centred / (variance + eps) ** 0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _normalized_shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(operator.index(n) for n in normalized_shape)


def flatten(input: TensorLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """The axes start_dim … end_dim (inclusive, negative from the end) merged into one,
    as ``torch.flatten``; a reshape.

    >>> import chainrule as cr, chainrule.nn.functional as F
    >>> F.flatten(cr.zeros(2, 3, 4), 1).shape
    (2, 12)
    """
    shape = shape_of(input)
    if not shape:
        return reshape(input, (1,))
    start, end = _dim("flatten", start_dim, len(shape)), _dim("flatten", end_dim, len(shape))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
    return reshape(input, shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])


def _dim(name: str, dim: int, ndim: int) -> int:
    """``dim`` as an axis in [0, ndim), or the IndexError naming the range."""
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{name}: Dimension out of range (expected to be in range of "
            f"[{-ndim}, {ndim - 1}], but got {dim})"
        )
    return dim % ndim
