"""Tensors that carry a batch axis out of sight, and how ops run on them: vmap's engine.

Inside ``cr.vmap(f)(xs)`` each batched argument reaches f as a :class:`BatchedTensor`. It
behaves as one example (its ``shape`` is an example's), and holds the whole batch in
``inner``, an ordinary Tensor with the batch axis first. An op given batched inputs runs
once on the whole batch, by its *batching rule*, which follows from the op's category
in the derivative table:

==========================  =================================================================
category                    the op on the batch ``X`` (shape ``(B,) + example``)
==========================  =================================================================
unary                       f(X): elementwise ops do not care about leading axes
binary, where               f(X, Y) once each batched input has singleton axes after its
                            batch axis up to the examples' rank (so broadcasting between
                            examples of ranks 1 and 2 stays between examples)
linear, general             f(X) with the canonical parameters: they count axes from the
                            end (negative axes, ``...`` in einsum), the convention that lets
                            stacked tangents and cotangents through; an unbatched input of a
                            several-input op is broadcast to the batch first
matmul, einsum, solve,      padded as for binary, along their own broadcast axes
affine (batched weights)
nll (a target per example)  one-hot products, so its derivative is theirs
reads_values rows (sort,    a Python loop over the examples, stacked (a warning names the
partition, cumprod), and    op, once); their parameters differ between examples, so their
ops given a batched index   derivative under vmap refuses
==========================  =================================================================

Derivatives compose both ways:

- ``vmap(grad(f))``: an op on batched inputs records a node like any op, with batched
  values saved; inside vmap the reverse pass runs the rules on the recording namespace
  (see ``autograd.run_backward``), so each step of it is itself a batched op, and a
  gradient comes out per example, even for an argument shared by all examples;
- ``grad(vmap(f))``: the batch rules run ordinary ops on the ``inner`` Tensors, which the
  graph outside the vmap records.

vmaps nest: each has a *level*, and an op runs at the innermost level among its inputs;
a tensor batched by an outer vmap is an ordinary input there. A batched tensor has no
single value: reading one (``bool(t)``, ``t.item()``, ``np.asarray(t)``) raises
:class:`~chainrule.tensor.BatchedAccess`; value-dependent choices are written with
``cr.where``.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from . import backends, dtypes, mode
from .forward import attach_tangents
from .graph import Node
from .ops import OPS
from .ops.core import OpDef, ndim_of
from .ops.losses import REDUCTIONS
from .ops.shape import check_axis
from .reading import parameter_of
from .spellings import torch_keywords
from .tensor import RECORDING, BatchedAccess, Tensor, apply, data_of, graph_node, stacked
from .torch_methods import ElementCount

__all__ = ["BatchedTensor", "close_level", "compare", "constant_of", "open_level", "run"]

_levels = itertools.count(1)
_warned: set[str] = set()

NO_VALUE = (
    "a tensor batched by vmap has one value per example, so it has no single value to read "
    "(bool(), float(), .item(), .numpy(), .data, np.asarray) or to update in place (add_, "
    "t[i] = v, with a batched t or v); write value-dependent choices with cr.where, updates "
    "with t.at[i].set(v), and return values from the function to read them"
)


class BatchedTensor(Tensor):
    """One example's view of a batch: ``shape`` is an example's; ``_inner`` holds the batch
    (axis 0) as an ordinary Tensor; ``_level`` is the vmap that batches it."""

    __slots__ = ("_inner", "_level")

    _inner: Tensor
    _level: int

    @classmethod
    def of(cls, inner: Tensor, level: int, node: Node | None = None) -> BatchedTensor:
        t = object.__new__(cls)
        t._inner = inner
        t._level = level
        t._grad = None
        t._requires_grad = node is not None
        t._node = node
        t._tangents = None
        return t

    # Reading the array refuses: a batched tensor has one value per example.
    @property
    def _data(self) -> np.ndarray:  # type: ignore[override]
        raise BatchedAccess(NO_VALUE)

    @property  # type: ignore[override,misc]
    def data(self) -> np.ndarray:
        raise BatchedAccess(NO_VALUE)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._inner.shape[1:]

    @property
    def ndim(self) -> int:
        return self._inner.ndim - 1

    @property
    def size(self) -> ElementCount:
        count = ElementCount(math.prod(self.shape))
        count.shape = self.shape
        return count

    @property
    def dtype(self) -> np.dtype:
        return self._inner.dtype

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        return (
            f"BatchedTensor(shape={self.shape}, dtype={self.dtype.name}, one example of a batch of "
            f"{self._inner.shape[0]} under vmap)"
        )

    def _leaf_alias(self) -> BatchedTensor:
        return BatchedTensor.of(self._inner, self._level)

    def _attached(self, node: Node) -> BatchedTensor:
        """The same batch as the output of ``node`` (a value the reverse pass saved)."""
        return BatchedTensor.of(self._inner, self._level, node)

    def detach(self) -> BatchedTensor:
        return BatchedTensor.of(self._inner.detach(), self._level)

    def __invert__(self) -> BatchedTensor:
        return BatchedTensor.of(~self._inner, self._level)

    # The integer results: the method on the whole batch, along each example's axis.
    @torch_keywords
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> BatchedTensor:
        return _positions("argmax", self, axis, keepdims=keepdims)

    @torch_keywords
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> BatchedTensor:
        return _positions("argmin", self, axis, keepdims=keepdims)

    @torch_keywords
    def argsort(self, axis: int | None = -1) -> BatchedTensor:
        return _positions("argsort", self, axis)


# ------------------------------------------------------------------ levels
def open_level() -> int:
    """Start a vmap level in this thread; returns its number."""
    level = next(_levels)
    mode.change(batching=mode.state().batching | {level})
    return level


def close_level(level: int) -> None:
    mode.change(batching=mode.state().batching - {level})


def _batched_in(value: Any) -> list[BatchedTensor]:
    if isinstance(value, BatchedTensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [b for v in value for b in _batched_in(v)]
    return []


def _top_level(args: Sequence[Any], params: dict[str, Any]) -> int:
    """The innermost open vmap level among the batched values in ``args`` and ``params``."""
    found = _batched_in(list(args)) + _batched_in(list(params.values()))
    open_now = mode.state().batching
    if not found:
        raise BatchedAccess(NO_VALUE)
    stale = [b for b in found if b._level not in open_now]
    if stale:
        raise RuntimeError(
            "vmap: a tensor batched by a vmap that has already returned was used; it escaped "
            "the vmapped function (through a closure, a global or a list); return it from the "
            "function instead"
        )
    return max(b._level for b in found)


def _at(value: Any, level: int) -> bool:
    return isinstance(value, BatchedTensor) and value._level == level


def _whole(value: Any, level: int) -> Any:
    """The batch a value batched at ``level`` holds (batch axis first); any other value itself."""
    return value._inner if isinstance(value, BatchedTensor) and value._level == level else value


def _example(value: Any) -> Any:
    """One example's value (the first), for what reads shapes and parameters."""
    if isinstance(value, BatchedTensor):
        whole = _example(value._inner)
        if backends.is_array(whole):  # another library's: a layout of one example, as apply reads
            return backends.layout(whole[0, ...])
        return whole[0] if whole.shape[0] else np.zeros(whole.shape[1:], whole.dtype)
    return parameter_of(value)


