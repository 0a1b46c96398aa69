"""NumPy's functions, differentiable on Tensors: ``import chainrule.numpy as cnp``.

Code written for NumPy differentiates under chainrule with one changed import, as HIPS
autograd's ``autograd.numpy`` and ``jax.numpy`` promise::

    import chainrule.numpy as np

    def loss(w):
        return np.sum(np.tanh(np.dot(X, w)) ** 2)

    cr.grad(loss)(w0)

Each function here has NumPy's name and signature. Given a Tensor anywhere among its
arguments (also inside a list, as ``concatenate`` takes them) it runs chainrule's table
ops, so its result is a Tensor on the graph with both derivative rules; given only plain
data (ndarrays, numbers, lists) it is NumPy's own function and returns what NumPy returns.

Functions whose results carry no gradient (comparisons, ``isnan``, ``argmax``, ``shape``,
``allclose``) give NumPy's answer on the values: a boolean or integer Tensor for the
elementwise ones, NumPy's own result for the queries.

Every other name is NumPy's (``cnp.pi``, ``cnp.float32``, ``cnp.random``, ``cnp.newaxis``).
A NumPy function this module lacks still works on plain data, and reaches a Tensor only
through NumPy's protocols (``Tensor.__array_function__``), which raise ``TypeError`` naming
the function. One case NumPy's protocols cannot see: NumPy's own functions read a *list*
of Tensors (``np.sum([t, u])``) through ``np.asarray``, which gives the values only; inside a
transform that says so with a ``RuntimeWarning``. This module's functions (``cnp.sum([t, u])``,
``cnp.array([t, u])``) stack such lists on the graph.

>>> import numpy as np
>>> import chainrule as cr
>>> import chainrule.numpy as cnp
>>> x = cr.tensor([0.5, 2.0], requires_grad=True)
>>> cnp.sum(cnp.square(x)).backward(); x.grad
tensor([1., 4.])
>>> type(cnp.square(np.array([1.0, 2.0]))).__name__      # plain in, plain out
'ndarray'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as _np

from .. import assembly as _assembly
from .. import construction as _construction
from .. import functions as _F
from .. import reductions as _reductions
from .. import statistics as _statistics
from ..reading import layout_of
from ..tensor import Tensor, TensorLike, data_of, holds_tensor, stacked
from . import fft, linalg
from .dispatch import ARGUMENTS, dual, numpy_names

# Functions of chainrule's public modules that NumPy has under the same name and signature
# (argmax, argmin and argsort give integer Tensors, which carry no gradient).
_SAME_NAME = {
    name: getattr(module, name)
    for module in (_F, _reductions, _statistics, _assembly, _construction)
    for name in module.__all__
    if hasattr(_np, name) and name not in ("where", "r_", "c_")  # where and r_/c_: written here
}

# NumPy's names for chainrule functions called otherwise.
_RENAMED: dict[str, Callable[..., Any]] = {
    "absolute": _F.abs,
    "subtract": _F.sub,
    "multiply": _F.mul,
    "divide": _F.div,
    "true_divide": _F.div,
    "negative": _F.neg,
    "power": _F.pow,
    "rint": _F.round,
    "around": _F.round,
    # the array API's names, which NumPy 2 has too
    "acos": _F.arccos,
    "acosh": _F.arccosh,
    "asin": _F.arcsin,
    "asinh": _F.arcsinh,
    "atan": _F.arctan,
    "atan2": _F.arctan2,
    "atanh": _F.arctanh,
    "concat": _F.concatenate,
    "permute_dims": _F.transpose,
    "astype": _F.astype,
}

# chainrule's functions NumPy has no name for (SciPy's expit and logsumexp, the activations):
# on Tensors and plain data alike they give a Tensor.
_CHAINRULE_ONLY = ("sigmoid", "relu", "softplus", "logsumexp")

# Elementwise functions whose results carry no gradient: a boolean Tensor of NumPy's answer.
_PREDICATES = (
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "isnan",
    "isinf",
    "isfinite",
    "signbit",
)

# Queries about values or shapes: NumPy's own result, computed on the values.
_QUERIES = (
    "shape",
    "ndim",
    "size",
    "allclose",
    "isclose",
    "array_equal",
    "array_equiv",
    "count_nonzero",
    "nonzero",
    "flatnonzero",
    "argwhere",
    "any",
    "all",
    "iscomplexobj",
    "isrealobj",
    "result_type",
)


def _predicate(name: str) -> Callable[..., Any]:
    numpy_fn = getattr(_np, name)

    def fn(*args: Any, **kwargs: Any) -> Any:
        result = numpy_fn(*(data_of(a) for a in args), **kwargs)
        return Tensor._make(_np.asarray(result), None) if holds_tensor(args, ARGUMENTS) else result

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}`` of the values: a boolean Tensor, which carries no gradient."
    return fn


_LAYOUT_QUERIES = ("shape", "ndim", "size", "iscomplexobj", "isrealobj", "result_type")
"""The queries that read only shapes and dtypes (so they answer for a tensor vmap batches too)."""


def _query(name: str) -> Callable[..., Any]:
    numpy_fn = getattr(_np, name)
    read = _layout if name in _LAYOUT_QUERIES else _values

    def fn(*args: Any, **kwargs: Any) -> Any:
        return numpy_fn(*(read(a) for a in args), **{k: read(v) for k, v in kwargs.items()})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}`` of the values (a query: its result carries no gradient)."
    return fn


def _layout(value: Any) -> Any:
    """A Tensor's shape and dtype as an array that holds no values (one zero, broadcast);
    anything else as it is."""
    if isinstance(value, (list, tuple)):
        return type(value)(_layout(v) for v in value)
    return layout_of(value) if isinstance(value, Tensor) else value


def _values(value: Any) -> Any:
    """The values of a Tensor, or of the Tensors in a list or tuple; anything else as it is."""
    if isinstance(value, (list, tuple)):
        return type(value)(_values(v) for v in value)
    return data_of(value)


# --------------------------------------------------------------------- functions written here
def _array(name: str, obj: Any, dtype: Any, copy: bool, options: dict[str, Any]) -> Any:
    """``numpy.array`` / ``asarray``: from nested lists that may hold Tensors, stacked
    differentiably; NumPy's other keywords (order, ndmin, ...) for plain data only."""
    if not holds_tensor(obj):
        return (_np.array if copy else _np.asarray)(obj, dtype=dtype, **options)
    if options:
        raise TypeError(
            f"{name}: {', '.join(options)}= apply to plain data; for tensors use reshape and astype"
        )
    t = obj if isinstance(obj, Tensor) else stacked(obj, name)
    if dtype is not None and _np.dtype(dtype) != t.dtype:
        return _F.astype(t, dtype)
    return _F.reshape(t, t.shape) if copy and t is obj else t


