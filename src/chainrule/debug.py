"""Where an op was called from, and the finite checks of ``detect_anomaly``.

Only used while a debug flag of :mod:`chainrule.mode` is on; the fast path never
calls into this module. The backward check is an observer of the reverse pass
(see :func:`chainrule.graph.backward`).
"""

from __future__ import annotations

import sys
from types import FrameType

import numpy as np

from . import backends, mode
from .graph import OutputGrads

_library: dict = {}  # code object -> whether it belongs to chainrule's own machinery
_APPS = "chainrule.apps"  # the applications built on chainrule count as user code


class AnomalyError(RuntimeError):
    """An op produced NaN or Inf, in its forward value or in its backward rule."""


def _in_library(frame) -> bool:
    code = frame.f_code
    found = _library.get(code)
    if found is None:
        name = frame.f_globals.get("__name__", "")
        found = (name == "chainrule" or name.startswith("chainrule.")) and not (
            name == _APPS or name.startswith(_APPS + ".")
        )
        _library[code] = found
    return found


def call_site() -> str:
    """``file:line`` of the innermost caller outside chainrule's machinery."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _in_library(frame):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _array(value):
    """The array behind ``value``: a Tensor's (a Function's argument, a gradient under
    create_graph), else value itself. By the slot's name: tensor.py imports this module."""
    return getattr(value, "_data", value)


def _describe(value) -> str:
    """How many NaN and Inf ``value`` holds, counted on a host copy (it is a message)."""
    arr = backends.host(_array(value))
    nan, inf = int(np.isnan(arr).sum()), int(np.isinf(arr).sum())
    parts = [f"{nan} NaN"] if nan else []
    parts += [f"{inf} Inf"] if inf else []
    return " and ".join(parts) + f" among {arr.size} values of shape {arr.shape}"


def _bad(value) -> bool:
    """Whether ``value`` holds a NaN or Inf. Another library's array is checked where it is,
    and only the one reduced boolean is read on the host."""
    arr = _array(value)
    if backends.is_array(arr):
        xp = backends.namespace_of(arr)
        return backends.kind(arr.dtype) in "fc" and not bool(backends.host(xp.all(xp.isfinite(arr))))
    arr = np.asarray(arr)
    return arr.dtype.kind in "fc" and not np.isfinite(arr).all()


def site() -> str | None:
    """The user's file:line for a new op while sites are captured or anomalies detected."""
    flags = mode.state()
    return call_site() if flags.capture_sites or flags.detect_anomaly else None


def on_record(op, arrays, out, node) -> None:
    """Called for every op while a debug flag is on: note the site, save all inputs,
    check the forward value."""
    where = site()
    if node is not None:
        node.site = where
        if mode.state().keep_inputs:
            node.saved = (tuple(arrays), out)
    check_forward(op.name, where, arrays, (out,))


def check_forward(name: str, where: str | None, inputs, outputs) -> None:
    """While detect_anomaly is on: raise when an output is NaN or Inf though no input was."""
    if not mode.state().detect_anomaly:
        return
    for k, out in enumerate(outputs):
        if _bad(out) and not any(_bad(a) for a in inputs):
            shapes = ", ".join(str(np.shape(a)) for a in inputs)
            which = f"output {k}; " if len(outputs) > 1 else ""
            raise AnomalyError(
                f"{name} at {where} produced {_describe(out)} in its forward value "
                f"({which}inputs of shape {shapes})"
            )


def check_backward(node, g, grads) -> None:
    """detect_anomaly's observer of the reverse pass: raise when the rule of ``node`` gave
    a NaN or Inf gradient from a finite upstream gradient ``g`` (for several outputs,
    an OutputGrads whose unused slots are None)."""
    upstream = g.grads if type(g) is OutputGrads else (g,)
    if any(u is not None and _bad(u) for u in upstream):
        return
    for i, gi in enumerate(grads):
        if gi is not None and _bad(gi):
            raise AnomalyError(
                f"{node.op.name} at {node.site or '?'} produced {_describe(gi)} in the gradient for "
                f"its input {i} (its backward rule; output shape {node.shape}, upstream gradient "
                "finite)"
            )
