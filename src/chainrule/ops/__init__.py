"""The derivative table: importing this package declares every op into ``OPS``."""

from . import arithmetic, elementwise, linalg, losses, matrix, reduction, scan, shape  # noqa: F401 - they register ops
from .core import OPS, OpDef, Sample, pullback, pushforward, sum_to

__all__ = ["OPS", "OpDef", "Sample", "pullback", "pushforward", "sum_to"]
