"""``detect_anomaly``: stop at the first op whose forward value or backward rule gives
NaN or Inf, and name it with the user's file:line.

>>> import chainrule as cr
>>> x = cr.tensor([0.0, 4.0], requires_grad=True)
>>> with cr.detect_anomaly():
...     y = cr.where(x > 0, cr.sqrt(x), 0.0).sum()
...     y.backward()
Traceback (most recent call last):
...
chainrule.debug.AnomalyError: sqrt at ... produced 1 NaN ...
"""

from __future__ import annotations

from .debug import AnomalyError
from .mode import DebugFlag

__all__ = ["AnomalyError", "detect_anomaly"]


class detect_anomaly(DebugFlag):  # noqa: N801
    """Inside this block every op's value and every backward step's gradients are checked
    for NaN and Inf; the first op to produce one raises :class:`AnomalyError`. Off by
    default, and free when off. The backward check observes the reverse pass itself
    (``chainrule.debug.check_backward``, an observer of ``chainrule.graph.backward``)."""

    flag = "detect_anomaly"
