"""Dtypes: the default floating dtype, and which dtypes can carry a gradient.

Python floats (and lists of them) become the default dtype, ``float32`` unless
changed with :func:`set_default_dtype`; NumPy arrays keep their dtype; Python ints
stay integers. Only floating dtypes carry gradients.

>>> import numpy as np, chainrule as cr
>>> cr.get_default_dtype()
dtype('float32')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# The dtypes by name, as NumPy dtype objects (``cr.tensor(x, dtype=cr.float64)``,
# ``t.dtype == cr.float32``); ``chainrule`` exports ``bool_`` as ``cr.bool``, PyTorch's name.
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

_FLOATING = (float16, float32, float64)
_default_dtype: np.dtype[Any] = float32


def get_default_dtype() -> np.dtype:
    """The dtype Python floats become (``float32`` at start)."""
    return _default_dtype


def set_default_dtype(dtype: npt.DTypeLike) -> None:
    """Make ``dtype`` (a floating dtype) the one Python floats become.

    >>> import numpy as np, chainrule as cr
    >>> cr.set_default_dtype(np.float64); cr.tensor(1.5).dtype
    dtype('float64')
    >>> cr.set_default_dtype(np.float32)
    """
    global _default_dtype
    dt = np.dtype(dtype)
    if dt not in _FLOATING:
        raise TypeError(f"set_default_dtype: expected float16, float32 or float64, got {dt}")
    _default_dtype = dt


def numpy_dtype(dtype: Any) -> np.dtype:
    """A dtype of any array namespace (or a NumPy dtype, type or name) as NumPy's dtype of the
    same name: chainrule's vocabulary (``float32``, ``int64``, ``bool``)."""
    if isinstance(dtype, (np.dtype, type, str)):
        return np.dtype(dtype)
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = str(dtype).rsplit(".", 1)[-1]  # array-api-strict's dtypes print as "array_api_strict.float64"
        np.dtype(name)  # a TypeError for what is not a dtype, before it is remembered
        _DTYPE_NAMES[dtype] = name
    return np.dtype(name)


_DTYPE_NAMES: dict[Any, str] = {}


def kind(dtype: Any) -> str:
    """NumPy's one-letter kind of any namespace's dtype: ``"f"``, ``"i"``, ``"u"``, ``"b"``, ``"c"``."""
    return dtype.kind if isinstance(dtype, np.dtype) else numpy_dtype(dtype).kind


def is_differentiable(dtype: npt.DTypeLike) -> bool:
    """True when values of ``dtype`` can carry a gradient (floating dtypes)."""
    return numpy_dtype(dtype).kind == "f"


def check_kind(dtype: npt.DTypeLike, what: str, source: str = "data") -> None:
    """Refuse what no op supports: complex numbers (not yet), strings, objects."""
    dtype = numpy_dtype(dtype)
    kind = dtype.kind
    if kind == "c":
        raise TypeError(
            f"{what}: complex {source} of dtype {np.dtype(dtype)} is not supported yet; "
            "split it into real and imaginary parts (two real tensors)"
        )
    if kind not in "biuf":
        raise TypeError(
            f"{what}: unsupported {source} of dtype {np.dtype(dtype)}; use numbers, nested "
            "lists of numbers or numeric NumPy arrays"
        )


def supported(dtype: npt.DTypeLike, what: str) -> np.dtype:
    """``dtype`` as a NumPy dtype, refused (TypeError) unless it is bool, integer or floating."""
    try:
        dt = numpy_dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{what}: {dtype!r} is not a dtype ({e})") from None
    check_kind(dt, what, "dtype")
    return dt


def floating_inputs(arrays: list[Any]) -> list[Any]:
    """The inputs of an op whose result is floating (exp, division, mean, ...), with every
    boolean or integer array converted to the default dtype first, as PyTorch does: NumPy
    would compute sigmoid of uint8 in float16 after negating the unsigned values."""
    default = _default_dtype
    return [a.astype(default) if type(a) is np.ndarray and a.dtype.kind in "biu" else a for a in arrays]
