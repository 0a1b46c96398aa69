"""PyTorch's spellings beside NumPy's: ``dim=`` for ``axis=``, ``keepdim=`` for ``keepdims=``, ...

One decorator, :func:`torch_keywords`, lets a function or method written with NumPy's
names (``axis``, ``keepdims``, ``ddof``) be called with PyTorch's too, so code written for
PyTorch runs after its imports change::

    cr.sum(x, dim=0, keepdim=True)      # is cr.sum(x, axis=0, keepdims=True)
    x.std(dim=1, unbiased=False)        # is x.std(axis=1, ddof=0)

Giving a name in both spellings (``axis=`` and ``dim=``, or ``keepdims=`` and ``keepdim=``;
``ddof=`` with ``unbiased=`` or ``correction=``) is a TypeError naming the function. The
decorated function keeps its name, docstring and type hints; its signature (what
``inspect.signature`` and ``help`` show) lists PyTorch's names as keyword-only arguments.

A call spelled PyTorch's way (any of ``dim=``, ``keepdim=``, ``unbiased=``,
``correction=``) gets PyTorch's meaning where the two libraries differ:

- ``var``/``std``: PyTorch's default correction is 1 (the unbiased estimate), NumPy's
  ``ddof`` is 0. ``x.var(dim=0)`` divides by N − 1, as ``torch.var``; ``x.var(axis=0)``
  and ``x.var(0)`` divide by N, as ``np.var``. ``unbiased=True|False`` is ``ddof=1|0``
  and ``correction=c`` is ``ddof=c``.
- ``Tensor.max``/``Tensor.min`` (decorated with :func:`torch_extremum`): an int ``dim=``
  gives the pair ``(values, indices)`` (a :class:`ValuesIndices`), as PyTorch's methods.

A call without PyTorch's names goes straight to the function (one ``if`` on the keywords),
so ``t.sum()`` costs what it did. The helpers at the end read the arguments of the Tensor
methods with PyTorch's names (``flatten(start_dim, end_dim)``, ``expand``, ``norm``). This
module imports nothing of chainrule's: ``tensor.py`` uses it while the Tensor class is made.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple, ParamSpec, TypeVar

__all__ = [
    "ValuesIndices",
    "expanded_shape",
    "joined_axes",
    "torch_extremum",
    "torch_keywords",
    "torch_norm_arguments",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")

_TORCH_NAMES = frozenset({"dim", "keepdim", "unbiased", "correction"})
_RENAMED = (("dim", "axis"), ("keepdim", "keepdims"))  # PyTorch's name, NumPy's name
_ANNOTATIONS = {
    "dim": "int | Sequence[int] | None",
    "keepdim": "bool | None",
    "unbiased": "bool | None",
    "correction": "int | None",
}


class ValuesIndices(NamedTuple):
    """``t.max(dim=d)`` and ``t.min(dim=d)``: the values and their positions along d, as
    PyTorch's ``torch.return_types.max`` (``values, indices = t.max(dim=1)``)."""

    values: Any
    indices: Any