def constant_of(fn: Callable[[np.ndarray], np.ndarray], x: Tensor) -> Tensor:
    """``fn`` of x's values as a constant Tensor (no gradient); for a tensor vmap batches,
    of every example's at once (``fn`` must act on trailing axes), batched as x is."""
    if isinstance(x, BatchedTensor):
        return BatchedTensor.of(constant_of(fn, x._inner), x._level)
    value = fn(x._data)
    return Tensor._make(value if backends.is_array(value) else np.asarray(value), None)


def _positions(method: str, x: BatchedTensor, axis: int | None, **options: Any) -> BatchedTensor:
    """``x.argmax(axis)`` (argmin, argsort) of each example: the method on the whole batch,
    along the example's axis (over each example's elements for None)."""
    inner = x._inner
    if axis is None:
        flat = getattr(RECORDING.reshape(inner, (inner.shape[0], -1)), method)(axis=1, **options)
        whole = (
            RECORDING.reshape(flat, (inner.shape[0],) + (1,) * x.ndim) if options.get("keepdims") else flat
        )
    else:
        whole = getattr(inner, method)(axis=check_axis(method, axis, x.ndim, x.shape) + 1, **options)
    return BatchedTensor.of(whole, x._level)


# ------------------------------------------------------------------ running an op
def run(op: OpDef, args: Sequence[Any], params: dict[str, Any], canonical: bool) -> BatchedTensor:
    """``op(*args, **params)`` where some input is batched: the batch computed at once by
    the op's batching rule (or a loop), recorded as one per-example node.

    ``canonical``: the parameters are already what the op's ``prepare`` makes of them (a
    rule's call through the recording namespace).
    """
    level = _top_level(args, params)
    args = [stacked(a, op.name) if isinstance(a, (list, tuple)) else a for a in args]
    if not canonical and op.floating:
        default = dtypes.get_default_dtype()
        args = [
            a.astype(default)
            if isinstance(a, (Tensor, np.ndarray)) and backends.kind(a.dtype) in "biu"
            else a
            for a in args
        ]
    in_params = any(_at(v, level) for v in _batched_in(list(params.values())))
    if in_params:
        rewrite = _PARAMETER_RULES.get(op.name)
        out = None if rewrite is None or canonical else rewrite(args, params, level)
        if out is not None:
            return out
        refusal = "was given a parameter that differs between examples (an index or a target batched by vmap)"
        return _finish(_refusing(op, refusal), args, params, _loop(op, args, params, level, canonical), level)
    if op.reads_values and not canonical:  # its parameters may differ between examples
        refusal = "reads each example's values to prepare its parameters"
        return _finish(_refusing(op, refusal), args, params, _loop(op, args, params, level, canonical), level)
    raw = params
    if not canonical and op.prepare:
        params = op.prepare(*[_example(a) for a in args], **params)
    rule = _RULES.get(op.name, _CATEGORY_RULES.get(op.category))
    xs = [_whole(a, level) for a in args]
    batched = [_at(a, level) for a in args]
    size = next(x.shape[0] for x, b in zip(xs, batched) if b)
    whole = None if rule is None else rule(op, xs, batched, params, size)
    if whole is None:
        whole = _loop(op, args, params if canonical else raw, level, canonical)
    return _finish(op, args, params, whole, level)


