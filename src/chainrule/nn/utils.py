"""Gradients made visible: a per-parameter report with dead and saturated units, and
gradient-norm clipping.

Vanishing gradients show up as parameter gradients orders of magnitude smaller than
the parameters, or as ReLU units that output 0 for every example (their gradient is
0, so they never recover) and sigmoid/tanh units stuck near their asymptotes (slope
≈ 0). Exploding gradients show up as norms that grow layer by layer; clipping the
total norm bounds the step.

>>> import numpy as np, chainrule as cr
>>> model = cr.nn.Sequential(cr.nn.Linear(3, 4, seed=0), cr.nn.ReLU(), cr.nn.Linear(4, 1, seed=1))
>>> cr.nn.functional.mse_loss(model(cr.ones(5, 3)), cr.zeros(5, 1)).backward()
>>> report = cr.nn.utils.gradient_report(model)
>>> [row.name for row in report.parameters]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backends
from ..backends import dtype_in, namespace_of
from ..dtypes import get_default_dtype
from ..functions import concatenate, reshape
from ..sparse import RowSparse
from ..tables import text_table
from ..tensor import Tensor
from .layers import SATURATED, ReLU, Sigmoid, Tanh
from .module import Module


@dataclass
class ParameterGradient:
    name: str
    shape: tuple[int, ...]
    grad_norm: float | None
    value_norm: float

    @property
    def ratio(self) -> float | None:
        """|∇p| / |p|: the relative size of one plain gradient step."""
        if self.grad_norm is None:
            return None
        return self.grad_norm / self.value_norm if self.value_norm else float("inf")


@dataclass
class ActivationHealth:
    name: str
    kind: str
    units: int
    dead: float | None = None  # ReLU: share of units that output 0 for every example
    saturated: float | None = None  # sigmoid/tanh: share of outputs near an asymptote


@dataclass
class GradientReport:
    parameters: list[ParameterGradient]
    activations: list[ActivationHealth]

    def __str__(self) -> str:
        # Norms span orders of magnitude, so they are written to significant digits.
        rows = [
            (
                p.name,
                str(p.shape),
                "no grad" if p.grad_norm is None else f"{p.grad_norm:.4g}",
                f"{p.value_norm:.4g}",
                "" if p.ratio is None else f"{p.ratio:.3g}",
            )
            for p in self.parameters
        ]
        headers = ["parameter", "shape", "|grad|", "|value|", "|grad|/|value|"]
        lines = [text_table(headers, rows, align="llrrr")]
        for a in self.activations:
            if a.dead is not None:
                lines.append(
                    f"{a.name} ({a.kind}): {a.dead:.1%} of {a.units} units dead "
                    "(0 for every example in the last batch)"
                )
            elif a.saturated is not None:
                lines.append(
                    f"{a.name} ({a.kind}): {a.saturated:.1%} of outputs saturated "
                    f"(slope below {1 - SATURATED**2:.0%} of its peak)"
                )
        return "\n".join(lines)


def _grad_array(grad: Tensor | RowSparse) -> np.ndarray:
    if isinstance(grad, RowSparse):
        return grad.values
    return grad._data if backends.is_array(grad._data) else np.asarray(grad._data)


def gradient_report(module: Module) -> GradientReport:
    """Gradient norms of every parameter of ``module``, and the health of its ReLU,
    sigmoid and tanh layers on the last batch they saw (after a forward pass)."""
    params = [
        ParameterGradient(
            name,
            tuple(p.shape),
            None if p.grad is None else float(np.linalg.norm(backends.host(_grad_array(p.grad)))),
            float(np.linalg.norm(backends.host(p._data))),
        )
        for name, p in module.named_parameters()
    ]
    health = [
        ActivationHealth(name or type(layer).__name__, type(layer).__name__, **layer.health())
        for name, layer in module.named_modules()
        if isinstance(layer, (ReLU, Sigmoid, Tanh)) and hasattr(layer, "_summary")
    ]
    return GradientReport(params, health)


def clip_grad_norm_(parameters: Iterable[Tensor], max_norm: float, norm_type: float = 2.0) -> Tensor:
    """Scale all gradients in place so their joint norm is at most ``max_norm``.

    The joint norm is (Σ ‖g‖ₚᵖ)^(1/p) over every parameter's gradient (p = inf: the
    largest |g|); when it exceeds ``max_norm`` every gradient is multiplied by
    max_norm / (norm + 1e-6), as in PyTorch. Returns the norm before clipping.

    >>> import chainrule as cr
    >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()               # grad (6, 8), norm 10
    >>> float(cr.nn.utils.clip_grad_norm_([w], 5.0)), w.grad.numpy().round(4).tolist()
    (10.0, [3.0, 4.0])
    """
    grads = [
        p.grad
        for p in (parameters if not isinstance(parameters, Tensor) else [parameters])
        if p.grad is not None
    ]
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    arrays = [_grad_array(g) for g in grads]
    if not arrays:
        return Tensor._make(np.asarray(0.0, dtype=get_default_dtype()), None)
    # One number per gradient, computed where it is and then read (one copy to the host each).
    if norm_type == float("inf"):
        total = max(_read(namespace_of(a).max(namespace_of(a).abs(a))) if a.size else 0.0 for a in arrays)
    else:
        powers = 0.0
        for a in arrays:
            xp = namespace_of(a)
            powers += _read(xp.sum(xp.abs(xp.astype(a, dtype_in(xp, np.float64))) ** norm_type))
        total = powers ** (1 / norm_type)
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for g in grads:
            if isinstance(g, RowSparse):
                g.values = g.values * coefficient
            else:
                g.data = g.data * coefficient
    return Tensor._make(np.asarray(total, dtype=backends.numpy_dtype(arrays[0].dtype)), None)


def _read(value: Any) -> float:
    """A 0-d array's number, from any device."""
    return float(backends.host(value))


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector, in order, as in PyTorch; the
    vector is differentiable with respect to them (a concatenation of reshapes).

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(2, 3, seed=0)
    >>> cr.nn.utils.parameters_to_vector(layer.parameters()).shape
    (9,)
    """
    params = _parameter_list("parameters_to_vector", parameters)
    if not params:
        raise ValueError(
            "parameters_to_vector: no parameters given (an empty iterable, or a used-up generator)"
        )
    return concatenate([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, each reshaped to its
    parameter's shape (the inverse of :func:`parameters_to_vector`); not differentiable.
    ``vec`` must hold exactly as many elements as the parameters (``ValueError`` naming
    both counts otherwise).

    >>> import chainrule as cr
    >>> layer = cr.nn.Linear(2, 1, seed=0)
    >>> cr.nn.utils.vector_to_parameters(cr.tensor([1.0, 2.0, 3.0]), layer.parameters())
    >>> layer.weight.tolist(), layer.bias.tolist()
    ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, but got {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    params = _parameter_list("vector_to_parameters", parameters)
    needed = sum(p.size for p in params)
    if vec.size != needed:
        raise ValueError(
            f"vector_to_parameters: vec has {vec.size} elements but the parameters hold {needed} "
            f"(shapes {[p.shape for p in params]})"
        )
    start = 0
    for p in params:
        p.data = vec.data[start : start + p.size].reshape(p.shape).astype(p.dtype, copy=True)
        start += p.size


def _parameter_list(name: str, parameters: Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: expected Tensors, got {type(p).__name__} at position {i}")
    return params
