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
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..tensor import Tensor, TensorLike


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
    _modules: OrderedDict[str, Module]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
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
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- the tree
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule, depth first, with dotted names ("" for self)."""
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        return (module for _, module in self.named_modules())

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
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Name → a copy of each parameter's values, in registration order."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

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
        params = OrderedDict(self.named_parameters())
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


def _checked_value(name: str, value: npt.ArrayLike, p: Parameter) -> np.ndarray:
    """``value`` as a new array of ``p``'s shape and dtype, or the error that names why not."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf" or not np.can_cast(arr.dtype, p.dtype, casting="same_kind"):
        raise TypeError(
            f"load_state_dict: {name} has dtype {arr.dtype} in the state but {p.dtype} in "
            "the model, and casting it would lose information; convert it explicitly "
            f"if that is meant (.astype({p.dtype.name}))"
        )
    if arr.shape != p.shape:
        raise ValueError(
            f"load_state_dict: {name} has shape {arr.shape} in the state but {p.shape} in the model"
        )
    return arr.astype(p.dtype, copy=True)
