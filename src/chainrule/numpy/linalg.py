"""``numpy.linalg``'s functions, differentiable on Tensors: ``chainrule.numpy.linalg``.

The functions of :mod:`chainrule.linalg` under their NumPy names: chainrule's on Tensors,
NumPy's own on plain data. Every other name (``LinAlgError``, functions chainrule lacks)
is ``numpy.linalg``'s.

>>> import chainrule as cr
>>> import chainrule.numpy as cnp
>>> a = cr.tensor([[2.0, 0.0], [0.0, 4.0]], requires_grad=True)
>>> cnp.linalg.det(a).backward(); a.grad                   # ∇ det A = det A · A⁻ᵀ
tensor([[4., 0.],
        [0., 2.]])
"""

from __future__ import annotations

import numpy as _np

from .. import linalg as _linalg
from .dispatch import dual, numpy_names

OWN = {name: dual(name, getattr(_np.linalg, name), getattr(_linalg, name)) for name in _linalg.__all__}
"""Every function of this module by its NumPy name."""
DIFFERENTIABLE = {name: getattr(_linalg, name) for name in _linalg.__all__}
"""The chainrule function behind each name (what NumPy's protocols call)."""
globals().update(OWN)

__all__ = sorted(OWN)


__getattr__ = numpy_names(_np.linalg, __name__)
