"""The base of every optimizer: its parameter groups, their state, ``step``,
``zero_grad`` and ``state_dict``, as PyTorch lays them out.

Parameters come in *groups*: ``param_groups`` is a list of dicts, each holding its
``"params"`` (a list of Tensors) and its own copy of every setting (``"lr"``,
``"weight_decay"``, ...), so a learning-rate scheduler, or a user, changes
``param_groups[i]["lr"]`` and the next step uses it. An optimizer takes either an
iterable of Tensors (one group with the constructor's settings) or a list of dicts,
each a group whose missing settings are the constructor's (``defaults``)::

    SGD([{"params": body.parameters()}, {"params": head.parameters(), "lr": 1e-3}], lr=1e-2)

An update rule is written once, on the rows it changes: for a dense gradient those
are all of the parameter (``...``); for a row-sparse gradient (a sparse embedding's)
only the rows looked up, so every other row — its value and its optimizer state —
stays bit-identical.

PyTorch's switches take the same keywords, and may be set per group as well:
``maximize=True`` ascends (each rule sees −g in place of g, as in PyTorch, before its
weight decay); ``foreach``, ``fused`` and (where PyTorch has it) ``capturable`` choose
PyTorch's kernels, a for-loop, multi-tensor or fused implementation of one formula, so
they are accepted and stored with no effect on the numbers (``foreach=True`` with
``fused=True`` is refused, as PyTorch refuses it); ``differentiable=True`` is refused, as a
step updates the parameters in place, outside any graph.

>>> import chainrule as cr
>>> a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([1.0], requires_grad=True)
>>> opt = cr.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.25)
>>> [g["lr"] for g in opt.param_groups]
[0.25, 0.5]
>>> (a + b).sum().backward(); opt.step()
>>> a.tolist(), b.tolist()
([0.75], [0.5])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import EllipsisType
from typing import Any, TypeAlias

import numpy as np

from .. import backends, dtypes
from ..mode import enable_grad, no_grad
from ..ops.extras import put_rows
from ..sparse import RowSparse
from ..tensor import Tensor

Rows: TypeAlias = "Any | EllipsisType"
"""The rows of a parameter an update changes: the indices a row-sparse gradient holds (an
integer array where the parameter is), or ``...`` for all of them."""

Group: TypeAlias = "dict[str, Any]"
"""One parameter group: ``"params"`` (a list of Tensors) and the settings they share."""


def read_rows(array: Any, rows: Rows) -> Any:
    """``array[rows]``: the whole array for ``...``, else a copy of the rows (off NumPy by
    ``take`` along the first axis: the standard's indexing takes no integer arrays)."""
    if rows is Ellipsis or type(array) is np.ndarray:
        return array[rows]
    return backends.namespace_of(array).take(array, rows, axis=0)


def write_rows(array: Any, rows: Rows, new: Any) -> None:
    """``array[rows] = new`` in place: every row for ``...``, else the (distinct) rows a
    row-sparse gradient holds, by :func:`~chainrule.ops.extras.put_rows` off NumPy."""
    if rows is Ellipsis or type(array) is np.ndarray:
        array[rows] = new
    else:
        put_rows(backends.namespace_of(array), array, rows, new)


def check_nonnegative(name: str, **values: float) -> None:
    """A ValueError naming the optimizer and the setting when a value is negative."""
    for setting, value in values.items():
        if not value >= 0:
            raise ValueError(f"{name}: invalid {setting} {value}; it must be >= 0")


def check_fraction(name: str, setting: str, value: float, *, one: bool = False) -> None:
    """A ValueError naming the optimizer unless 0 <= value < 1 (value <= 1 when ``one``)."""
    if not (0 <= value <= 1 if one else 0 <= value < 1):
        interval = "[0, 1]" if one else "[0, 1)"
        raise ValueError(f"{name}: invalid {setting} {value}; it must be in {interval}")


def check_parameters(
    name: str, params: Iterable[Tensor], seen: dict[Tensor, int] | None = None
) -> list[Tensor]:
    """``params`` as a list, each a distinct floating-point leaf Tensor, or the error that
    names the optimizer, the parameter's position and its shape.

    ``seen`` maps the parameters of groups already taken to their positions (counted
    across all groups, as ``state_dict`` numbers them), and is extended.

    A tensor computed from others (a non-leaf) is rebuilt by every forward pass, so
    updating it trains nothing; a tensor listed twice would be stepped twice per step.
    A leaf that does not require grad is accepted, as in PyTorch: it moves when it
    has a ``.grad``.
    """
    if isinstance(params, Tensor):
        raise TypeError(
            f"{name}: params must be an iterable of Tensors, got one Tensor of shape "
            f"{params.shape}; pass [tensor]"
        )
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"{name}: params must be an ordered collection (a list), not a set: the order of a "
            "set changes from run to run, and state_dict numbers parameters by position"
        )
    params = list(params)
    position = {} if seen is None else seen
    for i, p in enumerate(params, start=len(position)):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, not a Tensor")
        if not dtypes.is_differentiable(p.dtype):
            raise TypeError(
                f"{name}: parameter {i} (shape {p.shape}) has dtype {p.dtype}; only "
                "floating-point tensors can be optimized"
            )
        if p.grad_fn is not None:
            raise ValueError(
                f"{name}: can't optimize a non-leaf Tensor: parameter {i} (shape {p.shape}) "
                f"was computed by {p.grad_fn.name}; pass the leaf tensors it was "
                "computed from, or a detached copy with requires_grad=True"
            )
        if p in position:
            raise ValueError(
                f"{name}: parameter {i} (shape {p.shape}) is the same tensor as parameter "
                f"{position[p]}; list each parameter once"
            )
        position[p] = i
    return params


