"""Custom operations: ``cr.Function`` with hand-written derivative rules.

For outputs (y₁, …, yₘ) = f(x₁, …, xₙ) a Function states f and its rules by hand:

- ``backward(ctx, ḡ₁, …, ḡₘ)`` is the VJP: it returns x̄ᵢ = Σₖ ḡₖ · ∂yₖ/∂xᵢ for each
  argument (reverse mode: ``backward``, ``grad``, ``vjp``, ``jacobian(mode="rev")``);
- ``jvp(ctx, ẋ₁, …, ẋₙ)``, optional, is the JVP: it returns ẏₖ = Σᵢ ∂yₖ/∂xᵢ · ẋᵢ for
  each output (forward mode: ``jvp``, ``hvp``, ``jacobian(mode="fwd")``). Without it
  forward mode refuses the Function rather than guess (``hessian`` and
  ``jacobian(mode="auto")`` then go reverse over reverse).

>>> import chainrule as cr
>>> class Cube(cr.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         ctx.save_for_forward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3 * x ** 2
...     @staticmethod
...     def jvp(ctx, t):
...         (x,) = ctx.saved_tensors
...         return t * 3 * x ** 2
>>> x = cr.tensor(2.0, requires_grad=True)
>>> Cube.apply(x).backward(); x.grad
tensor(12.)
>>> cr.jvp(Cube.apply, (cr.tensor(2.0),), (cr.tensor(1.0),))[1]
tensor(12.)

Each rule is written for one cotangent (or tangent) of its output's (argument's)
shape; a stack of them, as a one-pass Jacobian sends, is pushed through one row at a
time and the results are stacked again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from . import backends, debug, dtypes, forward, mode
from .graph import FREED, Node, OutputGrads
from .ops.core import OpDef
from .tensor import RECORDING, Tensor, TensorLike, as_array


class FunctionCtx:
    """What ``forward`` leaves for the rules: saved tensors and any attributes set on it.

    ``needs_input_grad`` tells, per argument of ``forward``, whether it requires grad.
    ``saved_tensors`` are those given to ``save_for_backward``, or inside ``jvp`` those
    given to ``save_for_forward`` (as in PyTorch).
    """

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple[Any, ...] | None = ()
        self._saved_for_forward: tuple[Any, ...] = ()
        self._non_differentiable: tuple[Tensor, ...] = ()
        self._in_jvp = False

    # What a rule saves comes back to it as given (Tensors, arrays, numbers).
    def save_for_backward(self, *tensors: Any) -> None:
        self._saved = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        self._saved_for_forward = tensors

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """These outputs of ``forward`` carry no derivative: they do not require grad,
        ``backward`` receives zeros for them and their ``jvp`` tangent is dropped."""
        self._non_differentiable = outputs

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        if self._in_jvp:
            return self._saved_for_forward
        if self._saved is None:
            raise RuntimeError(FREED)
        return self._saved


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``,
    and optionally ``jvp(ctx, *tangents)``; call it as ``MyFunction.apply(*args)``.

    ``forward`` receives the arguments as given (Tensors stay Tensors), runs without
    recording and without forward mode, and returns a Tensor or a tuple of Tensors
    (``apply`` then returns the tuple). Floating outputs are differentiable unless
    ``ctx.mark_non_differentiable`` names them.

    ``backward`` receives one gradient per output (zeros for an output that was not
    used or is not differentiable) and returns one gradient per argument (``None``
    where there is none). Under ``create_graph=True`` it is itself recorded, so a
    backward written with chainrule's ops can be differentiated again.

    ``jvp`` receives one tangent per argument (zeros for a floating Tensor without one,
    ``None`` for any other argument) and returns one tangent per output (``None`` for a
    zero one). It runs recorded, so reverse mode can differentiate it.

    >>> import chainrule as cr
    >>> class SinCos(cr.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return cr.sin(x), cr.cos(x)
    ...     @staticmethod
    ...     def backward(ctx, g_sin, g_cos):
    ...         (x,) = ctx.saved_tensors
    ...         return g_sin * cr.cos(x) - g_cos * cr.sin(x)
    >>> x = cr.tensor(0.0, requires_grad=True)
    >>> s, c = SinCos.apply(x)
    >>> s.backward(); x.grad          # cos 0; the unused cos output sends zeros
    tensor(1.)
    """

    _chainrule_ops: ClassVar[tuple[OpDef, list[OpDef]]]  # made by the first apply (see _ops)

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor | tuple[Tensor, ...]:
        op = _ops(cls)[0]
        state = mode.state()
        if state.levels and op.jvp is None and any(forward.live_tangents(a) for a in args):
            raise RuntimeError(
                f"{cls.__name__}: forward mode (jvp, hvp, jacobian(mode='fwd')) reached this custom "
                f"Function, which has no forward-mode rule; define a static {cls.__name__}.jvp(ctx, "
                "*tangents) returning one tangent per output, or differentiate in reverse mode "
                "(backward, grad, vjp, jacobian(mode='rev'))"
            )
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        token = mode.change(grad=False, levels=frozenset())  # forward's own ops are not differentiated
        try:
            result = cls.forward(ctx, *args)
        finally:
            mode.restore(token)
        several = isinstance(result, tuple)
        outs, differentiable = _outputs(cls, result if several else (result,), args, ctx)
        site = None
        if state.debug:
            site = debug.site()
            debug.check_forward(cls.__name__, site, args, [o._data for o in outs])
        if state.grad and any(ctx.needs_input_grad) and any(differentiable):
            _record(cls, op, ctx, args, outs, differentiable, site, state.keep_inputs)
        if state.levels:
            _attach_tangents(cls, op, ctx, args, outs, differentiable)
        return tuple(outs) if several else outs[0]


