"""Custom operations: ``cr.Function`` with a hand-written forward and backward.

>>> import chainrule as cr
>>> class Cube(cr.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, g):
...         (x,) = ctx.saved_tensors
...         return g * 3 * x ** 2
>>> x = cr.tensor(2.0, requires_grad=True)
>>> Cube.apply(x).backward(); x.grad
tensor(12.)
"""

from __future__ import annotations

import math

import numpy as np

from . import debug, forward, mode
from .graph import FREED, Node
from .ops.core import OpDef
from .tensor import Tensor, as_array


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self._saved: tuple | None = ()

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            raise RuntimeError(FREED)
        return self._saved


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``.

    ``forward`` receives the arguments as given (Tensors stay Tensors), runs without
    recording and returns a Tensor. ``backward`` receives the output's gradient as a
    Tensor and returns one gradient per forward argument (``None`` for arguments that
    need none). Under ``create_graph=True`` the backward is itself recorded.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args) -> Tensor:
        if mode.state().levels and any(forward.live_tangents(a) for a in args):
            raise RuntimeError(
                f"{cls.__name__}: forward mode (jvp, jacobian(mode='fwd'), hessian) reached this custom "
                "Function, which has no forward-mode rule; differentiate through it in reverse mode "
                "(backward, grad, vjp, jacobian(mode='rev'))")
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with mode.no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            out = Tensor._make(as_array(out, what=f"{cls.__name__}.forward"), None)
        if not (mode.is_grad_enabled() and any(needs) and out.dtype.kind == "f"):
            return out
        if out._node is not None or any(out is a for a in args):
            out, owner = Tensor._make(out._data, None), out._owner()
            out._base = owner  # the same storage: one version count
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        parents = tuple((args[i]._node or args[i]) if needs[i] else None for i in positions)
        params = {"positions": positions, "n_args": len(args), "fn": cls}
        out._node = Node(_opdef(cls), params, parents, ctx, out.shape, out.dtype)
        out._node.inputs = ctx._saved  # their versions are checked before backward reads them
        out._requires_grad = True
        flags = mode.state()
        if flags.debug:
            out._node.site = debug.call_site()
            if flags.keep_inputs:
                params["args"] = args  # localized gradcheck re-runs forward on them
        return out


def _opdef(cls) -> OpDef:
    op = cls.__dict__.get("_chainrule_op")
    if op is None:
        op = OpDef(cls.__name__, "function", vjp=_function_vjp, jvp=_no_jvp)
        cls._chainrule_op = op
    return op


def _function_vjp(g, node, xp):
    """The user's backward, once per cotangent: it is written for one cotangent of the
    output's shape, so a stack of them (a one-pass Jacobian) is pushed through row by row."""
    batch = tuple(g.shape[: g.ndim - len(node.shape)])
    if not batch:
        return _one_vjp(g, node, xp)
    stacked = xp.reshape(g, (math.prod(batch),) + tuple(node.shape))
    rows = [_one_vjp(stacked[k], node, xp) for k in range(stacked.shape[0])]
    out = []
    for i in range(len(node.parents)):
        if rows[0][i] is None:
            out.append(None)
            continue
        column = xp.concat([xp.expand_dims(row[i], axis=0) for row in rows], axis=0)
        out.append(xp.reshape(column, batch + tuple(column.shape[1:])))
    return out


def _one_vjp(g, node, xp):
    cls, ctx = node.params["fn"], node.saved
    if xp.recording:
        grads = cls.backward(ctx, g)
    else:
        with mode.no_grad():
            grads = cls.backward(ctx, Tensor._make(np.asarray(g), None))
    grads = grads if isinstance(grads, tuple) else (grads,)
    if len(grads) != node.params["n_args"]:
        raise RuntimeError(f"{cls.__name__}.backward returned {len(grads)} gradients but forward "
                           f"took {node.params['n_args']} arguments; return one per argument "
                           "(None where there is none)")
    out = []
    for i, parent in zip(node.params["positions"], node.parents):
        gi = grads[i]
        if parent is None or gi is None:
            out.append(None)
            continue
        if not xp.recording:  # a copy: backward may hand back an array another tensor holds
            gi = np.array(as_array(gi, what=f"{cls.__name__}.backward"), copy=True)
        if tuple(gi.shape) != tuple(parent.shape):
            raise ValueError(f"{cls.__name__}.backward: the gradient for argument {i} has shape "
                             f"{tuple(gi.shape)} but that argument has shape {tuple(parent.shape)}")
        out.append(gi)
    return out


def _no_jvp(ts, xs, out, params, xp):
    raise NotImplementedError(f"{params['fn'].__name__}: a custom Function has no forward-mode "
                              "rule; use reverse mode (backward, grad, vjp) through it")