def _is_named(item: object) -> bool:
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], Tensor)
    )


def split_groups(name: str, params: Iterable[Any]) -> list[Group]:
    """What an optimizer was given, as a list of group dicts: Tensors (or PyTorch's
    ``(name, tensor)`` pairs, as ``named_parameters()`` gives them) make one group; a
    list of dicts is a list of groups."""
    if isinstance(params, Tensor):
        check_parameters(name, params)  # the error that says "pass [tensor]"
    if isinstance(params, dict):
        raise TypeError(
            f"{name}: params must be an iterable of Tensors or of dicts, got one dict; pass [dict]"
        )
    if isinstance(params, (set, frozenset)):
        check_parameters(name, params)  # the error that says "not a set"
    items = list(params)
    if not items:
        raise ValueError(f"{name}: got an empty parameter list")
    if all(isinstance(item, dict) for item in items):
        return [dict(item) for item in items]
    if any(isinstance(item, dict) for item in items):
        raise TypeError(
            f"{name}: params mixes dicts (parameter groups) with other items; give one or the other"
        )
    if all(_is_named(item) for item in items):
        return [{"params": [t for _, t in items], "param_names": [n for n, _ in items]}]
    return [{"params": items}]


PYTORCH_ONLY: dict[str, Any] = {"differentiable": False}
"""Settings of PyTorch's optimizers that chainrule lacks, with the value that changes nothing:
a group (or a loaded PyTorch state dict) may carry them at that value, never at another. Its
``foreach``, ``fused`` and ``capturable`` choose a kernel, not the numbers, and pass."""

WHY_NOT: dict[str, str] = {
    "differentiable": "a step updates the parameters in place, outside any graph, so it "
    "cannot be differentiated"
}
"""Why a setting of :data:`PYTORCH_ONLY` cannot take another value, where one sentence says it."""


