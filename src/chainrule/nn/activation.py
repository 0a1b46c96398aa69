"""Activation modules beyond ReLU, Sigmoid and Tanh (``layers.py``), as in PyTorch: each
holds its constructor's arguments and calls its ``cr.nn.functional`` function.

``inplace=True`` is accepted where PyTorch has it, and the result is computed out of
place: the values are the same, and the input is left as it was.

>>> import chainrule as cr
>>> nn = cr.nn
>>> net = nn.Sequential(nn.Linear(3, 4, seed=0), nn.GELU(), nn.Linear(4, 2, seed=1), nn.LogSoftmax(dim=1))
>>> [round(v, 4) for v in net(cr.ones(5, 3)).exp().sum(axis=1).tolist()]
[1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import warnings

from ..reading import shape_of
from ..tensor import Tensor, TensorLike
from . import functional as F
from .module import Module

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "SiLU", "Softmax", "Softplus"]


class LeakyReLU(Module):
    """x where x > 0, else negative_slope · x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: TensorLike) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x where x > 0, else α(eˣ − 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: TensorLike) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x Φ(x), or its tanh approximation with ``approximate="tanh"``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: TensorLike) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x σ(x)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: TensorLike) -> Tensor:
        return F.silu(input)


class Softplus(Module):
    """log(1 + e^(βx)) / β, and x where βx > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: TensorLike) -> Tensor:
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


def _implicit_dim(name: str, input: TensorLike) -> int:
    """PyTorch's choice of axis when a Softmax is made without ``dim``: 0 for 0-, 1- and
    3-dimensional inputs, else 1, with its deprecation warning."""
    ndim = len(shape_of(input))
    warnings.warn(
        f"{name}: Implicit dimension choice for {name.lower()} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=4,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """softmax along ``dim``. Without ``dim`` the axis is PyTorch's legacy guess (with its
    warning): 0 for 0-, 1- and 3-dimensional inputs, else 1."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: TensorLike) -> Tensor:
        dim = _implicit_dim("Softmax", input) if self.dim is None else self.dim
        return F.softmax(input, dim=dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log_softmax along ``dim`` (without it, PyTorch's legacy guess, as for Softmax)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: TensorLike) -> Tensor:
        dim = _implicit_dim("LogSoftmax", input) if self.dim is None else self.dim
        return F.log_softmax(input, dim=dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
