"""The NumPy functions a forward may call beyond the array API standard
(``FORWARD_EXTRAS`` in ``xp.py``), composed from standard functions for a namespace that
lacks them.

NumPy and CuPy have every extra under its NumPy name; another namespace (array-api-strict,
or any array-API library) gets these compositions. :func:`with_extras` gives a namespace
that has them all, which is what ``OpDef.forward_on`` binds a forward to. Each composition
computes what NumPy's function computes (``fmod``'s sign, ``fmax``'s NaN rule,
``nan_to_num``'s defaults), and ``tests/test_backends.py`` checks it against NumPy on
array-api-strict arrays.

>>> import numpy as np
>>> with_extras(np) is np
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

__all__ = ["FALLBACKS", "with_extras"]


def exp2(xp: Any, x: Any) -> Any:
    return 2.0**x


def rad2deg(xp: Any, x: Any) -> Any:
    return x * (180 / math.pi)


def fmax(xp: Any, x: Any, y: Any) -> Any:
    """The maximum, where a NaN loses to a number."""
    return xp.where(xp.isnan(y), x, xp.where(xp.isnan(x), y, xp.maximum(x, y)))


def fmin(xp: Any, x: Any, y: Any) -> Any:
    """The minimum, where a NaN loses to a number."""
    return xp.where(xp.isnan(y), x, xp.where(xp.isnan(x), y, xp.minimum(x, y)))


def fmod(xp: Any, x: Any, y: Any) -> Any:
    """x − trunc(x / y) · y, with x's sign: ``remainder`` (y's sign, exact), moved by y
    where the signs differ; a zero keeps x's sign, and a finite x over an infinite y is x."""
    r = xp.remainder(x, y)
    r = xp.where((r != 0) & ((r < 0) != (x < 0)), r - y, r)
    r = xp.where(r == 0, xp.copysign(r, x), r)
    return xp.where(xp.isinf(y) & xp.isfinite(x), x, r)


def logaddexp2(xp: Any, x: Any, y: Any) -> Any:
    """log2(2ˣ + 2ʸ) = logaddexp(x ln 2, y ln 2) / ln 2."""
    return xp.logaddexp(x * math.log(2), y * math.log(2)) / math.log(2)


def nan_to_num(
    xp: Any, x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Any:
    """x with NaN, +inf and −inf replaced (by default with 0 and the largest finite values)."""
    info = xp.finfo(x.dtype)
    top = info.max if posinf is None else posinf
    bottom = info.min if neginf is None else neginf
    return xp.where(xp.isnan(x), nan, xp.where(x == math.inf, top, xp.where(x == -math.inf, bottom, x)))


FALLBACKS: dict[str, Callable[..., Any]] = {
    "exp2": exp2,
    "rad2deg": rad2deg,
    "fmax": fmax,
    "fmin": fmin,
    "fmod": fmod,
    "logaddexp2": logaddexp2,
    "nan_to_num": nan_to_num,
}
"""The extras composed here; ``einsum``, ``add.at`` and ``gradient`` have none yet."""


class _WithExtras:
    """A namespace's own functions, and the fallbacks for the extras it lacks."""

    def __init__(self, xp: Any) -> None:
        self._xp = xp

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._xp, name)
        except AttributeError:
            if name in FALLBACKS:
                return functools.partial(FALLBACKS[name], self._xp)
            raise


def with_extras(xp: Any) -> Any:
    """``xp`` itself when it has every extra with a fallback here (NumPy, CuPy), else ``xp``
    with the fallbacks for those it lacks."""
    if all(hasattr(xp, name) for name in FALLBACKS):
        return xp
    return _WithExtras(xp)