class Optimizer:
    """Holds ``param_groups`` (see the module's docstring), ``defaults`` (the constructor's
    settings) and ``state``, a dict of per-parameter state dicts.

    A subclass passes its settings as ``defaults``, checks a group's settings in
    :meth:`check_settings`, makes a parameter's state in :meth:`prepare_state` and writes
    its rule in :meth:`update`.
    """

    pytorch_only: dict[str, Any] = {}
    """A subclass's settings of :data:`PYTORCH_ONLY` kind (SGD's dampening ...)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        self.check_settings(defaults)
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[Group] = []
        seen: dict[Tensor, int] = {}
        for group in split_groups(name, params):
            self._add_group(group, seen)
        if not seen:
            raise ValueError(f"{name}: got an empty parameter list")

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: Group) -> None:
        """Add a group (a dict with ``"params"`` and any settings to override), as PyTorch's
        ``add_param_group``: fine-tuning unfreezes a layer this way."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{type(self).__name__}: a parameter group is a dict, got {type(param_group).__name__}"
            )
        seen = {p: i for i, p in enumerate(self.params)}
        self._add_group(dict(param_group), seen)

    def _add_group(self, group: Group, seen: dict[Tensor, int]) -> None:
        name = type(self).__name__
        if "params" not in group:
            raise ValueError(f"{name}: parameter group {len(self.param_groups)} has no 'params'")
        params = group["params"]
        group["params"] = check_parameters(name, [params] if isinstance(params, Tensor) else params, seen)
        for setting, value in self.defaults.items():
            group.setdefault(setting, value)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: Group) -> None:
        name = type(self).__name__
        for setting, neutral in {**PYTORCH_ONLY, **self.pytorch_only}.items():
            if setting in group and group[setting] != neutral:
                why = f": {WHY_NOT[setting]}" if setting in WHY_NOT else ""
                raise ValueError(
                    f"{name}: {setting}={group[setting]!r} is not supported{why} "
                    f"(only {setting}={neutral!r}, PyTorch's default)"
                )
        if group.get("foreach") and group.get("fused"):
            raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together (as in PyTorch)")
        self.check_settings(group)

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, group after group (the positions ``state_dict`` uses)."""
        return [p for group in self.param_groups for p in group["params"]]

    def _shared(self, setting: str) -> Any:
        values = {repr(group[setting]) for group in self.param_groups}
        if len(values) > 1:
            raise AttributeError(
                f"{type(self).__name__}: the parameter groups have different {setting}s; "
                f"read param_groups[i][{setting!r}]"
            )
        return self.param_groups[0][setting]

    def _set_everywhere(self, setting: str, value: Any) -> None:
        for group in self.param_groups:
            self.check_settings({**group, setting: value})
        for group in self.param_groups:
            group[setting] = value

    @property
    def lr(self) -> float:
        """The learning rate of every group (an AttributeError when the groups differ);
        setting it sets every group's."""
        return float(self._shared("lr"))

    @lr.setter
    def lr(self, value: float) -> None:
        self._set_everywhere("lr", value)

    @property
    def weight_decay(self) -> float:
        """The weight decay of every group, read and set as :attr:`lr` is."""
        return float(self._shared("weight_decay"))

    @weight_decay.setter
    def weight_decay(self, value: float) -> None:
        self._set_everywhere("weight_decay", value)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set ``.grad`` of every parameter to None (the next backward starts afresh), or
        to zeros with ``set_to_none=False``."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = backends.zeros(p.shape, p._data)

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place on ``.data`` (each update
        counts in the parameter's version, as any in-place change does).

        ``closure``, as in PyTorch, recomputes the loss (with gradients recorded) before
        the step; its value is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        work = []
        for position, (p, group) in enumerate((p, g) for g in self.param_groups for p in g["params"]):
            grad = p.grad
            if grad is None:
                continue
            if isinstance(grad, RowSparse):
                refusal = self.sparse_refusal(group)
                if refusal is not None:  # before any parameter moves
                    raise RuntimeError(
                        f"{type(self).__name__}: parameter {position} (shape {p.shape}) has a "
                        f"row-sparse gradient (a sparse embedding's), and {refusal}"
                    )
            work.append((p, grad, group))
        for p, grad, group in work:
            if isinstance(grad, RowSparse):
                rows, g = grad.indices, grad.values
            else:
                rows, g = Ellipsis, grad._data if backends.is_array(grad._data) else np.asarray(grad._data)
            if group.get("maximize"):
                g = -g  # ascend: PyTorch's rules negate the gradient before anything else
            state = self.state.setdefault(p, {})
            self.prepare_state(state, p.data, group)
            x = p.data if rows is Ellipsis else read_rows(p.data, rows)  # all of it, or a copy of rows
            new = self.update(x, g, rows, state, group)
            if new is not x or rows is not Ellipsis:
                write_rows(p.data, rows, new)
            p._count_change()  # a graph that saved the old value now refuses it
        return loss

    # ------------------------------------------------------------------ what a subclass writes
    def check_settings(self, group: Group) -> None:
        """Raise a ValueError naming the optimizer when a setting of ``group`` is invalid."""

    def sparse_refusal(self, group: Group) -> str | None:
        """Why this group's settings cannot take a row-sparse gradient, or None if they can."""
        return None

    def prepare_state(self, state: dict[str, Any], data: np.ndarray, group: Group) -> None:
        """Add to ``state`` what the group's settings need and it lacks yet (arrays shaped
        like ``data``, the whole parameter): called before every update."""

    def update(
        self, x: np.ndarray, g: np.ndarray, rows: Rows, state: dict[str, Any], group: Group
    ) -> np.ndarray:
        """The new values of the rows ``x = p.data[rows]`` whose gradient is ``g`` (a rule may
        update ``x`` in place and return it: for dense gradients x is the parameter itself).

        Arrays in ``state`` have the whole parameter's shape; a rule reads and
        writes them at ``rows`` only, with :func:`read_rows` and :func:`write_rows` (which
        index arrays of any library).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ saving and loading
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {position: {name: value}}, "param_groups": [settings + "params":
        positions]}``, PyTorch's layout, with copies of the arrays (positions count the
        parameters across groups). State on a device is copied to the host (NumPy arrays), as
        Module.state_dict does, so the dict loads on any device."""
        position = {p: i for i, p in enumerate(self.params)}
        state = {
            position[p]: {k: _host_copy(v) for k, v in s.items()}
            for p, s in self.state.items()
            if p in position
        }
        groups = [
            {**{k: v for k, v in g.items() if k != "params"}, "params": [position[p] for p in g["params"]]}
            for g in self.param_groups
        ]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the settings and state of :meth:`state_dict` (this optimizer's or one of the
        same layout): the groups must match in number and size, each state array the shape
        of its parameter (it is cast to the parameter's dtype and copied onto its device)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise TypeError(f"{name}: load_state_dict takes a dict with 'state' and 'param_groups'")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved)} parameter groups, "
                f"this optimizer {len(self.param_groups)}"
            )
        for i, (old, new) in enumerate(zip(saved, self.param_groups)):
            if len(old["params"]) != len(new["params"]):
                raise ValueError(
                    f"{name}: parameter group {i} of the state dict has {len(old['params'])} "
                    f"parameters, this optimizer's {len(new['params'])}"
                )
        params = self.params
        groups = [
            {**{k: v for k, v in old.items() if k != "params"}, "params": new["params"]}
            for old, new in zip(saved, self.param_groups)
        ]
        for group in groups:
            self._check_group(group)
        state: dict[Tensor, dict[str, Any]] = {}
        for key, values in state_dict["state"].items():
            if not (isinstance(key, int) and 0 <= key < len(params)):
                raise ValueError(
                    f"{name}: the state dict has state for parameter {key!r}; there are {len(params)}"
                )
            p = params[key]
            state[p] = {k: self._loaded(k, v, p) for k, v in values.items()}
        self.param_groups[:] = groups
        self.state = state

    def _loaded(self, key: str, value: Any, p: Tensor) -> Any:
        array = np.asarray(backends.host(value))
        if array.ndim == 0:
            return int(array) if key == "step" else array.item()
        if array.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}: state {key!r} has shape {array.shape}; its parameter's is {p.shape}"
            )
        array = array.astype(backends.numpy_dtype(p.dtype), copy=True)
        return backends.move(array, backends.device_of(p._data))


def _host_copy(value: Any) -> Any:
    """A state value as state_dict keeps it: an array copied to the host, anything else as it is."""
    if isinstance(value, np.ndarray):
        return value.copy()
    return np.array(backends.host(value), copy=True) if backends.is_array(value) else value
