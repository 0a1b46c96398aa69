"""Which array library holds a tensor's values, and on which device.

A Tensor holds an array of one array library: a NumPy ``ndarray`` (the default, on the
device ``"cpu"``), a CuPy array (a GPU), or an array of any library that follows the
Python array API standard (array-api-strict, for one). Its namespace is that library's,
found once per array type with ``array_api_compat.array_namespace`` (the extra
``backends``; NumPy needs nothing). Its device is the array's ``device``.

An op runs where its inputs are: their arrays must share one namespace and one device,
and nothing moves between devices without being asked (``t.to(device)``, ``t.cpu()``,
``t.numpy()``). Mixing devices in one op raises a ``RuntimeError`` naming both.

>>> import numpy as np
>>> namespace_of(np.zeros(2)) is np, device_of(np.zeros(2))
(True, 'cpu')
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np

from . import dtypes
from .dtypes import check_kind, kind, numpy_dtype

__all__ = [
    "DeviceMismatch",
    "astype",
    "call",
    "check_kind",
    "copy",
    "describe",
    "device_of",
    "dtype_in",
    "host",
    "is_array",
    "is_device_name",
    "is_dtype",
    "kind",
    "layout",
    "move",
    "namespace_of",
    "namespace_of_device",
    "numpy_dtype",
    "ones_like",
    "same_place",
    "zeros",
]

_NAMESPACES: dict[type, Any] = {np.ndarray: np}


class DeviceMismatch(RuntimeError):
    """An op was given arrays on different devices, or of different array libraries."""


def is_array(value: Any) -> bool:
    """Whether ``value`` is an array of a library other than NumPy that states its namespace
    (the standard's ``__array_namespace__``): what a Tensor may hold besides an ndarray."""
    kind_ = type(value)
    return (
        hasattr(kind_, "__array_namespace__")
        and not issubclass(kind_, (np.ndarray, np.generic))
        and not getattr(kind_, "wraps_arrays", False)  # a chainrule Tensor holds one, it is not one
    )


def namespace_of(array: Any) -> Any:
    """The array namespace of ``array``: ``numpy`` for an ndarray, else the one
    ``array_api_compat`` gives (looked up once per array type)."""
    kind_ = type(array)
    xp = _NAMESPACES.get(kind_)
    if xp is None:
        try:
            from array_api_compat import array_namespace
        except ImportError:  # pragma: no cover - the extra is in the test extras
            raise ImportError(
                f"a tensor on a {kind_.__module__}.{kind_.__name__} needs array-api-compat: "
                'pip install "chainrule[backends]"'
            ) from None
        xp = array_namespace(array)
        _NAMESPACES[kind_] = xp
    return xp


def device_of(array: Any) -> Any:
    """The device ``array`` lives on (``"cpu"`` for NumPy)."""
    return "cpu" if type(array) is np.ndarray else array.device


def dtype_in(xp: Any, dtype: Any) -> Any:
    """The dtype of namespace ``xp`` named as ``dtype`` (a NumPy dtype, type or name, or ``xp``'s own)."""
    if xp is np:
        return np.dtype(dtype)
    if isinstance(dtype, (np.dtype, type, str)):
        name = np.dtype(dtype).name
        if not hasattr(xp, name):
            library = getattr(xp, "__name__", "this array library")
            raise TypeError(f"{library} has no dtype {name}; use one it has (float32, float64, ...)")
        return getattr(xp, name)
    return dtype


def is_dtype(value: Any) -> bool:
    """Whether ``value`` is a dtype of some array library (NumPy's, or one named like them:
    ``array_api_strict.float64``)."""
    try:
        numpy_dtype(value)
    except TypeError:
        return False
    return True


def astype(array: Any, dtype: Any) -> Any:
    """``array`` converted to ``dtype`` (by its NumPy name) in its own namespace."""
    xp = namespace_of(array)
    return xp.astype(array, dtype_in(xp, dtypes.supported(numpy_dtype(dtype), "astype")))


def layout(array: Any) -> np.ndarray:
    """A NumPy array with ``array``'s shape and dtype that holds no values (one zero,
    broadcast): what an op's ``prepare`` reads of an input on another device."""
    return np.broadcast_to(np.zeros((), numpy_dtype(array.dtype)), array.shape)


def is_device_name(name: str) -> bool:
    """Whether ``name`` names a device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"gpu"``."""
    return name in ("cpu", "cuda", "gpu") or (name.startswith("cuda:") and name[5:].isdigit())


def namespace_of_device(device: Any) -> Any:
    """The namespace whose arrays live on ``device``: NumPy for ``"cpu"`` (or None), CuPy for
    ``"cuda"``, ``"cuda:N"``, ``"gpu"`` and CuPy's Device objects, and for another library's
    device object the library that defines it (array-api-strict's ``Device("device1")``)."""
    if device is None or (isinstance(device, str) and device == "cpu"):
        return np
    if isinstance(device, str):
        if is_device_name(device):
            return _cupy()
        raise ValueError(
            f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:N', or a device object of an "
            "array library (t.device of one of its tensors)"
        )
    module = type(device).__module__.split(".")[0]
    if module == "cupy":
        return _cupy()
    library = sys.modules.get(module)
    if library is None or not hasattr(library, "asarray"):
        raise ValueError(f"unknown device {device!r}: its library {module!r} is not an array library")
    return namespace_of(library.asarray(0))


def _cupy() -> Any:
    try:
        return namespace_of(importlib.import_module("cupy").zeros(0))
    except ImportError:
        raise RuntimeError(
            'a CUDA device needs CuPy: pip install "chainrule[gpu]" (cupy-cuda12x) on a machine with an '
            "NVIDIA GPU"
        ) from None


def _device_object(xp: Any, device: Any) -> Any:
    """``device`` as ``xp`` names it (CuPy takes a Device, not the string ``"cuda:1"``)."""
    if isinstance(device, str) and device != "cpu" and xp.__name__.endswith("cupy"):
        cuda = importlib.import_module("cupy").cuda
        return cuda.Device(int(device.split(":")[1]) if ":" in device else 0)
    return device


def host(array: Any) -> np.ndarray:
    """``array``'s values copied into a NumPy array, from any device: an explicit transfer,
    as PyTorch's ``.cpu().numpy()`` (NumPy arrays are returned as they are)."""
    if isinstance(array, np.ndarray):
        return array
    if not is_array(array):  # a NumPy scalar, a number
        return np.asarray(array)
    get = getattr(array, "get", None)  # CuPy's device-to-host copy
    if callable(get) and type(array).__module__.startswith("cupy"):
        return np.asarray(get())
    try:
        return np.from_dlpack(array)
    except (RuntimeError, BufferError, TypeError, ValueError):  # not on the host: move it there
        xp = namespace_of(array)
        return np.from_dlpack(array.to_device(_host_device(xp)))


def _host_device(xp: Any) -> Any:
    info = xp.__array_namespace_info__()
    for device in info.devices():
        if "cpu" in str(device).lower():
            return device
    return info.default_device()


def move(array: Any, device: Any) -> Any:
    """``array`` on ``device`` (see :func:`namespace_of_device`), copied only when it is not
    there already."""
    target = namespace_of_device(device)
    if target is np:
        return host(array)
    device = _device_object(target, device)
    if type(array) is not np.ndarray and namespace_of(array) is target:
        if device_of(array) == device:
            return array
        return array.to_device(device)
    return target.asarray(host(array), device=device)


def same_place(arrays: list[Any], what: str) -> tuple[Any, Any]:
    """The namespace and device shared by ``arrays`` (the arrays among an op's inputs),
    or a :class:`DeviceMismatch` naming both places when two differ."""
    first = arrays[0]
    xp, device = namespace_of(first), device_of(first)
    for a in arrays[1:]:
        if type(a) is not type(first) or device_of(a) != device:
            raise DeviceMismatch(
                f"{what}: its inputs are on different devices: {describe(first)} and {describe(a)}; "
                "move one with .to(device) (t.to(other.device)) first"
            )
    return xp, device


def call(name: str, *operands: Any) -> Any:
    """The namespace function ``name`` (a standard elementwise function: ``less``,
    ``logical_and``) on operands of one place: arrays of one namespace and device, and numbers."""
    placed = [a for a in operands if is_array(a) or isinstance(a, np.ndarray)]
    xp, _ = same_place(placed, name)
    return getattr(xp, name)(*operands)


def zeros(shape: tuple[int, ...], like: Any, dtype: Any = None) -> Any:
    """Zeros of ``shape`` with the namespace and device of the array ``like``, in ``dtype``
    (a NumPy dtype, type or name, or one of like's namespace; like's own by default). A
    NumPy scalar counts as NumPy's."""
    if isinstance(like, (np.ndarray, np.generic)):
        return np.zeros(shape, dtype=like.dtype if dtype is None else dtype)
    xp = namespace_of(like)
    return xp.zeros(shape, dtype=like.dtype if dtype is None else dtype_in(xp, dtype), device=like.device)


def ones_like(array: Any) -> Any:
    """Ones with the shape, dtype, namespace and device of ``array``."""
    if type(array) is np.ndarray:
        return np.ones(array.shape, dtype=array.dtype)
    return namespace_of(array).ones(array.shape, dtype=array.dtype, device=array.device)


def copy(array: Any) -> Any:
    """A copy of ``array`` in its own namespace, on its device."""
    return namespace_of(array).asarray(array, copy=True)


def describe(array: Any) -> str:
    """Where ``array`` lives, for messages: its library and its device."""
    library = type(array).__module__.split(".")[0]
    return f"{library} on {device_of(array)!r}"