def _finish(op: OpDef, args: list[Any], params: dict[str, Any], whole: Tensor, level: int) -> BatchedTensor:
    """The batch ``whole`` as the output of op at ``level``: its per-example node (the op's
    own rules run on batched values) and forward-mode tangents."""
    out = BatchedTensor.of(whole, level)
    state = mode.state()
    if state.grad:
        out._node = graph_node(op, tuple(args), [parameter_of(a) for a in args], out, params)
        out._requires_grad = out._node is not None
    if state.levels:
        attach_tangents(op, args, out, params, RECORDING)
        if out._tangents and out._node is not None:
            out._node.duals = (tuple(args), out._tangents)
    return out


_REFUSING: dict[tuple[str, str], OpDef] = {}


def _refusing(op: OpDef, reason: str) -> OpDef:
    """op, for a node whose derivative vmap cannot give (the op ``reason``, so its rules
    would read parameters that differ between examples): its rules raise."""
    if (op.name, reason) not in _REFUSING:

        def refuse(*_: Any, **__: Any) -> None:
            raise NotImplementedError(
                f"vmap: {op.name} {reason}; vmap computes its value example by example, but not "
                "its derivative. Pass such an index as data the op differentiates through (a "
                "one-hot matrix and a product), or move the transform outside vmap"
            )

        _REFUSING[op.name, reason] = OpDef(op.name, op.category, vjp=refuse, jvp=refuse)
    return _REFUSING[op.name, reason]


