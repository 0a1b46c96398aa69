"""``custom_vjp`` and ``custom_jvp``: JAX's decorators for hand-written derivative rules.

Both are built on :class:`chainrule.Function` (each decorated function gets a Function
subclass of its own name, so graphs and error messages name it):

- ``custom_vjp``: ``f.defvjp(f_fwd, f_bwd)``; ``f_fwd(*args)`` returns ``(out, residuals)``
  and ``f_bwd(residuals, g)`` a tuple with one cotangent per argument (each nested as its
  argument; None for a zero one). It is the Function's ``backward``. Reverse mode only,
  as in JAX: forward mode (``jvp``, ``jacfwd``, ``hvp``) raises ``RuntimeError``.
- ``custom_jvp``: ``@f.defjvp`` on ``f_jvp(primals, tangents)`` returning
  ``(out, tangent_out)``. It is the Function's ``jvp``; reverse mode transposes it (the
  rule is linear in the tangents): the backward runs the rule on tangents that are
  leaves of a small graph and pulls the cotangent back through it, once per backward
  call (once per row of a reverse Jacobian).

Arguments and outputs may be pytrees. When nothing is differentiated the plain function
runs. Second order works as far as the rules are written with chainrule's operations:

- ``custom_vjp``: f_fwd runs recorded, so residuals stay differentiable in the
  arguments, and f_bwd is recorded under ``create_graph``: reverse over reverse
  (``grad(grad(f))``, ``hessian``, which goes reverse over reverse around it);
- ``custom_jvp``: every combination (``grad(grad)``, ``hessian``, ``jvp`` of ``grad``,
  ``jacfwd(jacrev)``) differentiates the rule itself.

>>> import chainrule as cr
>>> @custom_vjp
... def clip_gradient(x):
...     return x
>>> def clip_fwd(x):
...     return x, None
>>> def clip_bwd(residuals, g):
...     return (cr.clip(g, -1.0, 1.0),)
>>> clip_gradient.defvjp(clip_fwd, clip_bwd)
>>> float(cr.grad(lambda x: 5 * clip_gradient(x))(2.0))   # 5 clipped to 1
1.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np

from . import backends, dtypes, forward, mode
from .autograd import pull_back
from .function import Function, FunctionCtx
from .mode import enable_grad
from .tensor import Tensor, as_array
from .tree import PyTreeDef, tree_flatten

__all__ = ["custom_jvp", "custom_vjp"]

# The custom_vjp functions whose f_fwd is running now (in this thread): a call of one of them
# inside its own f_fwd (``return f(x), residuals``, as JAX code writes it) evaluates f itself.
_IN_FWD: ContextVar[tuple[object, ...]] = ContextVar("chainrule_custom_vjp_in_fwd", default=())


class _Call:
    """One call of a decorated function: its arguments split into the differentiated
    ones (flattened; their leaves go to Function.apply) and the ``nondiff_argnums``."""

    def __init__(self, args: tuple[Any, ...], nondiff_argnums: tuple[int, ...], name: str) -> None:
        for i in nondiff_argnums:
            if not -len(args) <= i < len(args):
                raise ValueError(
                    f"{name}: nondiff_argnums {nondiff_argnums} out of range for {len(args)} argument(s)"
                )
        self.nondiff = {i % len(args) for i in nondiff_argnums}
        self.args = args
        self.positions = [i for i in range(len(args)) if i not in self.nondiff]
        self.leaves, self.in_def = tree_flatten(tuple(args[i] for i in self.positions))
        self.out_def: PyTreeDef | None = None
        self.residuals: tuple[list[Any], PyTreeDef] | None = None
        self.outputs: Any = None  # f_fwd's output values, for the one forward that uses them
        self.rule: Any = None  # the custom_vjp or custom_jvp called

    def nondiff_args(self) -> list[Any]:
        return [self.args[i] for i in sorted(self.nondiff)]

    def differentiated(self, leaves: Sequence[Any]) -> tuple[Any, ...]:
        """The differentiated arguments rebuilt from their leaves."""
        result: tuple[Any, ...] = self.in_def.unflatten(iter(leaves))
        return result

    def all_args(self, leaves: Sequence[Any]) -> list[Any]:
        args = list(self.args)
        for i, value in zip(self.positions, self.differentiated(leaves)):
            args[i] = value
        return args

    def watched(self) -> tuple[bool, bool]:
        """Whether reverse mode and whether forward mode differentiate this call."""
        tensors = [x for x in self.leaves if isinstance(x, Tensor)]
        reverse = mode.is_grad_enabled() and any(t.requires_grad for t in tensors)
        return reverse, bool(mode.state().levels) and any(forward.live_tangents(t) for t in tensors)

    def finish(self, result: Any) -> Any:
        """What Function.apply returned, nested as the function's output."""
        assert self.out_def is not None, "forward set the output structure"
        outs = result if self.out_def.num_leaves != 1 else (result,)
        return self.out_def.unflatten(iter(outs))


