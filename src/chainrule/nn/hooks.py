"""Module hooks, as PyTorch has them: functions called around a module's forward, and
during the backward pass with the gradients at the module's boundary.

- a forward pre-hook ``hook(module, args)`` runs before ``forward``; returning a value
  replaces the positional arguments (a tuple, or one value);
- a forward hook ``hook(module, args, output)`` runs after it; returning a value
  replaces the output;
- a full backward hook ``hook(module, grad_input, grad_output)`` runs when the gradients
  with respect to the module's positional inputs are known: ``grad_output`` holds one
  gradient per output, ``grad_input`` one per positional argument (None for one that is
  not a tensor or needs no gradient); returning a tuple replaces ``grad_input``;
- a full backward pre-hook ``hook(module, grad_output)`` runs when the gradients with
  respect to the module's outputs are known, before those of its inputs are computed;
  returning a tuple (one gradient per output) replaces ``grad_output``.

The backward hook watches the reverse pass from its edges, as PyTorch's does: the
inputs and the outputs each pass through an identity ``Function`` whose backward sees
the gradients going by (the outputs' first, then the inputs'), so the engine's single
reverse walk is observed, not re-implemented.

>>> import chainrule as cr
>>> layer = cr.nn.Linear(2, 1, seed=0)
>>> seen = []
>>> handle = layer.register_full_backward_hook(lambda m, gin, gout: seen.append(gout[0].shape))
>>> layer(cr.ones(3, 2, requires_grad=True)).sum().backward()
>>> seen
[(3, 1)]
>>> handle.remove()
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..function import Function, FunctionCtx
from ..tensor import Tensor

if TYPE_CHECKING:
    from .module import Module

Hooks = OrderedDict[object, tuple[Callable[..., Any], bool]]


class RemovableHandle:
    """What registering a hook returns: ``remove()`` takes the hook out (a second call
    does nothing); also a context manager that removes it on exit."""

    def __init__(self, hooks: Hooks, key: object) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def add_hook(
    hooks: Hooks, hook: Callable[..., Any], prepend: bool, with_kwargs: bool, what: str
) -> RemovableHandle:
    """Put ``hook`` last (or first) among ``hooks``; its key is a fresh object."""
    if not callable(hook):
        raise TypeError(f"{what}: the hook must be callable, got {type(hook).__name__}")
    key = object()
    hooks[key] = (hook, with_kwargs)
    if prepend:
        hooks.move_to_end(key, last=False)
    return RemovableHandle(hooks, key)


def call_with_hooks(module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module.forward(*args, **kwargs)`` with its pre-hooks, hooks and backward hooks."""
    name = type(module).__name__
    for hook, with_kwargs in list(module._forward_pre_hooks.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{name}: a forward pre-hook registered with_kwargs=True must return None or "
                        f"a tuple (args, kwargs), got {type(result).__name__}"
                    )
                args, kwargs = tuple(result[0]), dict(result[1])
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    boundary = _Boundary(module, args) if module._backward_hooks or module._backward_pre_hooks else None
    if boundary is not None and module._backward_hooks:
        args = boundary.watch_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook, with_kwargs in list(module._forward_hooks.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    if boundary is not None:
        output = boundary.watch_outputs(output)
    return output


class _Boundary:
    """One call's gradients at the module's edges, handed to its full backward hooks."""

    def __init__(self, module: Module, args: tuple[Any, ...]) -> None:
        self.module = module
        self.n_inputs = len(args)
        self.input_positions: tuple[int, ...] = ()
        self.grad_outputs: tuple[Any, ...] | None = None

    def watch_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
        if not any(args[i].requires_grad for i in positions):
            return args
        self.input_positions = positions
        passed = _InputGate.apply(self, *(args[i] for i in positions))
        passed = passed if isinstance(passed, tuple) else (passed,)
        new = list(args)
        for i, t in zip(positions, passed):
            new[i] = t
        return tuple(new)

    def watch_outputs(self, output: Any) -> Any:
        single = isinstance(output, Tensor)
        outs = (output,) if single else output
        if not (isinstance(outs, tuple) and outs and all(isinstance(o, Tensor) for o in outs)):
            return output  # only a tensor or a tuple of tensors is watched, as in PyTorch
        if not any(o.requires_grad for o in outs):
            return output
        passed = _OutputGate.apply(self, *outs)
        return passed if single or isinstance(passed, tuple) else (passed,)

    def fire_pre(self, grad_output: tuple[Any, ...]) -> tuple[Any, ...]:
        """Call each pre-hook with (module, grad_output); a returned tuple of the same
        length replaces grad_output for the hooks after it and for the rest of the pass."""
        return self._chain(
            self.module._backward_pre_hooks,
            lambda hook, g: hook(self.module, g),
            grad_output,
            "full backward pre-hook",
            "outputs; return one per output",
        )

    def fire(self, grad_input: tuple[Any, ...]) -> tuple[Any, ...]:
        """Call each hook with (module, grad_input, grad_output); a returned tuple of the
        same length replaces grad_input for the hooks after it and for the inputs."""
        grad_outputs = self.grad_outputs or ()
        return self._chain(
            self.module._backward_hooks,
            lambda hook, g: hook(self.module, g, grad_outputs),
            grad_input,
            "full backward hook",
            "inputs; return one per positional input (None where there is none)",
        )

    def _chain(
        self,
        hooks: dict[Any, Any],
        call: Callable[[Any, tuple[Any, ...]], Any],
        grads: tuple[Any, ...],
        kind: str,
        count: str,
    ) -> tuple[Any, ...]:
        """Run ``hooks`` in order on ``grads``: a returned tuple of the same length replaces
        them for the hooks after it and for the pass; None keeps them."""
        for hook, _ in list(hooks.values()):
            result = call(hook, grads)
            if result is None:
                continue
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(grads):
                raise RuntimeError(
                    f"{type(self.module).__name__}: a {kind} returned {len(result)} gradients, but "
                    f"the module has {len(grads)} {count}, or None to keep them"
                )
            grads = result
        return grads


class _OutputGate(Function):
    """The identity on a module's outputs; its backward records the output gradients."""

    @staticmethod
    def forward(ctx: FunctionCtx, boundary: _Boundary, *outs: Tensor) -> Any:
        ctx.boundary = boundary  # type: ignore[attr-defined]
        return outs if len(outs) > 1 else outs[0]

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        boundary: _Boundary = ctx.boundary  # type: ignore[attr-defined]
        if boundary.module._backward_pre_hooks:
            grads = boundary.fire_pre(grads)
        boundary.grad_outputs = grads
        # no input needs a gradient: fire the full hooks now, with None for each
        if boundary.module._backward_hooks and not boundary.input_positions:
            result = boundary.fire((None,) * boundary.n_inputs)
            if any(g is not None for g in result):
                raise RuntimeError(
                    f"{type(boundary.module).__name__}: no input of this module requires a gradient, "
                    "so its full backward hook must return None (or None for every input)"
                )
        return (None, *grads)

    @staticmethod
    def jvp(ctx: FunctionCtx, boundary: Any, *tangents: Any) -> Any:
        return tangents if len(tangents) > 1 else tangents[0]


class _InputGate(Function):
    """The identity on a module's tensor inputs; its backward fires the hooks."""

    @staticmethod
    def forward(ctx: FunctionCtx, boundary: _Boundary, *inputs: Tensor) -> Any:
        ctx.boundary = boundary  # type: ignore[attr-defined]
        ctx.wanted = tuple(t.requires_grad for t in inputs)  # type: ignore[attr-defined]
        return inputs if len(inputs) > 1 else inputs[0]

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Any) -> Any:
        boundary: _Boundary = ctx.boundary  # type: ignore[attr-defined]
        wanted: tuple[bool, ...] = ctx.wanted  # type: ignore[attr-defined]
        grad_input: list[Any] = [None] * boundary.n_inputs
        for i, g, w in zip(boundary.input_positions, grads, wanted):
            grad_input[i] = g if w else None
        result = boundary.fire(tuple(grad_input))
        return (None, *(result[i] for i in boundary.input_positions))

    @staticmethod
    def jvp(ctx: FunctionCtx, boundary: Any, *tangents: Any) -> Any:
        return tangents if len(tangents) > 1 else tangents[0]
