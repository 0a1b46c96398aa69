"""Layers: Linear, Embedding, Dropout, the activations, and Sequential to chain them.

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

import numpy as np

from .. import dtypes
from ..functions import relu, sigmoid, tanh
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Dropout", "Embedding", "Linear", "ReLU", "Sequential", "Sigmoid", "Tanh"]


def _empty(*shape, dtype=None) -> Parameter:
    return Parameter(np.zeros(shape, dtype=dtype or dtypes.get_default_dtype()))


class Linear(Module):
    """y = x Wᵀ + b with ``weight`` W of shape (out, in) and ``bias`` b of shape (out,).

    Both start uniform in ±1/√in (PyTorch's default), so a layer's outputs start
    with a variance that does not grow with the number of inputs.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, seed=None,
                 dtype=None) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        bound = 1 / math.sqrt(in_features) if in_features else 0.0
        self.in_features, self.out_features = in_features, out_features
        self.weight = init.uniform_(_empty(out_features, in_features, dtype=dtype), -bound, bound, seed=rng)
        self.bias = None
        if bias:
            self.bias = init.uniform_(_empty(out_features, dtype=dtype), -bound, bound, seed=rng)

    def forward(self, x) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: ``embedding(indices)`` gives the rows ``weight[indices]``.

    ``weight`` has shape (num_embeddings, embedding_dim) and starts N(0, 1). With
    ``sparse=True`` its gradient is row-sparse (only the rows looked up), and the
    optimizers update only those rows.

    >>> import chainrule as cr
    >>> E = cr.nn.Embedding(10, 3, sparse=True, seed=0)
    >>> E([[1, 2], [2, 9]]).sum().backward()
    >>> E.weight.grad.indices.tolist()
    [1, 2, 9]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, sparse: bool = False, *, seed=None,
                 dtype=None, _weight=None) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim, self.sparse = num_embeddings, embedding_dim, sparse
        if _weight is None:
            _weight = init.normal_(_empty(num_embeddings, embedding_dim, dtype=dtype), seed=seed)
        self.weight = _weight

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, sparse: bool = False) -> Embedding:
        """An Embedding holding a copy of the matrix ``embeddings`` (a frozen one by default)."""
        weight = Parameter(embeddings, requires_grad=not freeze)
        if weight.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {weight.shape}")
        return cls(*weight.shape, sparse=sparse, _weight=weight)

    def forward(self, indices) -> Tensor:
        return F.embedding(indices, self.weight, sparse=self.sparse)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (", sparse=True" if self.sparse else "")


class Dropout(Module):
    """Zero elements with probability p (and scale the rest by 1/(1 − p)) in training mode;
    pass the input through unchanged in evaluation mode."""

    def __init__(self, p: float = 0.5, *, seed=None) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p}")
        self.p = p
        self.rng = np.random.default_rng(seed)

    def forward(self, x) -> Tensor:
        return F.dropout(x, self.p, self.training, seed=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _Activation(Module):
    """An elementwise activation that keeps its last output (a reference, no copy) for
    ``nn.utils.gradient_report`` to count dead or saturated units."""

    function = staticmethod(relu)

    def forward(self, x) -> Tensor:
        out = self.function(x)
        self.last_output = out.data
        return out


class ReLU(_Activation):
    """relu(x) = max(x, 0) elementwise."""

    function = staticmethod(relu)


class Sigmoid(_Activation):
    """σ(x) = 1 / (1 + e⁻ˣ) elementwise."""

    function = staticmethod(sigmoid)


class Tanh(_Activation):
    """tanh(x) elementwise."""

    function = staticmethod(tanh)


class Sequential(Module):
    """Modules applied in order: Sequential(a, b, c)(x) = c(b(a(x))). They are named "0", "1", …"""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x
