"""Making tensors: from data, filled with a value, ranges and random draws.

Every function takes ``dtype=``, ``requires_grad=`` and ``device=`` (None or ``"cpu"``: NumPy;
``"cuda"`` or a device of another array library: there, see :mod:`chainrule.backends`; the
values are made on the host and copied there once). Shapes may be given as
``zeros(2, 3)`` or ``zeros((2, 3))``, with integer sizes (``zeros(2.5)`` is a TypeError,
not two elements), and ``requires_grad`` is True or False. Random functions take an explicit ``seed``
(an int or a ``numpy.random.Generator``). Without one they draw from the generator that
:func:`manual_seed` made in this thread (PyTorch's ``torch.manual_seed``), or from fresh entropy
when there is none: the seed is per thread (a ``contextvars`` variable, as grad mode), where
PyTorch's is one for the process.

>>> import chainrule as cr
>>> _ = cr.manual_seed(0); a = cr.randn(3)
>>> _ = cr.manual_seed(0); b = cr.randn(3)
>>> a.tolist() == b.tolist()
True
"""

from __future__ import annotations

import operator
from contextvars import ContextVar
from typing import Any, SupportsIndex, TypeAlias

import numpy as np
import numpy.typing as npt

from . import backends, dtypes
from .tensor import Shape, Tensor, TensorLike, as_array

Seed: TypeAlias = "int | np.random.Generator | None"
"""What random functions take: an int seed, a generator to draw from, or None (fresh entropy)."""


