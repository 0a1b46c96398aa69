"""Containers: Sequential, ModuleList, ModuleDict and ParameterList, as in PyTorch.

Their members are registered under the names PyTorch gives them ("0", "1", … or the
dict's keys), so parameter names and state-dict keys are PyTorch's for the same
architecture (``"layers.0.weight"``).

>>> import chainrule as cr
>>> class Stack(cr.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.layers = cr.nn.ModuleList([cr.nn.Linear(2, 2, seed=i) for i in range(2)])
...         self.scales = cr.nn.ParameterList([cr.nn.Parameter([1.0])])
...     def forward(self, x):
...         for layer in self.layers:
...             x = layer(x)
...         return x * self.scales[0]
>>> list(Stack().state_dict())
['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias', 'scales.0']
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from ..tensor import Tensor, TensorLike
from .module import Module, Parameter

__all__ = ["ModuleDict", "ModuleList", "ParameterList", "Sequential"]


def _checked_module(owner: str, module: Any, where: str) -> Module:
    """``module`` if it is a Module instance, else the TypeError that says what it is."""
    if not isinstance(module, Module):
        what = f"the class {module.__name__}" if isinstance(module, type) else type(module).__name__
        raise TypeError(
            f"{owner}: {where} is {what}, not a Module instance; pass layers such as nn.ReLU(), "
            "not functions or classes"
        )
    return module


def _position(owner: str, index: Any, length: int, inserting: bool = False) -> int:
    """``index`` (negative counts from the end) as a position in [0, length)."""
    i = operator.index(index)
    size = length + 1 if inserting else length
    if not -size <= i < size:
        raise IndexError(f"{owner}: index {i} is out of range for {length} members")
    return i + length if i < 0 else i


class _Indexed(Module):
    """Members named "0", "1", …: the shared part of Sequential and ModuleList."""

    def _renumber(self, modules: list[Module]) -> None:
        for name in list(self._modules):
            object.__delattr__(self, name)
        self._modules.clear()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __setitem__(self, index: int, module: Module) -> None:
        i = _position(type(self).__name__, index, len(self))
        setattr(self, str(i), _checked_module(type(self).__name__, module, f"item {i}"))

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_position(type(self).__name__, index, len(modules))]
        self._renumber(modules)

    def append(self, module: Module) -> Any:
        """Add ``module`` at the end; returns self."""
        setattr(self, str(len(self)), _checked_module(type(self).__name__, module, "the appended value"))
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(_position(type(self).__name__, index, len(modules), inserting=True), module)
        _checked_module(type(self).__name__, module, "the inserted value")
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the member at ``index``."""
        modules = list(self._modules.values())
        module = modules.pop(_position(type(self).__name__, index, len(modules)))
        self._renumber(modules)
        return module


class Sequential(_Indexed):
    """Modules applied in order: Sequential(a, b, c)(x) = c(b(a(x))). They are named "0",
    "1", … or, given one ``OrderedDict``, by its keys (as in PyTorch).

    Anything that is not a Module raises ``TypeError`` (as in PyTorch): a function or a
    class passed by mistake would otherwise be dropped from the chain without a word.
    Indexing with a slice gives a Sequential of those members, under their names.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                setattr(self, name, _checked_module("Sequential", module, f"entry {name!r}"))
            return
        for i, module in enumerate(modules):
            setattr(self, str(i), _checked_module("Sequential", module, f"argument {i}"))

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    def __getitem__(self, index: int | slice) -> Module | Sequential:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[_position("Sequential", index, len(items))][1]

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x


class ModuleList(_Indexed):
    """A list of modules, registered as "0", "1", …: their parameters are the list's.

    It has no ``forward``; iterate over it in the forward of the module that holds it.
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> ModuleList: ...
    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[_position("ModuleList", index, len(modules))]

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)  # type: ignore[no-any-return]

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])


class ModuleDict(Module):
    """A dict of modules, registered under their keys (kept in insertion order)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r} (keys: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _checked_module("ModuleDict", module, f"the value for {key!r}"))

    def __delitem__(self, key: str) -> None:
        self[key]  # noqa: B018 - the KeyError that names the keys
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        for key in list(self._modules):
            del self[key]

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for j, pair in enumerate(pairs):
            if isinstance(modules, Mapping):
                key, module = pair
            else:
                if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                    raise TypeError(
                        f"ModuleDict.update: element {j} should be a (key, module) pair, got {pair!r}"
                    )
                key, module = pair
            self[key] = module


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", …; a plain tensor or array appended
    becomes a Parameter, as in PyTorch."""

    def __init__(self, values: Iterable[TensorLike] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    @staticmethod
    def _as_parameter(value: TensorLike) -> Parameter:
        if isinstance(value, Parameter):
            return value
        if isinstance(value, Tensor):
            return Parameter(value.data)
        return Parameter(value)

    def __getitem__(self, index: int) -> Parameter:
        i = _position("ParameterList", index, len(self))
        p = self._parameters[str(i)]
        assert p is not None
        return p

    def __setitem__(self, index: int, value: TensorLike) -> None:
        i = _position("ParameterList", index, len(self))
        setattr(self, str(i), self._as_parameter(value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return (self[i] for i in range(len(self)))

    def append(self, value: TensorLike) -> ParameterList:
        setattr(self, str(len(self)), self._as_parameter(value))
        return self

    def extend(self, values: Iterable[TensorLike]) -> ParameterList:
        if isinstance(values, (Tensor, str)):
            raise TypeError(
                f"ParameterList.extend: expected an iterable of tensors, got {type(values).__name__}"
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return ", ".join(f"({i}): Parameter of shape {p.shape}" for i, p in enumerate(self))
