"""In-place updates, as PyTorch does them: the same tensor, the same storage, a version count.

``t += x``, ``t[idx] = v``, ``t.add_(x)``, ``t.zero_()``, ``t.data = v`` and an
optimizer's step write into ``t``'s own array, so every holder of ``t`` (a model's
parameter list, an optimizer) sees the new values. Each change adds one to the version
of ``t``'s storage, which ``t`` shares with the tensors that share that storage
(``detach()``, views made by reshape, transpose or basic indexing).

A recorded op saves the versions of the tensors whose values its rule reads; the
backward pass refuses (``RuntimeError``) when one has changed since, instead of
computing a gradient from values the forward pass never used.

While operations are recorded:

- an in-place change of a leaf that requires grad is refused: a parameter update
  belongs inside ``with cr.no_grad():``;
- an in-place change of a non-leaf (or of a tensor that does not require grad, with
  an operand that does) is recorded like its out-of-place op: ``y += x`` leaves ``y``
  with the node of ``y + x``, so its gradient is right;
- an in-place change of a view is refused: the graph of the tensor it views would
  not see it.

>>> import chainrule as cr
>>> p = cr.tensor([1.0, 2.0], requires_grad=True)
>>> (p * p).sum().backward()
>>> with cr.no_grad():
...     p -= 0.25 * p.grad                      # the same tensor, updated in place
>>> p, p._version
(tensor([0.5, 1. ], requires_grad=True), 1)
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np

from . import backends, mode
from .indexed import in_dtype_of, set_at
from .ops import OPS
from .ops.core import device_of
from .tensor import Tensor, apply, as_array

_WHERE = OPS["where"]


def update(t: Tensor, name: str, op, *others, **params) -> Tensor:
    """t ← op(t, *others) in place; recorded as op when gradients flow through it."""
    recording = _recording(t, others)
    if recording:
        _check_recordable(t, name)
    result = apply(op, t, *others, **params)
    _commit(t, name, result, "same_kind")
    return t


def replace(t: Tensor, name: str, value) -> Tensor:
    """t ← value (broadcast to t's shape, converted to t's dtype): ``copy_``, ``fill_``, ``zero_``.

    Recorded as ``where(False, t, value)``, so the old value of t gets the gradient 0
    (as PyTorch's ``FillBackward``) and value gets all of it.
    """
    if not _recording(t, (value,)):
        write(t, _data(value, name, t.dtype), name, casting="unsafe", broadcast=True)
        return t
    _check_recordable(t, name)
    value = in_dtype_of(t, value, name)
    result = apply(_WHERE, backends.move(np.zeros(t.shape, dtype=bool), device_of(t)), t, value)
    _commit(t, name, result, "unsafe")
    return t


def assign(t: Tensor, index, value) -> None:
    """``t[index] = value``: NumPy's assignment, recorded as ``t.at[index].set(value)``
    (see indexed.py): the gradient of the positions written goes to value (summed over
    broadcasting), that of the others to the old t.
    """
    if not _recording(t, (value,)):
        data = _placed(t, _data(value, "setitem", t.dtype), "setitem")
        try:
            t._data[index] = data
        except ValueError as e:
            raise ValueError(
                f"setitem: cannot assign a value of shape {np.shape(data)} to index "
                f"{index!r} of a tensor of shape {t.shape}: {e}"
            ) from None
        t._count_change()
        return
    _check_recordable(t, "setitem")
    _commit(t, "setitem", set_at(t, index, in_dtype_of(t, value, "setitem"), "setitem"), "unsafe")


Casting: TypeAlias = Literal["same_kind", "unsafe"]
"""How a result may be cast into the tensor changed in place (NumPy's casting rules)."""


def write(t: Tensor, values: np.ndarray, name: str, casting: Casting, broadcast: bool = False) -> None:
    """Copy ``values`` into t's storage and count the change (no recording)."""
    if not broadcast and np.shape(values) != t.shape:
        raise ValueError(
            f"{name}: the new values have shape {np.shape(values)}, but the tensor changed "
            f"in place has shape {t.shape}; an in-place change cannot change the shape "
            "(compute the result out of place instead)"
        )
    if backends.is_array(t._data) or backends.is_array(values):  # another array library's storage
        values = _placed(t, values, name)
        if not isinstance(values, (int, float, bool)):
            if not np.can_cast(backends.numpy_dtype(values.dtype), backends.numpy_dtype(t.dtype), casting):
                raise TypeError(
                    f"{name}: a result of dtype {values.dtype} cannot be stored in place in a tensor "
                    f"of dtype {t.dtype}; compute it out of place, or convert the tensor first"
                )
            values = backends.namespace_of(values).astype(values, t.dtype)
        t._data[...] = values
        t._count_change()
        return
    if not np.can_cast(np.result_type(values), t.dtype, casting):
        raise TypeError(
            f"{name}: a result of dtype {np.result_type(values)} cannot be stored in place in a "
            f"tensor of dtype {t.dtype}; compute it out of place, or convert the tensor first"
        )
    try:
        np.copyto(t._data, values, casting="unsafe")
    except ValueError as e:
        raise ValueError(
            f"{name}: cannot write values of shape {np.shape(values)} into a tensor of shape {t.shape}: {e}"
        ) from None
    t._count_change()


def _recording(t: Tensor, others) -> bool:
    """Whether the change must be recorded: grad mode is on and a gradient flows through it."""
    if not mode.state().grad:
        return False
    return t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)


def _check_recordable(t: Tensor, name: str) -> None:
    if t._node is None and t._requires_grad:
        raise RuntimeError(
            f"{name}: a leaf tensor that requires grad (shape {t.shape}) cannot be changed in place "
            "while operations are recorded. Update it inside `with cr.no_grad():` (as an optimizer "
            "step does), or compute a new tensor out of place (t = t + x)"
        )
    if getattr(t._data, "base", None) is not None or _may_view(t):
        raise RuntimeError(
            f"{name}: this tensor (shape {t.shape}) is a view that shares its storage with another "
            "tensor (made by reshape, transpose, indexing, ...); the other tensor's graph would not see "
            "an in-place change. Compute the result out of place instead"
        )


def _placed(t: Tensor, values, name: str):
    """``values`` to write into t: as they are on NumPy; where t's storage is another array
    library's, a number (a 0-d NumPy array made from data) as a Python number, and arrays
    only from t's own device (a DeviceMismatch otherwise)."""
    if not (backends.is_array(t._data) or backends.is_array(values)):
        return values
    if isinstance(values, (np.ndarray, np.generic)) and np.ndim(values) == 0 and backends.is_array(t._data):
        return values.item()
    backends.same_place([t._data, values], name)
    return values


def _may_view(t: Tensor) -> bool:
    """Whether t, on an array library whose arrays do not say which storage they view
    (array-api-strict's), was made by an op that may return a view (see tensor.py)."""
    return not hasattr(t._data, "base") and getattr(t, "_base", None) is not None


def _commit(t: Tensor, name: str, result: Tensor, casting: Casting) -> None:
    """Write a result computed out of place into t, and give t its node and tangents."""
    node = result._node
    if node is not None:
        _detach_saved(node, t)
    write(t, result._data, name, casting)
    if node is not None:
        t._node = node
        t._requires_grad = True
    if result._tangents:
        t._tangents = result._tangents


def _detach_saved(node, t: Tensor) -> None:
    """The node saved t's own storage as an input; it is about to be overwritten, so the
    node keeps a private copy of the old values instead (PyTorch's ``original_self``)."""
    if node.inputs is None:
        return
    owner = t._owner()
    copies = {
        i: _snapshot(a) for i, a in enumerate(node.inputs) if isinstance(a, Tensor) and a._owner() is owner
    }
    if not copies:
        return
    xs, out = node.saved
    node.saved = (tuple(copies[i]._data if i in copies else x for i, x in enumerate(xs)), out)
    node.inputs = tuple(copies.get(i, a) for i, a in enumerate(node.inputs))
    if node.duals is not None:
        args, tangents = node.duals
        node.duals = (tuple(copies.get(i, a) for i, a in enumerate(args)), tangents)


def _snapshot(a: Tensor) -> Tensor:
    """a as it is now, in storage of its own: its values, node and tangents."""
    old = Tensor._make(a._data.copy() if type(a._data) is np.ndarray else backends.copy(a._data), a._node)
    old._requires_grad = a._requires_grad
    old._tangents = a._tangents
    return old


def _data(value, name: str, dtype) -> np.ndarray:
    """The values to write: a tensor's own, or the given data read straight as ``dtype``."""
    return value._data if isinstance(value, Tensor) else as_array(value, dtype, what=name)