def torch_keywords(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` taking PyTorch's keyword names beside NumPy's (see the module docstring)."""
    return _respelled(fn, None)


def torch_extremum(positions: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """As :func:`torch_keywords`, for a Tensor's ``max``/``min`` method: called with an int
    ``dim=``, it returns ``ValuesIndices(values, self.<positions>(axis=dim, keepdims=...))``."""
    return lambda fn: _respelled(fn, positions)


def _respelled(fn: Callable[_P, _R], positions: str | None) -> Callable[_P, _R]:
    signature = inspect.signature(fn)
    spelling = _Spelling(fn, signature, positions)

    @functools.wraps(fn)
    def respelled(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if kwargs and not _TORCH_NAMES.isdisjoint(kwargs):  # t.sum() has no keywords: one test
            result: _R = spelling.call(args, kwargs)
            return result
        return fn(*args, **kwargs)

    respelled.__signature__ = spelling.public_signature  # type: ignore[attr-defined]
    return respelled


class _Spelling:
    """How one function's PyTorch keywords become its NumPy ones."""

    def __init__(self, fn: Callable[..., Any], signature: inspect.Signature, positions: str | None):
        self.fn = fn
        self.name = fn.__qualname__
        self.signature = signature
        self.positions = positions
        names = signature.parameters
        self.renamed = tuple((torch, numpy) for torch, numpy in _RENAMED if numpy in names)
        self.has_ddof = "ddof" in names
        extra = [torch for torch, _ in self.renamed]
        if self.has_ddof:
            extra += ["unbiased", "correction"]
        self.public_signature = _with_keywords(signature, extra)

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        kwargs = dict(kwargs)
        torch_spelled = {name: kwargs.pop(name) for name in _TORCH_NAMES & kwargs.keys()}
        try:
            given = self.signature.bind_partial(*args, **kwargs).arguments
        except TypeError as e:
            raise TypeError(f"{self.name}: {e}") from None
        dim_given = "dim" in torch_spelled
        for torch, numpy in self.renamed:
            if torch in torch_spelled:
                if numpy in given:
                    raise TypeError(
                        f"{self.name}: got both {numpy}= and {torch}= ({torch} is PyTorch's name "
                        f"for NumPy's {numpy}); give one"
                    )
                kwargs[numpy] = torch_spelled.pop(torch)
        if self.has_ddof:
            ddof = self._ddof(given, torch_spelled)
            if ddof is not None:
                kwargs["ddof"] = ddof
        if torch_spelled:  # a PyTorch name this function has no counterpart of
            unexpected = ", ".join(f"{name}=" for name in sorted(torch_spelled))
            raise TypeError(f"{self.name}: unexpected keyword argument {unexpected}")
        result = self.fn(*args, **kwargs)
        dim = kwargs.get("axis")
        if self.positions is None or not dim_given or dim is None or isinstance(dim, (tuple, list)):
            return result
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        indices = getattr(args[0], self.positions)(axis=dim, keepdims=bound.arguments["keepdims"])
        return ValuesIndices(result, indices)

    def _ddof(self, given: dict[str, Any], torch_spelled: dict[str, Any]) -> Any:
        """``ddof`` from PyTorch's ``unbiased``/``correction``, or PyTorch's default 1 for a call
        spelled PyTorch's way that names none of the three; None where the call gave ``ddof``."""
        unbiased = torch_spelled.pop("unbiased", None)
        correction = torch_spelled.pop("correction", None)
        named = [name for name, v in (("unbiased", unbiased), ("correction", correction)) if v is not None]
        if "ddof" in given:
            named.insert(0, "ddof")
        if len(named) > 1:
            raise TypeError(f"{self.name}: got {'= and '.join(named)}=; give one of them")
        if correction is not None:
            return correction
        if unbiased is not None:
            return int(bool(unbiased))
        return None if "ddof" in given else 1


def _with_keywords(signature: inspect.Signature, names: list[str]) -> inspect.Signature:
    """``signature`` with keyword-only arguments ``names`` (default None) added before any ``**``."""
    params = list(signature.parameters.values())
    at = len(params) - 1 if params and params[-1].kind is inspect.Parameter.VAR_KEYWORD else len(params)
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=_ANNOTATIONS[name])
        for name in names
    ]
    return signature.replace(parameters=params[:at] + added + params[at:])


# ------------------------------------------------------------------ PyTorch's arguments as NumPy's
# The Tensor methods with PyTorch's names (tensor.py) call these to read their arguments.
def joined_axes(shape: tuple[int, ...], start_dim: int, end_dim: int) -> tuple[int, ...]:
    """The shape ``t.flatten(start_dim, end_dim)`` makes: axes start_dim..end_dim (both included,
    negative counting from the end) joined into one."""
    n = len(shape)
    start, end = (d + n if d < 0 else d for d in (start_dim, end_dim))
    if not (0 <= start < n and 0 <= end < n) or start > end:
        raise ValueError(
            f"flatten: start_dim={start_dim} and end_dim={end_dim} do not name a run of axes "
            f"of a tensor of shape {shape}"
        )
    return shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :]


def expanded_shape(shape: tuple[int, ...], sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``t.expand(*sizes)`` broadcasts to: -1 keeps the length of the axis it stands
    for; the axes ``sizes`` has beyond ``shape``'s go in front."""
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {shape} with more axes")
    kept = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    if any(n < 0 for n in kept):
        raise ValueError(f"expand: -1 in sizes {sizes} stands for an axis the tensor of shape {shape} lacks")
    return kept


def torch_norm_arguments(p: float | str, dim: Any) -> tuple[Any, Any, bool]:
    """``(ord, axis, flat)`` for ``np.linalg.norm`` to give PyTorch's ``t.norm(p, dim)`` (of the
    flattened tensor when ``flat``): a number p is a vector norm of the elements (of all of
    them when dim is None, where NumPy's ord on a matrix takes a matrix norm), 'fro' (and 2 over
    several axes) the 2-norm of the elements, 'nuc' a matrix's nuclear norm."""
    if isinstance(dim, (tuple, list)) and len(dim) == 1:
        dim = dim[0]
    several = dim is None or isinstance(dim, (tuple, list))
    if p in ("fro", "nuc") or not several:
        return (None if p == "fro" else p), dim, False
    if p == 2:
        return None, dim, False
    if dim is None:
        return p, None, True
    raise ValueError(
        f"norm: p={p} over the axes {tuple(dim)}: PyTorch takes a vector norm of their elements, "
        "NumPy's ord a matrix norm; join those axes first (t.flatten(start, end).norm(p, dim=start))"
    )
