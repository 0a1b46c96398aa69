"""Grad mode: whether operations are recorded for the reverse pass.

``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(flag)`` switch it; each is a
context manager (and ``set_grad_enabled`` also takes effect when merely called, as
in PyTorch). ``no_grad`` and ``enable_grad`` also decorate functions.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> with cr.no_grad():
...     y = x * 2
>>> y.requires_grad
False
"""

from __future__ import annotations

import functools

_grad_enabled = True
_forward_levels = 0  # how many forward-mode levels are active (see forward.py)


def is_grad_enabled() -> bool:
    return _grad_enabled


class set_grad_enabled:  # noqa: N801 - a function-like name, as in PyTorch
    """Turn recording on or off now; as a context manager, restore the old mode on exit."""

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = bool(mode)

    def __enter__(self) -> set_grad_enabled:
        return self

    def __exit__(self, *exc) -> None:
        global _grad_enabled
        _grad_enabled = self.previous


class _GradMode:
    """A context manager and decorator that sets grad mode to ``enabled`` inside it."""

    enabled = True

    def __enter__(self):
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = self.enabled
        return self

    def __exit__(self, *exc) -> None:
        global _grad_enabled
        _grad_enabled = self.previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801
    """Do not record operations inside this block (or decorated function)."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record operations inside this block even within ``no_grad``."""

    enabled = True