def _values(call: _Call, out: Any, name: str) -> Any:
    """The output's leaves as new Tensors (values only), the structure noted on call; a
    Tensor alone for one leaf, as Function.forward returns one output."""
    leaves, call.out_def = tree_flatten(out)
    if not leaves:
        raise TypeError(f"{name}: the function must return at least one tensor")
    values = [
        o.detach() if isinstance(o, Tensor) else Tensor._make(as_array(o, what=name), None) for o in leaves
    ]
    return values[0] if len(values) == 1 else tuple(values)


def _per_leaf(cotangents: Any, call: _Call, name: str, what: str) -> list[Any]:
    """A cotangent (or tangent) per differentiated argument, flattened to one per leaf
    (None for a whole argument means zeros)."""
    count = len(call.positions)
    if not isinstance(cotangents, (tuple, list)) or len(cotangents) != count:
        got = f"a {type(cotangents).__name__}" + (
            f" of {len(cotangents)}" if isinstance(cotangents, (tuple, list)) else ""
        )
        raise TypeError(
            f"{name}: {what} must return a tuple of {count} cotangent(s), one per argument; it returned {got}"
        )
    flat: list[Any] = []
    for value, arg_def in zip(cotangents, call.in_def.children):
        if value is None:
            flat += [None] * arg_def.num_leaves
        else:
            flat += arg_def.flatten_up_to(value, f"{name}: the {what} result")
    return flat


# --------------------------------------------------------------------------- custom_vjp
class _VJPFunction(Function):
    """The Function behind a custom_vjp: forward gives f_fwd's output, backward is f_bwd."""

    @staticmethod
    def forward(ctx: FunctionCtx, call: _Call, *leaves: Any) -> Any:
        ctx.call = call  # type: ignore[attr-defined]
        assert call.residuals is not None, "custom_vjp ran f_fwd first"
        ctx.save_for_backward(*call.residuals[0])
        if call.outputs is None:  # run again at other inputs (gradcheck's localization): f itself
            rule: custom_vjp = call.rule
            return _values(call, rule.fun(*call.all_args(leaves)), rule.name)
        outputs, call.outputs = call.outputs, None
        return outputs

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        call: _Call = ctx.call  # type: ignore[attr-defined]
        rule: custom_vjp = call.rule
        assert call.residuals is not None and call.out_def is not None, "set by the call"
        residuals = call.residuals[1].unflatten(iter(ctx.saved_tensors))
        g = call.out_def.unflatten(iter(grads))
        assert rule.bwd is not None, "defvjp was called"
        cotangents = rule.bwd(*call.nondiff_args(), residuals, g)
        return (None, *_per_leaf(cotangents, call, rule.name, "f_bwd"))