def _loop(op: OpDef, args: list[Any], params: dict[str, Any], level: int, canonical: bool) -> Tensor:
    """The op example by example, stacked: for ops without a batching rule."""
    if op.name not in _warned:
        _warned.add(op.name)
        warnings.warn(
            f"vmap: {op.name} has no batching rule here, so it runs once per example in a Python loop",
            UserWarning,
            stacklevel=4,
        )
    call = RECORDING.apply if canonical else apply
    size = next(
        a._inner.shape[0] for a in _batched_in(list(args) + list(params.values())) if a._level == level
    )
    outs = []
    for i in range(size):
        args_i = [_pick(a, i, level) for a in args]
        params_i = {k: _pick(v, i, level) for k, v in params.items()}
        outs.append(call(op, *args_i, **params_i))
    result: Tensor = OPS["stack"].fn(RECORDING, outs, axis=0)
    return result


def _pick(value: Any, i: int, level: int) -> Any:
    if _at(value, level):
        return value._inner[i]
    if isinstance(value, (tuple, list)) and _batched_in(value):
        return type(value)(_pick(v, i, level) for v in value)
    return value


def compare(fn: np.ufunc, x: Tensor, other: Any) -> BatchedTensor:
    """``fn(x, other)`` (a comparison) where x or other is batched: a boolean batch."""
    level = _top_level((x, other), {})
    first, second = _padded([_whole(x, level), _whole(other, level)], [_at(x, level), _at(other, level)])
    return BatchedTensor.of(first._compare(second, fn), level)


# ------------------------------------------------------------------ batching rules
def _pad(x: Tensor, k: int) -> Tensor:
    """x (batch axis first) with k singleton axes after the batch axis."""
    return x if k <= 0 else RECORDING.reshape(x, x.shape[:1] + (1,) * k + x.shape[1:])


def _padded(xs: list[Any], batched: list[bool], cores: Sequence[int] | None = None) -> list[Any]:
    """The batched inputs given singleton axes after the batch axis so that their examples'
    ``cores`` (by default their ranks) line up as broadcasting lines them up."""
    if cores is None:
        cores = [x.ndim - 1 if b else ndim_of(x) for x, b in zip(xs, batched)]
    top = max(cores)
    return [_pad(x, top - c) if b else x for x, b, c in zip(xs, batched, cores)]


def _elementwise(op, xs, batched, params, size):
    return RECORDING.apply(op, *_padded(xs, batched), **params)


def _leading(op, xs, batched, params, size):
    if len(xs) > 1:
        xs = [x if b else _broadcast(x, size) for x, b in zip(xs, batched)]
    return RECORDING.apply(op, *xs, **params)


def _broadcast(x: Any, size: int) -> Any:
    if isinstance(x, Tensor):
        return RECORDING.broadcast_to(x, (size, *x.shape))
    if isinstance(x, np.ndarray):
        return np.broadcast_to(x, (size, *x.shape))
    return x


def _matmul(op, xs, batched, params, size):
    # An operand's broadcast axes: all but its last two (its last, for a vector), counting
    # the leading axes an inner vmap's batch adds to it.
    broadcast_axes = [
        ndim_of(x) - b - min(nd, 2) for x, b, nd in zip(xs, batched, (params["xnd"], params["ynd"]))
    ]
    return RECORDING.apply(op, *_padded(xs, batched, broadcast_axes), **params)


def _affine(op, xs, batched, params, size):
    """x Wᵀ + b: one affine op when only x is batched; with a batched W or b (an ensemble of
    layers), the same as a product and a sum of batches."""
    if not any(batched[1:]):
        return RECORDING.apply(op, *xs, **params)
    x, w, b = xs
    wt = RECORDING.matrix_transpose(w)
    x_nd = x.ndim - batched[0]
    product = _matmul(OPS["matmul"], [x, wt], batched[:2], {"xnd": x_nd, "ynd": 2}, size)
    return _elementwise(OPS["add"], [product, b], [True, batched[2]], {}, size)