def _outputs(
    cls: type[Function], values: tuple[Any, ...], args: tuple[Any, ...], ctx: FunctionCtx
) -> tuple[list[Tensor], list[bool]]:
    """forward's outputs as Tensors of their own, and which are differentiable.

    An output that is not a new tensor (an argument returned as is, a tensor with a
    history, one returned twice) becomes a new Tensor on the same storage, so giving
    it a node or tangents never changes the tensor it came from.
    """
    outs: list[Tensor] = []
    differentiable: list[bool] = []
    for k, value in enumerate(values):
        if not isinstance(value, Tensor):
            value = Tensor._make(as_array(value, what=f"{cls.__name__}.forward (output {k})"), None)
        marked = any(value is m for m in ctx._non_differentiable)
        differentiable.append(dtypes.kind(value.dtype) == "f" and not marked)
        if (
            value._requires_grad
            or value._tangents
            or any(value is a for a in args)
            or any(value is o for o in outs)
        ):
            value, owner = Tensor._make(value._data, None), value._owner()
            value._base = owner  # the same storage: one version count
        outs.append(value)
    return outs, differentiable


def _record(
    cls: type[Function],
    op: OpDef,
    ctx: FunctionCtx,
    args: tuple[Any, ...],
    outs: list[Tensor],
    differentiable: list[bool],
    site: str | None,
    keep_inputs: bool,
) -> None:
    """Give the differentiable outputs the Function's node: one node, or for several
    outputs one node plus a node per output that selects it (see graph.OutputGrads)."""
    positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    parents = tuple((args[i]._node or args[i]) if ctx.needs_input_grad[i] else None for i in positions)
    params = {"positions": positions, "n_args": len(args), "fn": cls}
    if keep_inputs:
        params["args"] = args  # localized gradcheck re-runs forward on them
    if len(outs) == 1:
        node = Node(op, params, parents, ctx, outs[0].shape, outs[0].dtype, site)
        outs[0]._node = node
    else:
        node = Node(
            op, params, parents, ctx, tuple(o.shape for o in outs), tuple(o.dtype for o in outs), site
        )
        for k, out in enumerate(outs):
            if differentiable[k]:
                out._node = Node(
                    _output_op(cls, k), {"index": k}, (node,), ((None,), None), out.shape, out.dtype, site
                )
    node.inputs = ctx._saved  # their versions are checked before backward reads them
    for out, flag in zip(outs, differentiable):
        out._requires_grad = flag


