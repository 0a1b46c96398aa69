"""Updates at an index that return a new tensor: JAX's ``t.at[idx].set(v)`` and ``.add(v)``.

``t.at[idx].set(v)`` is t with v written at ``idx`` and ``t.at[idx].add(v)`` t with v added
there, both out of place and on the graph (t itself is unchanged):

    set:  where(mask, scatter(broadcast_to(v, t[idx].shape), idx), t)
    add:  t + scatter(broadcast_to(v, t[idx].shape), idx)

with mask true at the positions ``idx`` names. The gradient of the positions written goes
to v (summed over broadcasting), that of the others to t; ``add`` passes t's gradient
through whole. ``t[idx] = v`` (see inplace.py) records the same ``set`` in place.

>>> import chainrule as cr
>>> t = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> v = cr.tensor(10.0, requires_grad=True)
>>> u = t.at[1].set(v) + t.at[[0, 0]].add(v)      # add: a repeated index adds twice
>>> u
tensor([22., 12.,  6.], grad_fn=<AddBackward>)
>>> u.sum().backward(); t.grad, v.grad
(tensor([2., 1., 2.]), tensor(3.))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backends
from .ops import OPS
from .ops.core import device_of
from .reading import layout_of
from .tensor import Tensor, TensorLike, apply, as_array, tensor_or_array

_WHERE, _SCATTER, _BROADCAST, _ADD = OPS["where"], OPS["scatter_add"], OPS["broadcast_to"], OPS["add"]


def _spread(t: Tensor, index: Any, value: TensorLike, name: str) -> tuple[dict[str, Any], Tensor, np.ndarray]:
    """The canonical index, value scattered into a zero tensor of t's shape, and the mask of
    the positions the index names (True there)."""
    params = OPS["getitem"].prepare(layout_of(t), index)
    mask = np.zeros(t.shape, dtype=bool)
    mask[params["index"]] = True
    region = mask[params["index"]].shape
    try:
        spread = apply(_BROADCAST, value, shape=region)
    except ValueError:
        raise ValueError(
            f"{name}: cannot put a value of shape {np.shape(value)} at index {index!r} of a "
            f"tensor of shape {t.shape} (the indexed part has shape {region})"
        ) from None
    return params, apply(_SCATTER, spread, **params), mask


def set_at(t: Tensor, index: Any, value: TensorLike, name: str = "at[].set") -> Tensor:
    """t with ``value`` at ``index``: where(mask, scatter(value), t). An index naming a
    position twice is refused: which value it keeps has no gradient."""
    params, scattered, mask = _spread(t, index, value, name)
    if params["advanced"] and int(mask.sum()) != int(np.prod(mask[params["index"]].shape)):
        raise RuntimeError(
            f"{name}: the index {index!r} names some positions of the tensor of shape "
            f"{t.shape} more than once; which value such a position keeps has no "
            "gradient. Use indices without repeats"
        )
    return apply(_WHERE, backends.move(mask, device_of(t)), scattered, t)


def add_at(t: Tensor, index: Any, value: TensorLike) -> Tensor:
    """t with ``value`` added at ``index``; a position named twice gets it twice (``np.add.at``)."""
    return apply(_ADD, t, _spread(t, index, value, "at[].add")[1])


class IndexUpdate:
    """``t.at``: index it (``t.at[idx]``) for the updates at that index."""

    __slots__ = ("_tensor",)

    def __init__(self, t: Tensor) -> None:
        self._tensor = t

    def __getitem__(self, index: Any) -> AtIndex:
        return AtIndex(self._tensor, index)


class AtIndex:
    """``t.at[idx]``: ``.get()``, ``.set(v)`` and ``.add(v)``, each a new tensor."""

    __slots__ = ("_tensor", "_index")

    def __init__(self, t: Tensor, index: Any) -> None:
        self._tensor, self._index = t, index

    def get(self) -> Tensor:
        """``t[idx]``."""
        return self._tensor[self._index]

    def set(self, value: TensorLike) -> Tensor:
        """t with ``value`` written at idx (broadcast to the indexed part's shape)."""
        return set_at(self._tensor, self._index, in_dtype_of(self._tensor, value, "at[].set"))

    def add(self, value: TensorLike) -> Tensor:
        """t with ``value`` added at idx; a repeated index adds once per time it is named."""
        return add_at(self._tensor, self._index, in_dtype_of(self._tensor, value, "at[].add"))


def in_dtype_of(t: Tensor, value: TensorLike, name: str) -> Any:
    """value in t's dtype, to write into t where its values are. A Tensor (or a list holding
    Tensors) is converted on the graph, so its gradient converts back; data is read straight
    as t's dtype (0.1 as float64 is exactly 0.1), and a number is put on t's device (an
    array must be there already: an op on both refuses otherwise)."""
    v = tensor_or_array(value, name) if isinstance(value, (list, tuple)) else value
    if isinstance(v, Tensor):
        return v if v.dtype == t.dtype else apply(OPS["astype"], v, dtype=t.dtype)
    data = as_array(value, t.dtype, what=name)
    return backends.move(data, device_of(t)) if type(data) is np.ndarray and data.ndim == 0 else data
