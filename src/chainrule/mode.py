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


# Seeing the chain rule (explain, detect_anomaly, localized gradcheck) needs more than the
# fast path records: the user's file:line of each op, finite checks, every input saved.
# Each is a flag; `_debug` is set when any is, so the hot path checks one name.
_capture_sites = False
_detect_anomaly = False
_keep_inputs = False
_debug = False


def _set_debug_flag(name: str, value: bool) -> bool:
    global _debug
    previous = globals()[name]
    globals()[name] = bool(value)
    _debug = _capture_sites or _detect_anomaly or _keep_inputs
    return previous


class _DebugFlag:
    """Turn a flag on now (or to ``enabled``); as a context manager, restore it on exit."""

    flag = ""

    def __init__(self, enabled: bool = True) -> None:
        self.previous = _set_debug_flag(self.flag, enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        _set_debug_flag(self.flag, self.previous)


class capture_sites(_DebugFlag):  # noqa: N801
    """Record, for every op, the file:line of the user code that called it.

    Off by default (it costs a look at the call stack per op); ``explain``,
    ``detect_anomaly`` and localized ``gradcheck`` show these sites.

    >>> import chainrule as cr
    >>> with cr.capture_sites():
    ...     y = cr.tensor(2.0, requires_grad=True) * 3
    >>> y.grad_fn.site.endswith(":2")
    True
    """

    flag = "_capture_sites"


class keep_inputs(_DebugFlag):  # noqa: N801
    """Save every op's inputs and output, whether or not its rule reads them."""

    flag = "_keep_inputs"
