"""Layers: Linear, Embedding, Dropout, LayerNorm, Identity, Flatten, Unflatten and the
activations relu, sigmoid and tanh (the others are in ``activation.py``, the containers in
``container.py``).

Random initial values come from ``seed=`` (an int or a ``numpy.random.Generator``),
never from hidden global state, so a model built from one seed is the same every time.

>>> import chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Linear(4, 8, seed=0), cr.nn.ReLU(), cr.nn.Linear(8, 3, seed=1))
>>> net(cr.ones(5, 4)).shape
(5, 3)
>>> [name for name, _ in net.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt

from .. import backends, dtypes
from ..creation import Seed, generator
from ..functions import relu, reshape, sigmoid, tanh
from ..mode import no_grad
from ..ops.core import every_value
from ..tensor import BatchedAccess, Tensor, TensorLike
from . import functional as F
from . import init
from .container import Sequential
from .module import Module, Parameter

__all__ = [
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "Linear",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "Unflatten",
]


def _empty(*shape: int, dtype: npt.DTypeLike | None = None) -> Parameter:
    return Parameter(np.zeros(shape, dtype=dtype or dtypes.get_default_dtype()))


class Linear(Module):
    """y = x Wᵀ + b with ``weight`` W of shape (out, in) and ``bias`` b of shape (out,).

    Both start uniform in ±1/√in (PyTorch's default), so a layer's outputs start
    with a variance that does not grow with the number of inputs.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        seed: Seed = None,
        dtype: npt.DTypeLike | None = None,
    ) -> None:
        super().__init__()
        rng = generator(seed)
        bound = 1 / math.sqrt(in_features) if in_features else 0.0
        self.in_features, self.out_features = in_features, out_features
        self.weight = init.uniform_(_empty(out_features, in_features, dtype=dtype), -bound, bound, seed=rng)
        self.bias: Parameter | None = None
        if bias:
            self.bias = init.uniform_(_empty(out_features, dtype=dtype), -bound, bound, seed=rng)

    def forward(self, x: TensorLike) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: ``embedding(indices)`` gives the rows ``weight[indices]``.

    ``weight`` has shape (num_embeddings, embedding_dim) and starts N(0, 1). With
    ``sparse=True`` its gradient is row-sparse (only the rows looked up), and the
    optimizers update only those rows. ``padding_idx``, ``max_norm``, ``norm_type`` and
    ``scale_grad_by_freq`` are PyTorch's (see ``F.embedding``); the row ``padding_idx``
    starts at zero unless ``_weight`` is given.

    >>> import chainrule as cr
    >>> E = cr.nn.Embedding(10, 3, sparse=True, seed=0)
    >>> E([[1, 2], [2, 9]]).sum().backward()
    >>> E.weight.grad.indices.tolist()
    [1, 2, 9]
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: TensorLike | None = None,
        _freeze: bool = False,
        *,
        seed: Seed = None,
        dtype: npt.DTypeLike | None = None,
    ) -> None:
        super().__init__()
        padding_idx = F.padding_row(padding_idx, num_embeddings)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            weight = init.normal_(_empty(num_embeddings, embedding_dim, dtype=dtype), seed=seed)
            if padding_idx is not None:
                with no_grad():
                    weight[padding_idx] = 0
        else:
            weight = (
                _weight if isinstance(_weight, Parameter) else Parameter(_weight, requires_grad=not _freeze)
            )
            if weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {weight.shape}, expected {(num_embeddings, embedding_dim)}"
                )
        self.weight = weight

    @classmethod
    def from_pretrained(
        cls,
        embeddings: TensorLike,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding holding a copy of the matrix ``embeddings`` (a frozen one by default);
        its row ``padding_idx`` keeps the given values, as in PyTorch."""
        weight = Parameter(embeddings, requires_grad=not freeze)
        if weight.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {weight.shape}")
        rows, dim = weight.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=weight)

    def forward(self, indices: TensorLike) -> Tensor:
        return F.embedding(
            indices,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s + (", sparse=True" if self.sparse else "")


class Dropout(Module):
    """Zero elements with probability p (and scale the rest by 1/(1 − p)) in training mode;
    pass the input through unchanged in evaluation mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *, seed: Seed = None) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p}")
        self.p, self.inplace = p, inplace
        self.rng = generator(seed)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, seed=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# |tanh| or |2σ − 1| above this: the slope is below 1 − 0.99² ≈ 2% of its peak.
