"""One module per library, each defining a builder per workload it runs.

A builder takes a problem (``problems.py``) and the library's options
(``suite.LIBRARIES``) and returns a function of no arguments that does one unit of
the workload — a training step, a gradient, a Jacobian — and returns its outputs by
name (the same names as ``hand_numpy``'s, which the gradient check compares with).
``to_numpy`` turns one of those outputs into an ndarray. Peers are imported only by
their own module, which the runner imports only in that peer's subprocess.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..suite import LIBRARIES


def load(name: str) -> ModuleType:
    """The module of library ``name`` (``suite.LIBRARIES``); importing it imports the library."""
    return importlib.import_module(f"{__name__}.{LIBRARIES[name].module}")
