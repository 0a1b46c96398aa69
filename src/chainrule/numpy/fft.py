"""``numpy.fft``'s real-valued functions, differentiable on Tensors: ``fftshift``, ``ifftshift``.

Both are rolls: ``fftshift`` moves the zero-frequency entry to the middle of each axis
(a roll by n // 2), ``ifftshift`` undoes it (a roll by −(n // 2)); the gradient rolls
back. The transforms themselves (``fft``, ``rfft``, ...) have complex results, which
chainrule's real tensors cannot hold: on a Tensor they raise ``TypeError`` naming them
(NumPy's protocols), and on plain data they are NumPy's.

>>> import chainrule as cr
>>> import chainrule.numpy as cnp
>>> cnp.fft.fftshift(cr.tensor([0.0, 1.0, 2.0, -2.0, -1.0]))
tensor([-2., -1.,  0.,  1.,  2.])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as _np

from .. import functions as _F
from ..tensor import Tensor, TensorLike
from .dispatch import dual, numpy_names


def _shifted(x: TensorLike, axes: int | Sequence[int] | None, sign: int) -> Tensor:
    t = x if isinstance(x, Tensor) else Tensor(x)
    axes = tuple(range(t.ndim)) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    return _F.roll(t, [sign * (t.shape[a] // 2) for a in axes], axis=axes)


def _fftshift(x: TensorLike, axes: int | Sequence[int] | None = None) -> Tensor:
    return _shifted(x, axes, 1)


def _ifftshift(x: TensorLike, axes: int | Sequence[int] | None = None) -> Tensor:
    return _shifted(x, axes, -1)


DIFFERENTIABLE = {"fftshift": _fftshift, "ifftshift": _ifftshift}
"""The chainrule function behind each name (what NumPy's protocols call)."""
OWN = {name: dual(name, getattr(_np.fft, name), fn) for name, fn in DIFFERENTIABLE.items()}
"""Every function of this module by its NumPy name."""
globals().update(OWN)

__all__ = sorted(OWN)


__getattr__ = numpy_names(_np.fft, __name__)