def _solve(op, xs, batched, params, size):
    a, b = xs
    stacks = [a.ndim - batched[0] - 2, ndim_of(b) - batched[1] - (1 if params["vector"] else 2)]
    return RECORDING.apply(op, *_padded(xs, batched, stacks), **params)


def _einsum(op, xs, batched, params, size):
    ellipses = [x.ndim - b - len(sub) for x, b, sub in zip(xs, batched, params["ins"])]
    return RECORDING.apply(op, *_padded(xs, batched, ellipses), **params)


def _nll_of_batched_targets(args: list[Any], params: dict[str, Any], level: int) -> BatchedTensor | None:
    """nll with a target per example, as each example's −Σ coef · x: coef is the one-hot
    of its targets times their class weights (0 where ignored), a batch of constants, so
    every step is an op with a batching rule (and the derivative is theirs)."""
    (x,) = args
    target, weight = params["target"], params.get("weight")
    if isinstance(target._inner, BatchedTensor) or _batched_in([weight]) or not isinstance(x, Tensor):
        return None
    t = np.asarray(data_of(target._inner))
    shape = x.shape
    axis = 1 if len(shape) >= 2 else 0
    reduction, ignore_index = params.get("reduction", "mean"), params.get("ignore_index", -100)
    classes = shape[axis] if shape else 0
    if (
        t.dtype.kind not in "iu"
        or t.shape[1:] != shape[:axis] + shape[axis + 1 :]
        or reduction not in REDUCTIONS
    ):
        return None  # the loop, whose first example gives nll's own error
    valid = t != ignore_index
    picked = np.where(valid, t, 0)
    if np.any(picked < 0) or np.any(picked >= classes):
        raise IndexError(f"nll_loss: a target is outside the {classes} classes [0, {classes})")
    w = np.ones(classes, x.dtype) if weight is None else np.asarray(data_of(weight), x.dtype)
    classes_axis = np.arange(classes).reshape((classes,) + (1,) * (t.ndim - 1 - axis))
    coef = (np.expand_dims(picked, axis + 1) == classes_axis) * np.expand_dims(w[picked] * valid, axis + 1)
    terms = -(x * BatchedTensor.of(Tensor._make(coef.astype(x.dtype), None), level))
    if reduction == "none":
        return cast(BatchedTensor, RECORDING.sum(terms, axis=axis))
    total = RECORDING.sum(terms)
    if reduction == "sum":
        return cast(BatchedTensor, total)
    counted = (w[picked] * valid).reshape(len(t), -1).sum(axis=1).astype(x.dtype)
    nothing = counted == 0  # a mean over nothing is 0/0: NaN, with gradient 0 (as unbatched)
    scale = np.where(nothing, 0, 1 / np.where(nothing, 1, counted)).astype(x.dtype)
    nan = np.where(nothing, np.nan, 0).astype(x.dtype)
    batch = functools.partial(_constant_batch, level=level)
    return cast(BatchedTensor, total * batch(scale) + batch(nan))


def _constant_batch(values: np.ndarray, level: int) -> BatchedTensor:
    return BatchedTensor.of(Tensor._make(values, None), level)


Rule = Callable[..., Any]

_CATEGORY_RULES: dict[str, Rule] = {
    "unary": _elementwise,
    "binary": _elementwise,
    "linear": _leading,
    "general": _leading,
}
_RULES: dict[str, Rule | None] = {
    "where": _elementwise,
    "affine": _affine,
    "matmul": _matmul,
    "solve": _solve,
    "einsum": _einsum,
}
"""Ops whose rule is not their category's; None: the loop."""
_PARAMETER_RULES: dict[str, Callable[..., BatchedTensor | None]] = {
    "nll": _nll_of_batched_targets,
}
"""Ops given a batched tensor as a parameter, computed from ops that take it as an input
(None from a rule: the loop, and a derivative that refuses)."""
