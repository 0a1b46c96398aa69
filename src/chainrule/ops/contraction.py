"""einsum's grammar beyond the subscript string: the sublist form, and contraction paths.

``einsum(a, [0, 1], b, [1, 2], [0, 2])`` is NumPy's sublist form of ``einsum("ab,bc->ac",
a, b)``: each operand is followed by a list of axis labels (ints below 52, or ``...``),
and an optional last list is the output. :func:`subscripts` writes it as the string.

``optimize=`` splits a contraction of three or more operands into pairwise ones, in the
order a path finder chooses: NumPy's ``einsum_path`` (``"greedy"``, ``"optimal"`` or an
explicit path ``["einsum_path", (0, 1), ...]``), or ``opt_einsum``'s (``True`` uses its
``"auto"`` when it is installed; any other of its names, such as ``"dp"``, needs it). Each
pair is one einsum row of the table, so the reverse pass also runs pair by pair.

>>> subscripts(([0], [0, 1]), [1])                 # a[i] · b[i, j] → out[j]
'a,ab->b'
>>> steps(("ij", "jk", "kl"), "il", [(2, 3), (3, 4), (4, 5)], "greedy")
[((1, 2), 'jk,kl->jl'), ((0, 1), 'ij,jl->il')]
"""

from __future__ import annotations

import importlib
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

LETTERS = string.ascii_letters


def split_operands(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """The subscripts and the operands of an einsum call, in either form."""
    if args and isinstance(args[0], str):
        return args[0], list(args[1:])
    operands, labels = list(args[0::2]), list(args[1::2])
    output = operands.pop() if len(args) % 2 else None  # an odd count ends with the output's labels
    return subscripts(labels, output), operands


def subscripts(inputs: Sequence[Any], output: Any = None) -> str:
    """Sublist labels as a subscript string: one list per operand, and the output's if given."""
    if not inputs:
        raise ValueError("einsum: the sublist form needs an operand followed by its list of axis labels")
    lhs = ",".join(_term(labels) for labels in inputs)
    return lhs if output is None else f"{lhs}->{_term(output)}"


def _term(labels: Any) -> str:
    try:
        items = list(labels)
    except TypeError:
        raise TypeError(
            f"einsum: in the sublist form each operand is followed by a list of labels, got {labels!r}"
        ) from None
    out = ""
    for item in items:
        if item is Ellipsis:
            out += "..."
        elif not isinstance(item, (int, np.integer)) or isinstance(item, bool):
            raise TypeError(f"einsum: a sublist label is an int or ..., got {item!r}")
        elif 0 <= item < len(LETTERS):
            out += LETTERS[int(item)]
        else:
            raise ValueError(f"einsum: a sublist label is an int from 0 to {len(LETTERS) - 1}, got {item}")
    return out


def steps(
    ins: Sequence[str], out: str, shapes: Sequence[tuple[int, ...]], optimize: Any
) -> list[tuple[tuple[int, ...], str]]:
    """The pairwise contractions that compute ``ins -> out``, as (positions, spec) pairs.

    ``ins`` and ``out`` are terms of letters (an ellipsis already spelled as letters). Each
    step contracts the operands at ``positions`` of the current list (removing them) and
    appends the result, whose term keeps the letters still needed by the output or by the
    operands left: the order of NumPy's and opt_einsum's paths.
    """
    path = _path(ins, out, shapes, optimize)
    terms, result = list(ins), []
    for positions in path:
        if (
            not positions
            or len(set(positions)) != len(positions)
            or not all(0 <= p < len(terms) for p in positions)
        ):
            raise ValueError(
                f"einsum: invalid path step {positions} for {len(terms)} operands; a step names "
                "distinct positions of the operands left (the result goes last)"
            )
        chosen = [terms[p] for p in positions]
        rest = [t for k, t in enumerate(terms) if k not in positions]
        needed = set(out).union(*rest)
        seen = "".join(dict.fromkeys("".join(chosen)))
        kept = "".join(c for c in seen if c in needed)
        if not rest:
            kept = out
        result.append((tuple(positions), ",".join(chosen) + "->" + kept))
        terms = rest + [kept]
    if len(terms) != 1:
        raise ValueError(
            f"einsum: the path {path} leaves {len(terms)} operands; it must contract them to one"
        )
    return result


def _path(
    ins: Sequence[str], out: str, shapes: Sequence[tuple[int, ...]], optimize: Any
) -> list[tuple[int, ...]]:
    """A contraction path: NumPy's for its own strategies or an explicit path, opt_einsum's
    for True (when installed) and for every other strategy name."""
    spec = ",".join(ins) + "->" + out
    if isinstance(optimize, (list, tuple)):
        if not optimize or optimize[0] != "einsum_path":
            raise ValueError(f"einsum: an explicit path starts with 'einsum_path', got {optimize!r}")
        return [tuple(p) for p in optimize[1:]]
    if optimize is True:
        optimize = "auto" if _opt_einsum() is not None else "greedy"
    if optimize in ("greedy", "optimal"):
        stand_ins = [np.broadcast_to(np.empty((), dtype=np.float64), s) for s in shapes]
        return [tuple(p) for p in np.einsum_path(spec, *stand_ins, optimize=optimize)[0][1:]]
    if not isinstance(optimize, str):
        raise TypeError(f"einsum: optimize is False, True, a strategy name or a path, got {optimize!r}")
    oe = _opt_einsum()
    if oe is None:
        raise ImportError(
            f"einsum: optimize={optimize!r} is a strategy of opt_einsum, which is not installed; "
            "install chainrule[einsum] (opt-einsum), or use 'greedy' or 'optimal' (NumPy's)"
        )
    try:
        path, _ = oe.contract_path(spec, *shapes, shapes=True, optimize=optimize)
    except KeyError:
        raise ValueError(f"einsum: {optimize!r} is not a strategy opt_einsum knows") from None
    return [tuple(p) for p in path]


def _opt_einsum() -> Any:
    try:
        return importlib.import_module("opt_einsum")
    except ImportError:
        return None
