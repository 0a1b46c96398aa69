"""Module and Parameter: a model is a tree of modules whose leaves hold parameters.

Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it, in
the order of assignment, so ``named_parameters()`` walks the tree with dotted names
(``"hidden.weight"``) and ``state_dict()`` / ``load_state_dict()`` save and restore
every parameter by that name. A registered parameter's attribute then takes only a
Parameter (which replaces it in place) or None (which keeps the name but leaves it out
of ``parameters()``), as in PyTorch: a plain Tensor there would silently stop being
trained and saved, so it raises TypeError.

>>> import chainrule as cr
>>> class Affine(cr.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.a = cr.nn.Parameter([2.0])
...         self.b = cr.nn.Parameter([1.0])
...     def forward(self, x):
...         return self.a * x + self.b
>>> m = Affine()
>>> [name for name, _ in m.named_parameters()]
['a', 'b']
>>> m(cr.tensor([3.0])).sum().backward(); m.a.grad      # d(ax + b)/da = x
tensor([3.])
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from .. import backends, dtypes
from ..tensor import Tensor, TensorLike
from .hooks import Hooks, RemovableHandle, add_hook, call_with_hooks

_ModuleT = TypeVar("_ModuleT", bound="Module")


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable: a leaf with ``requires_grad=True``.

    Made from a copy of ``data`` (an ndarray keeps its dtype, Python floats become the
    default dtype); ``requires_grad=False`` makes a frozen parameter.
    """

    __slots__ = ()

    def __init__(self, data: TensorLike, requires_grad: bool = True) -> None:
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(KeyError, ValueError):
    """``load_state_dict`` got a state whose names differ from the model's: a missing key
    (KeyError) and a bad argument (ValueError) at once, so either ``except`` catches it."""

    def __str__(self) -> str:
        return str(self.args[0])  # the message as written, not quoted as KeyError would


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped: the model's names that the
    state lacks and the state's names that the model lacks (both empty when strict)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclass it and define ``forward``.

    Calling the module calls ``forward``. ``training`` is True after construction
    and after ``train()``; ``eval()`` sets it False (Dropout reads it).
    """

    _parameters: OrderedDict[str, Parameter | None]
    _buffers: OrderedDict[str, Tensor | None]
    _modules: OrderedDict[str, Module]
    _forward_pre_hooks: Hooks
    _forward_hooks: Hooks
    _backward_hooks: Hooks
    _backward_pre_hooks: Hooks
    _non_persistent_buffers_set: set[str]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attribute {name!r}"
            )
        if isinstance(value, Parameter) or name in self._parameters:
            if value is not None and not isinstance(value, Parameter):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter {name!r} "
                    "(cr.nn.Parameter or None expected); wrap it in cr.nn.Parameter to replace the "
                    "parameter, or update its values in place under no_grad "
                    f"(with cr.no_grad(): module.{name}.copy_(values))"
                )
            self._modules.pop(name, None)
            self._parameters[name] = value  # None keeps the name registered, out of parameters()
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as buffer {name!r} "
                    "(a Tensor or None expected)"
                )
            self._buffers[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent_buffers_set.discard(name)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
            return call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- hooks
    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward (``hook(module, args, kwargs)``
        with ``with_kwargs``); a value it returns replaces the arguments. Returns a handle
        whose ``remove()`` takes the hook out."""
        return add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs, "register_forward_pre_hook")

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward (``hook(module, args,
        kwargs, output)`` with ``with_kwargs``); a value it returns replaces the output."""
        return add_hook(self._forward_hooks, hook, prepend, with_kwargs, "register_forward_hook")

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` during backward, once the gradients
        with respect to the module's positional inputs are computed (see ``nn.hooks``)."""
        return add_hook(self._backward_hooks, hook, prepend, False, "register_full_backward_hook")

    def register_full_backward_pre_hook(
        self, hook: Callable[..., Any], prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` during backward, once the gradients with
        respect to the module's outputs are known and before those with respect to its
        inputs are computed; a tuple it returns (one gradient per output) replaces
        ``grad_output`` for the hooks after it and for the rest of the pass (see ``nn.hooks``)."""
        return add_hook(self._backward_pre_hooks, hook, prepend, False, "register_full_backward_pre_hook")

    # ------------------------------------------------------------- the tree
    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names ("" for self);
        a module reached twice is listed once unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        return (module for _, module in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names, each listed once."""
        seen: set[Module] = set()
        for name, module in self._modules.items():
            if module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        return (module for _, module in self.named_children())

    def apply(self: _ModuleT, fn: Callable[[Module], Any]) -> _ModuleT:
        """Call ``fn`` on every submodule (children first) and then on this module; returns
        self. The usual use is initialization: ``model.apply(init_weights)``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def requires_grad_(self: _ModuleT, requires_grad: bool = True) -> _ModuleT:
        """Set ``requires_grad`` of every parameter (False freezes them); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` under ``name``, as assigning the attribute does."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(
                f"{type(self).__name__}: a module name is a non-empty string without '.', got {name!r}"
            )
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}: {type(module).__name__} is not a Module (add_module {name!r})"
            )
        if module is None:
            self._modules.pop(name, None)
            object.__setattr__(self, name, None)
            return
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None) under ``name``."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(
                f"{type(self).__name__}: a parameter name is a non-empty string without '.', got {name!r}"
            )
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"{type(self).__name__}: cannot register {type(param).__name__} as parameter {name!r} "
                "(cr.nn.Parameter or None expected)"
            )
        self._parameters[name] = param
        self._modules.pop(name, None)
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor``, a state that is not trained (a loss's class weights), under
        ``name``: it is saved in ``state_dict()`` after the parameters, as in PyTorch.
        With ``persistent=False`` it is still an attribute and in ``buffers()``, but
        ``state_dict()`` leaves it out and ``load_state_dict`` does not expect it."""
        if not isinstance(name, str) or not name or "." in name or name in self._parameters:
            raise KeyError(
                f"{type(self).__name__}: a buffer name is a new non-empty string without '.', got {name!r}"
            )
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"{type(self).__name__}: cannot register {type(tensor).__name__} as buffer {name!r} "
                "(a Tensor or None expected)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        self._modules.pop(name, None)
        object.__setattr__(self, name, tensor)

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        """Every buffer with its dotted name, each listed once."""
        seen: set[Tensor] = set()
        for prefix, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None and b not in seen:
                    seen.add(b)
                    yield (f"{prefix}.{name}" if prefix else name), b

    def buffers(self) -> Iterator[Tensor]:
        return (b for _, b in self.named_buffers())

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` ("" is this module)."""
        module: Module = self
        for part in target.split(".") if target else ():
            if part not in module._modules:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule {part!r} (looking up {target!r})"
                )
            module = module._modules[part]
        return module

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name; one shared by two modules is listed once."""
        seen: set[Parameter] = set()
        for prefix, module in self.named_modules():
            for name, p in module._parameters.items():
                if p is not None and p not in seen:
                    seen.add(p)
                    yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self) -> Iterator[Parameter]:
        return (p for _, p in self.named_parameters())

    def zero_grad(self) -> None:
        """Set ``.grad`` of every parameter to None."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all submodules; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``): Dropout passes its input through."""
        return self.train(False)

    # ------------------------------------------------------------- saving
    def _state_entries(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every (dotted name, parameter or buffer) a state dict holds, as PyTorch's: each
        module's parameters, then its buffers, then its submodules'; a parameter or a
        module registered under two names is saved under both. Non-persistent buffers
        are left out."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                yield prefix + name, b
        for name, module in self._modules.items():
            yield from module._state_entries(f"{prefix}{name}.")

    def state_dict(self, *, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Any]:
        """Name → a copy of each parameter's values on the host (NumPy arrays, from any
        device), in registration order, under the names PyTorch gives the same architecture
        ("0.weight" in a Sequential), so it loads into the torch model:
        ``load_state_dict({k: torch.tensor(v) for k, v in sd.items()})``.
        ``keep_vars=True`` gives the Parameters themselves."""
        return OrderedDict(
            (name, p if keep_vars else np.array(backends.host(p._data), copy=True))
            for name, p in self._state_entries(prefix)
        )

    def to(self: _ModuleT, *args: Any, dtype: Any = None, device: Any = None) -> _ModuleT:
        """Move every parameter and buffer to a device and/or convert it to a floating dtype,
        in place, as PyTorch's ``module.to``: ``model.to("cuda")``, ``model.to(x.device)``,
        ``model.to(cr.float64)``. The Parameter objects stay the same (an optimizer made
        before keeps working); their gradients move with them.

        >>> import chainrule as cr
        >>> model = cr.nn.Linear(2, 1).to(cr.float64)
        >>> model.weight.dtype, model.weight.device
        (dtype('float64'), 'cpu')
        """
        for _, t in self._state_entries():
            floating = dtypes.kind(t.dtype) == "f"
            moved = t.to(*args, dtype=dtype, device=device) if floating or dtype is None else t
            if moved is t:
                continue
            t._data = moved._data  # the same Parameter, its values elsewhere
            grad = t._grad
            if grad is not None:  # a row-sparse gradient moves as the dense one it stands for
                dense = grad if isinstance(grad, Tensor) else grad.to_dense()
                t._grad = dense.to(*args, dtype=dtype, device=device)
        return self

    def cpu(self: _ModuleT) -> _ModuleT:
        """``to("cpu")``: every parameter and buffer on the host, as NumPy arrays."""
        return self.to("cpu")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters of the same names, all or none.

        Every entry is checked before any parameter changes, so a failed load leaves
        the model bit-identical: with ``strict`` (the default) the names must match
        exactly (:class:`StateDictError`, a KeyError and a ValueError, naming the
        missing and the unexpected ones); every shape must match (``ValueError``
        naming both); every dtype must cast to the parameter's within its kind, as
        float64 to float32 does (``TypeError`` for float into int, complex into float
        or anything not numeric). With ``strict=False`` the names in common are
        loaded and the others are returned, as PyTorch does.

        ``state_dict`` is a mapping such as ``state_dict()`` returns; to load a file
        saved with ``np.savez(path, **model.state_dict())`` pass ``dict(np.load(path))``.
        """
        if not isinstance(state_dict, Mapping):
            hint = (
                "; to read a file saved by np.savez, load it first: "
                "model.load_state_dict(dict(np.load(path)))"
                if isinstance(state_dict, (str, bytes, os.PathLike))
                else ""
            )
            raise TypeError(
                f"load_state_dict: expected a mapping of names to arrays, got "
                f"{type(state_dict).__name__}{hint}"
            )
        params = OrderedDict(self._state_entries())
        missing = [name for name in params if name not in state_dict]
        unexpected = [name for name in state_dict if name not in params]
        if strict and (missing or unexpected):
            raise StateDictError(f"load_state_dict: missing {missing}, unexpected {unexpected}")
        values = {
            name: _checked_value(name, state_dict[name], p)
            for name, p in params.items()
            if name in state_dict
        }
        for name, value in values.items():
            params[name].data = value
        return IncompatibleKeys(missing, unexpected)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            lines.append(f"  ({name}): " + repr(module).replace("\n", "\n  "))
        return lines[0] + ")" if len(lines) == 1 else "\n".join(lines) + "\n)"


def _checked_value(name: str, value: npt.ArrayLike, p: Tensor) -> Any:
    """``value`` as a new array of ``p``'s shape and dtype, or the error that names why not."""
    arr = backends.host(value._data if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "biuf" or not np.can_cast(arr.dtype, backends.numpy_dtype(p.dtype), "same_kind"):
        raise TypeError(
            f"load_state_dict: {name} has dtype {arr.dtype} in the state but {p.dtype} in "
            "the model, and casting it would lose information; convert it explicitly "
            f"if that is meant (.astype({p.dtype.name}))"
        )
    if arr.shape != p.shape:
        raise ValueError(
            f"load_state_dict: {name} has shape {arr.shape} in the state but {p.shape} in the model"
        )
    return backends.move(arr.astype(backends.numpy_dtype(p.dtype), copy=True), p.device)