def _ops(cls: type[Function]) -> tuple[OpDef, list[OpDef]]:
    """The OpDef of a Function class (made once per class) and those of its outputs.

    Its ``jvp`` is None when the class defines none: forward mode refuses it, and the
    transforms pick reverse mode over it (category ``"function"``).
    """
    ops: tuple[OpDef, list[OpDef]] | None = cls.__dict__.get("_chainrule_ops")
    if ops is None:
        jvp = _function_jvp if getattr(cls, "jvp", None) is not None else None
        op = OpDef(cls.__name__, "function", vjp=_function_vjp, jvp=jvp)
        op.backward_name = f"{cls.__name__}Backward"
        ops = cls._chainrule_ops = (op, [])
    return ops


def _output_op(cls: type[Function], index: int) -> OpDef:
    """The op of output ``index`` of a Function with several: ``SinCos[1]``."""
    outputs = _ops(cls)[1]
    while len(outputs) <= index:
        op = OpDef(f"{cls.__name__}[{len(outputs)}]", "output", vjp=_output_vjp)
        op.backward_name = f"{cls.__name__}Backward"
        outputs.append(op)
    return outputs[index]


def _output_vjp(g: Any, node: Node, xp: SimpleNamespace) -> tuple[OutputGrads]:
    """One output's rule: its gradient goes into its slot of the Function's node."""
    return (OutputGrads.one(node.parents[0], node.params["index"], g),)


# --------------------------------------------------------------------------- reverse
def _function_vjp(g: Any, node: Node, xp: SimpleNamespace) -> list[Any]:
    """The user's backward, with one gradient per output (a stack of them row by row)."""
    grads = g.grads if type(g) is OutputGrads else (g,)
    return _row_by_row(lambda *gs: _one_vjp(gs, node, xp), grads, _per_output(node)[0], len(node.parents), xp)


def _per_output(node: Node) -> tuple[tuple[Any, ...], tuple[np.dtype, ...]]:
    """The shape and the dtype of each output of a Function's node."""
    return (node.shape, node.dtype) if node.multi_output else ((node.shape,), (node.dtype,))


def _one_vjp(grads: Sequence[Any], node: Node, xp: SimpleNamespace) -> list[Any]:
    cls, ctx = node.params["fn"], node.saved
    given = next(g for g in grads if g is not None)
    place = given._data if isinstance(given, Tensor) else given
    grads = [_tensor(g, shape, dtype, place) for g, shape, dtype in zip(grads, *_per_output(node))]
    if xp.recording:
        result = cls.backward(ctx, *grads)
    else:
        with mode.no_grad():
            result = cls.backward(ctx, *grads)
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != node.params["n_args"]:
        raise RuntimeError(
            f"{cls.__name__}.backward returned {len(result)} gradients but forward "
            f"took {node.params['n_args']} arguments; return one per argument "
            "(None where there is none)"
        )
    what = f"{cls.__name__}.backward: the gradient for argument"
    return [
        None if parent is None or result[i] is None else _checked(result[i], parent.shape, xp, f"{what} {i}")
        for i, parent in zip(node.params["positions"], node.parents)
    ]


# --------------------------------------------------------------------------- forward
def _attach_tangents(
    cls: type[Function],
    op: OpDef,
    ctx: FunctionCtx,
    args: tuple[Any, ...],
    outs: list[Tensor],
    differentiable: list[bool],
) -> None:
    """Give the outputs a tangent for every live level among the arguments, by the
    user's jvp, lowest level first with the higher ones hidden (as forward.py does)."""
    per_arg = [forward.live_tangents(a) for a in args]
    levels = sorted(set().union(*per_arg))
    if not levels:
        return
    for out, flag in zip(outs, differentiable):
        if flag:
            out._tangents = {}
    for level in levels:
        token = mode.change(visible_below=level)
        try:
            found = op.jvp([f.get(level) for f in per_arg], args, outs, {"fn": cls, "ctx": ctx}, RECORDING)
        finally:
            mode.restore(token)
        for out, flag, t in zip(outs, differentiable, found):
            if flag and t is not None:
                assert out._tangents is not None, "given a dict above"
                out._tangents[level] = t


