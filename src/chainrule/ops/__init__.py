"""The derivative table: importing this package declares every op into ``OPS``."""

from . import (  # noqa: F401 - they register ops
    activations,
    arithmetic,
    assembly,
    construction,
    decomp,
    elementwise,
    linalg,
    losses,
    matrix,
    reduction,
    scan,
    shape,
    sorting,
    statistics,
)
from .core import OPS, OpDef, Sample, pullback, pushforward, sum_to

__all__ = ["OPS", "OpDef", "Sample", "pullback", "pushforward", "sum_to"]