def tensor(
    data: TensorLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A new leaf tensor holding a copy of ``data``, on ``device`` (by default where ``data``
    is: an array of CuPy or another array library keeps its library and device).

    >>> import chainrule as cr
    >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def _size(what: str, n: SupportsIndex) -> int:
    """One dimension's size: an integer (Python's, NumPy's or a 0-d integer array), never
    a float or bool that would be truncated or read as 1 (``zeros(2.5)`` is a mistake,
    not a request for 2 elements)."""
    try:
        size = None if isinstance(n, bool) else operator.index(n)
    except TypeError:
        size = None
    if size is None:
        raise TypeError(
            f"{what}: a size must be an integer, got {type(n).__name__} {n!r}; "
            "write the shape with ints, e.g. (2, 3)"
        )
    return size


def _shape(what: str, shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``f(2, 3)``, ``f((2, 3))`` or ``f(np.array([2, 3]))`` as the tuple (2, 3), every size
    checked by :func:`_size`."""
    if len(shape) == 1 and (isinstance(shape[0], (tuple, list)) or np.ndim(shape[0]) == 1):
        shape = tuple(shape[0])
    return tuple(_size(what, n) for n in shape)


def _requires_grad(what: str, flag: object) -> bool:
    """``flag`` when it is a bool (Python's or NumPy's); a TypeError otherwise, before any
    array is made or any random number drawn (``requires_grad="no"`` is truthy)."""
    if not isinstance(flag, (bool, np.bool_)):
        raise TypeError(f"{what}: requires_grad must be True or False, got {type(flag).__name__} {flag!r}")
    return bool(flag)


def _leaf(arr: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    t = Tensor._make(arr if device is None else backends.move(arr, device), None)
    return t.requires_grad_(True) if requires_grad else t


def _data(t: TensorLike) -> Any:
    return t._data if isinstance(t, Tensor) else as_array(t)


def _device_of(t: TensorLike, device: Any) -> Any:
    """``device``, or by default the device of ``t`` (a ``*_like`` result stays with its model)."""
    if device is None and isinstance(t, Tensor):
        return t.device
    return device


def _float(dtype: npt.DTypeLike | None) -> np.dtype:
    return np.dtype(dtype) if dtype is not None else dtypes.get_default_dtype()


def zeros(
    *shape: Shape, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros of ``shape`` (``zeros(2, 3)`` or ``zeros((2, 3))``), the default dtype unless ``dtype``."""
    requires_grad = _requires_grad("zeros", requires_grad)
    return _leaf(np.zeros(_shape("zeros", shape), dtype=_float(dtype)), requires_grad, device)


def ones(
    *shape: Shape, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones of ``shape``, as :func:`zeros`."""
    requires_grad = _requires_grad("ones", requires_grad)
    return _leaf(np.ones(_shape("ones", shape), dtype=_float(dtype)), requires_grad, device)


def full(
    shape: Shape,
    fill_value: npt.ArrayLike,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (a float fill gives the default dtype)."""
    requires_grad = _requires_grad("full", requires_grad)
    shape = _shape("full", (shape,))
    if dtype is None:
        dtype = as_array(fill_value, what="full").dtype
    return _leaf(np.full(shape, fill_value, dtype=dtype), requires_grad, device)


def eye(
    n: int,
    m: int | None = None,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """The n × m identity (n × n when ``m`` is None)."""
    requires_grad = _requires_grad("eye", requires_grad)
    m = None if m is None else _size("eye", m)
    return _leaf(np.eye(_size("eye", n), m, dtype=_float(dtype)), requires_grad, device)


def arange(
    start: float = 0,
    stop: float | None = None,
    step: float = 1,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    *,
    end: float | None = None,
    device: Any = None,
) -> Tensor:
    """Evenly spaced values in [start, stop); integers unless an argument is a float.
    ``arange(stop)``, ``arange(start, stop, step)``; ``end=`` is PyTorch's name for ``stop``."""
    requires_grad = _requires_grad("arange", requires_grad)
    if end is not None:
        if stop is not None:
            raise TypeError("arange: got both stop and end= (end is PyTorch's name for stop); give one")
        stop = end
    if stop is None:
        start, stop = 0, start
    if dtype is None and any(isinstance(v, float) for v in (start, stop, step)):
        dtype = dtypes.get_default_dtype()
    return _leaf(np.arange(start, stop, step, dtype=dtype), requires_grad, device)


def empty(
    *shape: Shape, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of ``shape`` whose values are whatever the memory held (``np.empty``): fill it before use."""
    requires_grad = _requires_grad("empty", requires_grad)
    return _leaf(np.empty(_shape("empty", shape), dtype=_float(dtype)), requires_grad, device)


def zeros_like(
    t: TensorLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros of ``t``'s shape and dtype (or ``dtype``)."""
    requires_grad = _requires_grad("zeros_like", requires_grad)
    return _leaf(np.zeros_like(backends.layout(_data(t)), dtype=dtype), requires_grad, _device_of(t, device))


def ones_like(
    t: TensorLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones of ``t``'s shape and dtype (or ``dtype``)."""
    requires_grad = _requires_grad("ones_like", requires_grad)
    return _leaf(np.ones_like(backends.layout(_data(t)), dtype=dtype), requires_grad, _device_of(t, device))


def full_like(
    t: TensorLike,
    fill_value: npt.ArrayLike,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``fill_value`` in ``t``'s shape and dtype (or ``dtype``)."""
    requires_grad = _requires_grad("full_like", requires_grad)
    return _leaf(
        np.full_like(backends.layout(_data(t)), fill_value, dtype=dtype), requires_grad, _device_of(t, device)
    )


def empty_like(
    t: TensorLike, dtype: npt.DTypeLike | None = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of ``t``'s shape and dtype (or ``dtype``) whose values are arbitrary (``np.empty_like``)."""
    requires_grad = _requires_grad("empty_like", requires_grad)
    return _leaf(np.empty_like(backends.layout(_data(t)), dtype=dtype), requires_grad, _device_of(t, device))


_SEEDED: ContextVar[np.random.Generator | None] = ContextVar("chainrule_seeded_generator", default=None)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator that randn, rand, randint and normal draw from when given no ``seed``
    (in this thread), as ``torch.manual_seed``; returns it. The same seed gives the same draws.

    >>> import chainrule as cr
    >>> _ = cr.manual_seed(7); first = cr.rand(2)
    >>> _ = cr.manual_seed(7); cr.rand(2).tolist() == first.tolist()
    True
    """
    generator = np.random.default_rng(_size("manual_seed", seed))
    _SEEDED.set(generator)
    return generator


def generator(seed: Seed) -> np.random.Generator:
    """The generator a draw uses: the one given, a new one from an int seed, or (None) the one
    :func:`manual_seed` set in this thread, else one from fresh entropy. Initializers and
    dropout in ``cr.nn`` draw from it too."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seeded = _SEEDED.get()
        if seeded is not None:
            return seeded
    return np.random.default_rng(seed)


def randn(
    *shape: Shape,
    seed: Seed = None,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Standard normal draws; the same ``seed`` gives the same numbers."""
    requires_grad = _requires_grad("randn", requires_grad)
    arr = generator(seed).standard_normal(_shape("randn", shape)).astype(_float(dtype))
    return _leaf(arr, requires_grad, device)


def rand(
    *shape: Shape,
    seed: Seed = None,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Uniform draws from [0, 1); the same ``seed`` gives the same numbers."""
    requires_grad = _requires_grad("rand", requires_grad)
    arr = generator(seed).random(_shape("rand", shape)).astype(_float(dtype))
    return _leaf(arr, requires_grad, device)


def randint(
    low: int,
    high: int | None = None,
    size: Shape | None = None,
    *,
    seed: Seed = None,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high) (from [0, low) without ``high``), as NumPy's
    ``randint(low, high, size)``; PyTorch's ``randint(high, size)`` is read as [0, high) too.
    ``int64`` unless ``dtype``; the same ``seed`` gives the same numbers.

    >>> import chainrule as cr
    >>> cr.randint(0, 10, (2, 3), seed=0).shape
    (2, 3)
    """
    requires_grad = _requires_grad("randint", requires_grad)
    if size is None and isinstance(high, (tuple, list)):  # PyTorch's randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    shape = None if size is None else _shape("randint", (size,))
    arr = generator(seed).integers(low, high, shape, dtype=np.int64 if dtype is None else dtype)
    return _leaf(np.asarray(arr), requires_grad, device)


def normal(
    mean: TensorLike = 0.0,
    std: TensorLike = 1.0,
    size: Shape | None = None,
    *,
    seed: Seed = None,
    dtype: npt.DTypeLike | None = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Normal draws with ``mean`` and standard deviation ``std`` (numbers, or arrays that broadcast
    to ``size``; their broadcast shape without it), as ``torch.normal`` and NumPy's
    ``normal(loc, scale, size)``. The draws carry no gradient to mean or std (write
    ``mean + std * cr.randn(...)`` for one). The default dtype unless ``dtype`` or floating arrays.

    >>> import chainrule as cr
    >>> round(cr.normal(2.0, 0.5, (10000,), seed=0).mean().item(), 1)
    2.0
    """
    requires_grad = _requires_grad("normal", requires_grad)
    loc, scale = as_array(mean, what="normal"), as_array(std, what="normal")
    if dtype is None:
        found = np.result_type(loc, scale)
        dtype = found if found.kind == "f" else dtypes.get_default_dtype()
    shape = None if size is None else _shape("normal", (size,))
    arr = np.asarray(generator(seed).normal(loc, scale, shape)).astype(dtype)
    return _leaf(arr, requires_grad, device)
