"""Per-thread state: grad mode, forward-mode levels, transform depth and debug flags.

All of it lives in one immutable :class:`State` held by a ``contextvars.ContextVar``, so
each thread (and each asyncio task) has its own: ``no_grad`` in one thread never stops
recording in another, and a new thread starts with grad mode on. The hot path reads it
once per op (``state()``); a change replaces the whole object.

``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(flag)`` switch grad mode; each is
a context manager (and ``set_grad_enabled`` also takes effect when merely called, as
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
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")


class State:
    """One thread's autograd state (never changed in place: :meth:`replace` makes a new one).

    - ``grad``: whether ops are recorded for the reverse pass;
    - ``levels``: the forward-mode levels open now (see forward.py), a frozenset;
    - ``visible_below``: levels at or above this one are hidden from the op being run;
    - ``depth``: how many function transforms are running (see transforms.py);
    - ``batching``: the vmap levels open now (see batching.py), a frozenset;
    - ``capture_sites``, ``detect_anomaly``, ``keep_inputs``: the debug flags, and
      ``debug``, set when any of them is, so the hot path checks one name.
    """

    __slots__ = (
        "grad",
        "levels",
        "visible_below",
        "depth",
        "batching",
        "capture_sites",
        "detect_anomaly",
        "keep_inputs",
        "debug",
    )

    def __init__(
        self,
        grad: bool = True,
        levels: frozenset[int] = frozenset(),
        visible_below: float = float("inf"),
        depth: int = 0,
        batching: frozenset[int] = frozenset(),
        capture_sites: bool = False,
        detect_anomaly: bool = False,
        keep_inputs: bool = False,
    ) -> None:
        self.grad = grad
        self.levels = levels
        self.visible_below = visible_below
        self.depth = depth
        self.batching = batching
        self.capture_sites = capture_sites
        self.detect_anomaly = detect_anomaly
        self.keep_inputs = keep_inputs
        self.debug = capture_sites or detect_anomaly or keep_inputs

    def replace(self, **changes: Any) -> State:
        fields = {name: getattr(self, name) for name in self.__slots__ if name != "debug"}
        fields.update(changes)
        return State(**fields)


_START = State()  # never changed (replace makes new states), so one default serves every thread
_STATE: ContextVar[State] = ContextVar("chainrule_state", default=_START)
state = _STATE.get  # the hot path's one read per op


def change(**changes: Any) -> Token[State]:
    """Replace fields of this thread's state; returns the token that restores it."""
    return _STATE.set(_STATE.get().replace(**changes))


def restore(token: Token[State]) -> None:
    _STATE.reset(token)


def is_grad_enabled() -> bool:
    return _STATE.get().grad


class set_grad_enabled:  # noqa: N801 - a function-like name, as in PyTorch
    """Turn recording on or off now; as a context manager, restore the old mode on exit."""

    def __init__(self, mode: bool) -> None:
        self.previous = _STATE.get().grad
        change(grad=bool(mode))

    def __enter__(self) -> set_grad_enabled:
        return self

    def __exit__(self, *exc: object) -> None:
        change(grad=self.previous)


class _GradMode:
    """A context manager and decorator that sets grad mode to ``enabled`` inside it."""

    enabled = True
    token: Token[State]

    def __enter__(self) -> _GradMode:
        self.token = change(grad=self.enabled)
        return self

    def __exit__(self, *exc: object) -> None:
        restore(self.token)

    def __call__(self, fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
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
class DebugFlag:
    """Turn a flag on now (or to ``enabled``); as a context manager, restore it on exit."""

    flag = ""

    def __init__(self, enabled: bool = True) -> None:
        self.previous = getattr(_STATE.get(), self.flag)
        change(**{self.flag: bool(enabled)})

    def __enter__(self) -> DebugFlag:
        return self

    def __exit__(self, *exc: object) -> None:
        change(**{self.flag: self.previous})


class capture_sites(DebugFlag):  # noqa: N801
    """Record, for every op, the file:line of the user code that called it.

    Off by default (it costs a look at the call stack per op); ``explain``,
    ``detect_anomaly`` and localized ``gradcheck`` show these sites.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> print((x * 3).grad_fn.site)                # off: nothing recorded
    None
    >>> with cr.capture_sites():
    ...     y = x * 3
    >>> y.grad_fn.site                              # the file:line of the user's call
    '...:...'
    """

    flag = "capture_sites"


class keep_inputs(DebugFlag):  # noqa: N801
    """Save every op's inputs and output, whether or not its rule reads them."""

    flag = "keep_inputs"