def _function_jvp(
    tangents: Sequence[Any],
    xs: Sequence[Any],
    outs: list[Tensor],
    params: dict[str, Any],
    xp: SimpleNamespace,
) -> list[Any]:
    """The user's jvp, with one tangent per argument (a stack of them row by row)."""
    shapes = [np.shape(x) for x in xs]
    return _row_by_row(lambda *ts: _one_jvp(ts, xs, outs, params, xp), tangents, shapes, len(outs), xp)


def _one_jvp(
    tangents: Sequence[Any],
    xs: Sequence[Any],
    outs: list[Tensor],
    params: dict[str, Any],
    xp: SimpleNamespace,
) -> list[Any]:
    cls, ctx = params["fn"], params["ctx"]
    tangents = [
        _tensor(t, x.shape, x.dtype, x._data) if isinstance(x, Tensor) and dtypes.kind(x.dtype) == "f" else t
        for t, x in zip(tangents, xs)
    ]
    ctx._in_jvp = True
    try:
        result = cls.jvp(ctx, *tangents)
    finally:
        ctx._in_jvp = False
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(outs):
        raise RuntimeError(
            f"{cls.__name__}.jvp returned {len(result)} tangents but forward returned "
            f"{len(outs)} outputs; return one per output (None where it is zero)"
        )
    found: list[Any] = []
    for k, (t, out) in enumerate(zip(result, outs)):
        if t is not None:
            t = _checked(t, out.shape, xp, f"{cls.__name__}.jvp: the tangent for output {k}")
            t = t if t.dtype == out.dtype else xp.astype(t, out.dtype)
        found.append(t)
    return found


# --------------------------------------------------------------------------- helpers
def _row_by_row(
    rule: Callable[..., list[Any]],
    values: Sequence[Any],
    cores: Sequence[Sequence[int]],
    width: int,
    xp: SimpleNamespace,
) -> list[Any]:
    """``rule(*values)`` where each value may carry leading batch axes, shape
    ``batch + core``: the rule is written for one, so a stack is split into rows, each
    row pushed through alone, and each of the ``width`` results stacked again."""
    i, lead = next((i, v) for i, v in enumerate(values) if v is not None)
    batch = tuple(lead.shape[: len(lead.shape) - len(cores[i])])
    if not batch:
        return rule(*values)
    n = math.prod(batch)
    stacks = [None if v is None else xp.reshape(v, (n,) + tuple(core)) for v, core in zip(values, cores)]
    rows = [rule(*[None if s is None else s[k, ...] for s in stacks]) for k in range(n)]
    if not rows:
        return [None] * width
    return [
        None
        if rows[0][j] is None
        else xp.reshape(
            xp.concat([xp.expand_dims(row[j], axis=0) for row in rows], axis=0),
            batch + tuple(rows[0][j].shape),
        )
        for j in range(width)
    ]


def _tensor(value: Any, shape: tuple[int, ...], dtype: Any, place: Any) -> Tensor:
    """A gradient or tangent for a user's rule: a Tensor, or for None zeros of ``shape``
    where the array ``place`` is."""
    if value is None:
        return Tensor._make(backends.zeros(shape, place, dtype), None)
    if isinstance(value, Tensor):
        return value
    return Tensor._make(value if backends.is_array(value) else np.asarray(value), None)


def _checked(given: TensorLike, shape: Sequence[int], xp: SimpleNamespace, what: str) -> Any:
    """A value a user's rule returned, as ``xp`` wants it (a Tensor, or an array where the
    values are), with its shape checked."""
    value: Any
    if xp.recording:
        value = given if isinstance(given, Tensor) else Tensor._make(as_array(given, what=what), None)
    else:  # a copy: backward may hand back an array another tensor holds
        value = backends.copy(as_array(given, what=what))
    if tuple(value.shape) != tuple(shape):
        raise ValueError(
            f"{what} has shape {tuple(value.shape)} but must have shape {tuple(shape)}, that of its value"
        )
    return value