def array(object: Any, dtype: Any = None, *, copy: bool = True, **options: Any) -> Any:  # noqa: A002
    """``numpy.array``; a list holding Tensors becomes one Tensor, stacked on the graph.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> y = array([x[0] * x[1], 3.0 * x[0]])     # as autograd code writes it
    >>> y.sum().backward(); x.grad
    tensor([5., 1.])
    """
    return _array("array", object, dtype, copy, options)


def asarray(a: Any, dtype: Any = None, **options: Any) -> Any:
    """``numpy.asarray``: a Tensor stays itself (converted if ``dtype`` differs); lists
    holding Tensors are stacked as :func:`array` does; plain data is NumPy's array."""
    return _array("asarray", a, dtype, False, options)


def where(condition: TensorLike, x: TensorLike | None = None, y: TensorLike | None = None) -> Any:
    """``numpy.where``: with x and y, elements of x where the condition holds and of y
    elsewhere (differentiable in both); with the condition alone, the indices where it holds."""
    if x is None and y is None:
        return _np.where(data_of(condition))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    if holds_tensor((condition, x, y), ARGUMENTS):
        return _F.where(condition, x, y)
    return _np.where(condition, x, y)


def _real_valued(x: TensorLike) -> Any:
    """NumPy's ``real``, ``conj`` and ``conjugate`` of real values: the values themselves
    (chainrule's tensors are real)."""
    return x