class custom_vjp:
    """A function with a hand-written VJP, as JAX's ``jax.custom_vjp``.

    ``f.defvjp(f_fwd, f_bwd)``: ``f_fwd(*args) -> (out, residuals)`` (out as f returns it,
    residuals any pytree), ``f_bwd(residuals, g) -> tuple`` of cotangents, one per
    argument. With ``nondiff_argnums`` those arguments are not differentiated and come
    first to ``f_bwd(*nondiff_args, residuals, g)``, which returns cotangents for the
    others only.
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        self.name: str = getattr(fun, "__name__", "custom_vjp")
        self.function: type[Function] = type(self.name, (_VJPFunction,), {})

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any) -> Any:
        name = self.name
        if self.fwd is None or self.bwd is None:
            raise TypeError(f"custom_vjp {name}: no rule defined; call {name}.defvjp(f_fwd, f_bwd) first")
        call = _Call(args, self.nondiff_argnums, name)
        reverse, forward_mode = call.watched()
        if forward_mode:
            raise RuntimeError(
                f"custom_vjp {name}: forward mode (jvp, jacfwd, hvp, jacobian(mode='fwd')) cannot "
                "differentiate a custom_vjp function, as in JAX; use custom_jvp for a forward "
                "rule, or reverse mode (grad, vjp, jacrev)"
            )
        running = _IN_FWD.get()
        if not reverse or any(rule is self for rule in running):
            return self.fun(*args)
        token = _IN_FWD.set((*running, self))
        try:
            result = self.fwd(*args)  # recorded: the residuals stay differentiable (second order)
        finally:
            _IN_FWD.reset(token)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise TypeError(f"custom_vjp {name}: f_fwd must return a pair (out, residuals)")
        call.rule = self
        call.residuals = tree_flatten(result[1])
        call.outputs = _values(call, result[0], name)
        return call.finish(self.function.apply(call, *call.leaves))


# --------------------------------------------------------------------------- custom_jvp
class _JVPFunction(Function):
    """The Function behind a custom_jvp: forward is f, jvp is the rule, backward its transpose."""

    @staticmethod
    def forward(ctx: FunctionCtx, call: _Call, *leaves: Any) -> Any:
        ctx.call = call  # type: ignore[attr-defined]
        ctx.save_for_backward(*leaves)
        ctx.save_for_forward(*leaves)
        rule: custom_jvp = call.rule
        return _values(call, rule.fun(*call.all_args(leaves)), rule.name)

    @staticmethod
    def jvp(ctx: FunctionCtx, *tangents: Any) -> Any:
        call: _Call = ctx.call  # type: ignore[attr-defined]
        leaves = ctx.saved_tensors
        ts = [_zero_tangent(p) if t is None else t for p, t in zip(leaves, tangents[1:])]
        result = _tangents_out(call, leaves, ts)
        return result[0] if len(result) == 1 else tuple(result)

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        """Gradients by transposing the rule: tangent leaves t, u ↦ ∂⟨u, rule(t)⟩/∂t."""
        call: _Call = ctx.call  # type: ignore[attr-defined]
        recording = mode.is_grad_enabled()  # under create_graph: keep the primals' graph
        leaves = [p if recording or not isinstance(p, Tensor) else p.detach() for p in ctx.saved_tensors]
        variables = {
            i: Tensor._make(backends.zeros(p.shape, p._data), None).requires_grad_(True)
            for i, p in enumerate(leaves)
            if isinstance(p, Tensor) and dtypes.kind(p.dtype) == "f"
        }
        ts = [variables[i] if i in variables else _zero_tangent(p) for i, p in enumerate(leaves)]
        try:
            with enable_grad():
                outs = _tangents_out(call, leaves, ts)
            total: list[Tensor] | None = None
            targets = list(variables.values())
            for t_out, g in zip(outs, grads):
                if t_out is None:
                    continue
                t_out = t_out if isinstance(t_out, Tensor) else Tensor._make(as_array(t_out), None)
                parts = pull_back(t_out, targets, g, create_graph=recording)
                total = parts if total is None else [a + b for a, b in zip(total, parts)]
        finally:
            for v in variables.values():
                v._requires_grad = False
        by_leaf = dict(zip(variables, total)) if total is not None else {}
        return (None, *[by_leaf.get(i) for i in range(len(leaves))])


def _zero_tangent(p: Any) -> Any:
    """The tangent of an argument leaf nothing perturbs: zeros if it is floating, else None."""
    value = p.data if isinstance(p, Tensor) else np.asarray(p)
    return Tensor._make(backends.zeros(value.shape, value), None) if dtypes.kind(value.dtype) == "f" else None


def _tangents_out(call: _Call, leaves: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
    """The rule's tangent of each output leaf (None where it gives None) at these leaves."""
    rule: custom_jvp = call.rule
    name = rule.name
    assert rule.jvp is not None and call.out_def is not None, "set by defjvp and forward"
    result = rule.jvp(*call.nondiff_args(), call.differentiated(leaves), call.differentiated(tangents))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"custom_jvp {name}: the jvp rule must return a pair (out, tangent_out)")
    return call.out_def.flatten_up_to(result[1], f"custom_jvp {name}: tangent_out")


class custom_jvp:
    """A function with a hand-written JVP, as JAX's ``jax.custom_jvp``.

    ``@f.defjvp`` on ``f_jvp(primals, tangents) -> (out, tangent_out)``: primals and
    tangents are tuples with one entry per argument, tangent_out is nested as f's
    output. With ``nondiff_argnums`` those arguments come first, ``f_jvp(*nondiff_args,
    primals, tangents)``, and are left out of primals and tangents. The primal output is
    f's own (the rule's ``out`` is not used).
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp: Callable[..., Any] | None = None
        self.name: str = getattr(fun, "__name__", "custom_jvp")
        self.function: type[Function] = type(self.name, (_JVPFunction,), {})

    def defjvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        self.jvp = jvp
        return jvp

    def __call__(self, *args: Any) -> Any:
        name = self.name
        if self.jvp is None:
            raise TypeError(f"custom_jvp {name}: no rule defined; decorate one with @{name}.defjvp first")
        call = _Call(args, self.nondiff_argnums, name)
        if not any(call.watched()):
            return self.fun(*args)
        call.rule = self
        return call.finish(self.function.apply(call, *call.leaves))