SATURATED = 0.99


class Health(TypedDict, total=False):
    """What an activation's ``health()`` tells of its last batch."""

    units: int
    dead: float  # ReLU
    saturated: float  # sigmoid and tanh


def _units(out: Any) -> Any:
    """An activation's outputs as (examples, units): the last axis holds the units."""
    return backends.namespace_of(out).reshape(out, (-1, out.shape[-1]) if out.ndim else (1, 1))


def _values(out: Tensor) -> Any:
    """The output's values where they are (on its device), or under vmap every example's."""
    try:
        return out._data
    except BatchedAccess:
        return every_value(out)


class _Activation(Module):
    """An elementwise activation that keeps a summary of its last output for
    ``nn.utils.gradient_report`` (``health()``), never the output itself, which would
    hold every layer's activations after backward has freed them."""

    function = staticmethod(relu)
    summarize: Callable[[np.ndarray], Any]  # what health() reads of the last output
    _summary: Any  # what summarize made of it

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch code: the result is computed out of place

    def forward(self, x: TensorLike) -> Tensor:
        out = self.function(x)
        # On the output's device: health() copies the summary to the host when asked.
        self._summary = self.summarize(_units(_values(out)))
        return out


class ReLU(_Activation):
    """relu(x) = max(x, 0) elementwise."""

    function = staticmethod(relu)

    @staticmethod
    def summarize(units: np.ndarray) -> np.ndarray:
        """Each unit's total output over the batch, 1ᵀ·units (one BLAS pass): the outputs
        are ≥ 0, so the total is 0 exactly when the unit is dead."""
        totals: np.ndarray = backends.ones_like(units[:, 0]) @ units
        return totals

    def health(self) -> Health:
        """``dead``: the share of units that output 0 for every example of the last batch."""
        totals = backends.host(self._summary)
        return {"units": totals.size, "dead": float(np.mean(totals <= 0))}


class _Squashing(_Activation):
    """sigmoid or tanh, whose slope is nearly 0 for outputs near an asymptote."""

    @classmethod
    def summarize(cls, units: np.ndarray) -> tuple[int, Any]:
        xp = backends.namespace_of(units)
        centred = units if cls is Tanh else 2 * units - 1
        return units.shape[1], xp.mean(xp.astype(xp.abs(centred) > SATURATED, units.dtype))

    def health(self) -> Health:
        """``saturated``: the share of the last batch's outputs near an asymptote."""
        units, share = self._summary
        return {"units": units, "saturated": float(backends.host(share))}


class Sigmoid(_Squashing):
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise."""

    function = staticmethod(sigmoid)


class Tanh(_Squashing):
    """tanh(x) elementwise."""

    function = staticmethod(tanh)


class Identity(Module):
    """Returns its input unchanged; any arguments are accepted and ignored (as in PyTorch)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Merges the axes start_dim … end_dim into one (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: TensorLike) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Splits axis ``dim`` into the axes ``unflattened_size`` (whose product must be its
    size; one entry may be -1)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(unflattened_size, (int, np.integer)) or not all(
            isinstance(n, (int, np.integer)) for n in unflattened_size
        ):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(int(n) for n in unflattened_size)

    def forward(self, input: TensorLike) -> Tensor:
        shape = tuple(np.shape(input.data if isinstance(input, Tensor) else input))
        dim = F._dim("Unflatten", self.dim, len(shape))
        sizes = self.unflattened_size
        known = math.prod(n for n in sizes if n != -1)
        fits = shape[dim] == known if -1 not in sizes else known and shape[dim] % known == 0
        if not fits or sizes.count(-1) > 1:
            raise ValueError(
                f"Unflatten: cannot split axis {self.dim} of size {shape[dim]} (input shape {shape}) "
                f"into {sizes}; their product must be {shape[dim]}"
            )
        return reshape(input, shape[:dim] + sizes + shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class LayerNorm(Module):
    """Normalizes over the last axes ``normalized_shape``: (x − mean)/√(var + eps), then
    ``weight`` (ones) and ``bias`` (zeros) of that shape when ``elementwise_affine``, as in
    PyTorch (``bias=False`` leaves the bias out)."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: npt.DTypeLike | None = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = F._normalized_shape(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None
        dtype = dtype or dtypes.get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))

    def forward(self, input: TensorLike) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