def imag(val: TensorLike) -> Any:
    """``numpy.imag`` of real values: zeros (a constant, as the imaginary part of a real
    tensor does not change with it)."""
    if isinstance(val, Tensor):
        return Tensor._make(_np.zeros(val.shape, val.dtype), None)
    return _np.imag(val)


def angle(z: Any, deg: bool = False) -> Any:
    """``numpy.angle`` of real values: 0 for x ≥ 0 and π (180°) for x < 0, piecewise
    constant, so its gradient is 0."""
    if isinstance(z, Tensor):
        return Tensor._make(_np.angle(z._data, deg=deg), None)
    return _np.angle(z, deg=deg)


def full(shape: Any, fill_value: TensorLike, dtype: Any = None) -> Any:
    """``numpy.full``: differentiable in a Tensor ``fill_value`` (broadcast to ``shape``, so
    its gradient is the sum of the upstream gradient's elements)."""
    if not isinstance(fill_value, Tensor):
        return _np.full(shape, fill_value, dtype=dtype)
    value = fill_value if dtype is None else _F.astype(fill_value, dtype)
    return _F.broadcast_to(value, (shape,) if isinstance(shape, int) else tuple(shape))


def _like(name: str) -> Callable[..., Any]:
    numpy_fn = getattr(_np, name)

    def fn(a: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(a, Tensor):
            return numpy_fn(a, *args, **kwargs)
        return Tensor._make(numpy_fn(_layout(a), *args, **kwargs), None)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}``: for a Tensor, a new constant Tensor of its shape (no gradient)."
    return fn


class _IndexTrick:
    """``r_`` and ``c_``: chainrule's (:mod:`chainrule.construction`) when the key holds a Tensor,
    NumPy's otherwise."""

    def __init__(self, ours: Any, numpys: Any) -> None:
        self._ours, self._numpys = ours, numpys

    def __getitem__(self, key: Any) -> Any:
        keys = key if isinstance(key, tuple) else (key,)
        return self._ours[key] if holds_tensor(keys, ARGUMENTS) else self._numpys[key]


r_ = _IndexTrick(_construction.r_, _np.r_)
c_ = _IndexTrick(_construction.c_, _np.c_)

OWN: dict[str, Callable[..., Any]] = {
    "array": array,
    "asarray": asarray,
    "where": where,
    "imag": imag,
    "angle": angle,
    "full": full,
}
"""Every function of this module by its NumPy name."""
DIFFERENTIABLE: dict[str, Callable[..., Any]] = {"where": where}
"""The chainrule function behind each name that is differentiable (what NumPy's protocols call)."""
for _name in ("real", "conj", "conjugate"):
    OWN[_name] = dual(_name, getattr(_np, _name), _real_valued)
for _name in _CHAINRULE_ONLY:
    OWN[_name] = getattr(_reductions if _name == "logsumexp" else _F, _name)
for _name in ("zeros_like", "ones_like", "full_like", "empty_like"):
    OWN[_name] = _like(_name)
DIFFERENTIABLE.update(_SAME_NAME, **_RENAMED)
for _name, _fn in DIFFERENTIABLE.items():
    if _name not in OWN:
        OWN[_name] = dual(_name, getattr(_np, _name), _fn)
for _name in _PREDICATES:
    OWN[_name] = _predicate(_name)
for _name in _QUERIES:
    OWN[_name] = _query(_name)
globals().update(OWN)

__all__ = sorted(OWN) + ["c_", "fft", "linalg", "r_"]


__getattr__ = numpy_names(_np, __name__)
