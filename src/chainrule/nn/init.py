"""Initial values for parameters, drawn in place from an explicit seed.

``seed`` is an int, a ``numpy.random.Generator`` (which is advanced, so one
generator passed to every layer of a model gives reproducible, distinct draws) or
None for fresh entropy.

>>> import chainrule as cr
>>> w = cr.nn.Parameter(cr.zeros(2, 3))
>>> _ = cr.nn.init.uniform_(w, -0.5, 0.5, seed=0)
>>> bool((w.numpy() >= -0.5).all() and (w.numpy() < 0.5).all())
True
"""

from __future__ import annotations

from typing import TypeVar

from .. import backends
from ..creation import Seed, generator
from ..tensor import Tensor

__all__ = ["normal_", "uniform_"]

_TensorT = TypeVar("_TensorT", bound=Tensor)


def uniform_(tensor: _TensorT, a: float = 0.0, b: float = 1.0, *, seed: Seed = None) -> _TensorT:
    """Fill ``tensor`` with draws from U(a, b); returns it."""
    tensor.data = backends.move(generator(seed).uniform(a, b, tensor.shape), tensor.device)
    return tensor


def normal_(tensor: _TensorT, mean: float = 0.0, std: float = 1.0, *, seed: Seed = None) -> _TensorT:
    """Fill ``tensor`` with draws from N(mean, std²); returns it."""
    tensor.data = backends.move(generator(seed).normal(mean, std, tensor.shape), tensor.device)
    return tensor
