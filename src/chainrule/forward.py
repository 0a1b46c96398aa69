"""Forward mode: tangents carried along with values through the same op table.

Inside ``jvp`` every Tensor may carry, besides its value x, a tangent ẋ = dx/dε for
each active *level* ε (one level per forward-mode transform in progress). When an op
y = f(x₁, …, xₙ) is recorded, its output gets, for each level, the tangent

    ẏ = Σᵢ ∂f/∂xᵢ · ẋᵢ        (the op's JVP rule, from the derivative table),

so a Jacobian-vector product costs about one extra forward pass and builds no
backward graph. A tangent may carry leading batch axes (many directions at once):
its shape is ``batch + x.shape``.

Levels nest without confusing their perturbations: the tangent for level L is
computed with only the levels below L visible, from the lowest level up, so a value
carries ∂/∂ε₁, ∂/∂ε₂ and, through the tangents' own tangents, ∂²/∂ε₁∂ε₂.

The rules run on the recording namespace, so a tangent is itself a recorded value:
reverse mode can differentiate it (grad of jvp), and the backward pass can carry
tangents (forward over reverse, used by ``hessian``).
"""

from __future__ import annotations

import itertools

from . import mode
from .ops.core import pushforward

_levels = itertools.count(1)  # level numbers are unique across threads; which are open is per thread


def open_level() -> int:
    """Start a forward-mode level (a new infinitesimal ε) in this thread; returns its number."""
    level = next(_levels)
    mode.change(levels=mode.state().levels | {level})
    return level


def close_level(level: int) -> None:
    mode.change(levels=mode.state().levels - {level})


def live_tangents(t) -> dict:
    """The tangents of ``t`` at levels that are open and visible now."""
    found = getattr(t, "_tangents", None)
    if not found:
        return {}
    now = mode.state()
    return {level: v for level, v in found.items() if level < now.visible_below and level in now.levels}


def attach_tangents(op, args, out, params, recording) -> None:
    """Give ``out`` = op(*args) a tangent for every live level among its inputs.

    ``recording`` is the namespace the JVP rules run on: the one ``tensor.record``, which
    calls this for every op while a level is open, passes (``tensor.RECORDING``).
    """
    per_arg = []
    levels: set = set()
    for a in args:
        found = live_tangents(a)
        per_arg.append(found)
        levels.update(found)
    if not levels:
        return
    out._tangents = {}
    for level in sorted(levels):  # lowest first: a higher level's rule reads the lower tangents
        token = mode.change(visible_below=level)
        try:
            out._tangents[level] = pushforward(
                op, [found.get(level) for found in per_arg], args, out, params, recording
            )
        finally:
            mode.restore(token)
