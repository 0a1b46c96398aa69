"""Tensor: an ndarray, its gradient, whether it requires one, and the node that made it.

Operators and methods call table ops through :func:`apply`; no math lives here.
"""

from __future__ import annotations

import bisect
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from . import backends, debug, dtypes
from . import mode as _mode
from .basis import StackedDiagonal
from .forward import attach_tangents
from .graph import LAST_CHANGE, HookHandle, LeafHooks, Node, leaf_hooks
from .graph import next_seq as _next_seq
from .ops import OPS
from .ops.core import OpDef, params_on
from .ops.sorting import arg_extreme, sorting_positions
from .sparse import RowSparse
from .spellings import joined_axes, torch_extremum, torch_keywords
from .torch_methods import ElementCount, TorchMethods

if TYPE_CHECKING:
    from .indexed import IndexUpdate

TensorLike: TypeAlias = "Tensor | npt.ArrayLike"
"""What the public functions take: a Tensor, or an ndarray, a number or nested lists of numbers."""
Axis: TypeAlias = "int | Sequence[int] | None"
"""The axes an op works over: one, several, or (None) all of them."""
Shape: TypeAlias = "int | Sequence[int]"
"""A shape as given to reshape or broadcast_to: a length, or one length per axis."""

_SCALARS = (bool, int, float, complex, np.generic)


def as_array(data: Any, dtype: npt.DTypeLike | None = None, *, what: str = "tensor") -> np.ndarray | Any:
    """Data as an ndarray: Python floats become the default dtype, arrays keep theirs; an
    array of another array library (or a Tensor's) stays in that library.

    An explicit ``dtype`` is applied to the data itself (0.1 as float64 is exactly 0.1,
    never rounded through float32 on the way).
    """
    if dtype is not None:
        dtype = dtypes.supported(dtype, what)
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    elif backends.is_array(data):  # another array library's: it stays there
        backends.check_kind(data.dtype, what, type(data).__name__)
        return data if dtype is None else backends.astype(data, dtype)
    elif isinstance(data, (str, bytes, dict, set)) or data is None:
        raise TypeError(f"{what}: cannot make a tensor from {type(data).__name__} {data!r:.40}")
    elif dtype is not None:
        arr = np.asarray(data)
        dtypes.check_kind(arr.dtype, what, type(data).__name__)
        return np.asarray(data, dtype=dtype)
    else:
        arr = np.asarray(data)
        if arr.dtype == np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(dtypes.get_default_dtype())
    if backends.is_array(arr):  # a Tensor's array of another library
        return arr if dtype is None else backends.astype(arr, dtype)
    dtypes.check_kind(arr.dtype, what, type(data).__name__)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def _operand(value: Any, op: OpDef) -> Any:
    """A non-Tensor operand: Python scalars stay scalars (NumPy's weak typing)."""
    if type(value) is float or type(value) is int:
        return value
    if isinstance(value, np.ndarray):
        dtypes.check_kind(value.dtype, op.name, "operand")
        return value
    if isinstance(value, _SCALARS):
        if isinstance(value, (complex, np.complexfloating)):
            dtypes.check_kind(np.dtype(complex), op.name, "operand")
        return value
    if isinstance(value, (list, tuple)):
        return stacked(value, op.name)
    if type(value) is StackedDiagonal:  # a one-pass Jacobian's basis, saved by a recorded rule
        return value
    if backends.is_array(value):  # another array library's: the op runs there
        raise _Elsewhere
    raise TypeError(
        f"{op.name}: unsupported operand type {type(value).__name__}; "
        "expected a Tensor, ndarray, number or list of numbers"
    )


class _Elsewhere(Exception):
    """Raised inside :func:`apply` on meeting an array of a library other than NumPy: the op
    runs on that library (:func:`_apply_elsewhere`), off NumPy's fast path."""


class BatchedAccess(TypeError):
    """Raised where code reads the array of a tensor vmap batches (``t.data``, ``t.item()``,
    ``np.asarray(t)``): it has one value per example, which only its ops can read."""


def holds_tensor(value: Any, depth: int = 64) -> bool:
    """Whether ``value`` is a Tensor, or a list or tuple holding one (``depth`` levels down)."""
    if isinstance(value, Tensor):
        return True
    return depth > 0 and isinstance(value, (list, tuple)) and any(holds_tensor(v, depth - 1) for v in value)


def stacked(value: list[Any] | tuple[Any, ...], what: str) -> Tensor | np.ndarray:
    """Nested lists as one array, as NumPy reads them; where they hold Tensors, as one Tensor
    stacked on the graph (level by level), so the Tensors' gradients flow."""
    if not holds_tensor(value):
        return as_array(value, what=what)
    parts = [stacked(v, what) if isinstance(v, (list, tuple)) else v for v in value]
    out: Tensor = OPS["stack"].fn(RECORDING, [tensor_or_array(p, what) for p in parts], axis=0)
    return out


def apply(op: OpDef, *args: Any, **params: Any) -> Tensor:
    """Run table op ``op`` on ``args`` (Tensors or constants) and record its node.

    ``params`` are checked and made canonical by the op's ``prepare``.
    """
    arrays: list[Any] = []
    try:
        for a in args:  # a loop, not a comprehension: this is the per-op hot path
            if isinstance(a, Tensor):
                data = a._data
                if type(data) is not _ndarray and backends.is_array(data):
                    raise _Elsewhere
                arrays.append(data)
                continue
            value = _operand(a, op)
            if isinstance(value, Tensor):  # a list holding Tensors, stacked on the graph: run with it
                return apply(op, *(value if b is a else b for b in args), **params)
            arrays.append(value)
        if op.floating:
            for a in arrays:
                if type(a) is _ndarray and a.dtype.kind != "f":
                    arrays = dtypes.floating_inputs(arrays)
                    break
        if op.prepare:
            params = op.prepare(*arrays, **params)
    except BatchedAccess:  # an input or parameter carries vmap's batch axis: the op runs batched
        from . import batching

        return batching.run(op, args, params, canonical=False)
    except _Elsewhere:
        try:
            return _apply_elsewhere(op, args, params, canonical=False)
        except Exception as e:  # the op's own error, without the signal that led here
            raise e from None
    return record(op, args, arrays, params)


def _apply_elsewhere(op: OpDef, args: tuple[Any, ...], params: dict[str, Any], canonical: bool) -> Tensor:
    """:func:`apply` for inputs on another array library (CuPy, any array-API namespace).

    The Tensors' arrays and the array operands must share one namespace and one device
    (a NumPy array among them is on another device: refused). Numbers and lists become
    arrays there. ``prepare`` reads NumPy layouts with the inputs' shapes and dtypes, or,
    for an op that reads values (sort's permutation), host copies; array parameters (an
    index tensor, targets) are copied to the host for it, and what it makes (index arrays,
    masks, dtypes) is moved onto the device as the namespace has it: the forward and the
    rules (from the node) read it there.
    """
    try:
        placed = [a._data if isinstance(a, Tensor) else a for a in args]
    except BatchedAccess:  # vmap's batch rule runs it, and comes back here with whole batches
        from . import batching

        return batching.run(op, args, params, canonical=canonical)
    devices = [a for a in placed if backends.is_array(a) or isinstance(a, np.ndarray)]
    xp, device = backends.same_place(devices, op.name)
    arrays = []
    for a in placed:
        if isinstance(a, (list, tuple)):
            value = stacked(a, op.name)
            a = value._data if isinstance(value, Tensor) else xp.asarray(value, device=device)
        elif isinstance(a, np.generic):  # a NumPy scalar has its dtype (NumPy 2): a 0-d array there
            a = xp.asarray(a.item(), dtype=backends.dtype_in(xp, a.dtype), device=device)
        arrays.append(a)
    if op.floating:
        float_ = backends.dtype_in(xp, dtypes.get_default_dtype())
        arrays = [
            xp.astype(a, float_) if backends.is_array(a) and backends.kind(a.dtype) in "biu" else a
            for a in arrays
        ]
    if not canonical and op.prepare:
        read = backends.host if op.reads_values else backends.layout
        views = [read(a) if backends.is_array(a) else a for a in arrays]
        hosted = {
            k: backends.host(v._data if isinstance(v, Tensor) else v) if _on_device(v) else v
            for k, v in params.items()
        }
        params = params_on(xp, op.prepare(*views, **hosted), device)
    t = record(op, args, arrays, params, xp)
    if op.category == "linear" and not hasattr(t._data, "base"):
        # An array that does not say which storage it views (array-api-strict's) may view
        # its input after a linear op (reshape, indexing, transpose): counted as sharing it,
        # so an in-place change of either makes a pass that saved the other refuse.
        first = next((a for a in args if isinstance(a, Tensor)), None)
        if first is not None:
            t._base = first._owner()
    return t


def _on_device(value: Any) -> bool:
    return backends.is_array(value._data if isinstance(value, Tensor) else value)


def record(
    op: OpDef, args: tuple[Any, ...], arrays: list[Any], params: dict[str, Any], xp: Any = None
) -> Tensor:
    """Compute ``op`` on ``arrays`` with canonical ``params`` and record the node.

    The node keeps, per input, the Node that produced it (or the leaf itself when
    it requires grad, or None), and saves only the values the op's rule reads,
    with the version of every tensor whose value it saved: an in-place change to one
    of them before the backward pass makes that pass refuse (see inplace.py). ``xp``:
    the array namespace of ``arrays`` when it is not NumPy.
    """
    try:
        if xp is not None:
            out = op.forward_on(xp)(*arrays, **params)
        elif params:
            out = op.forward(*arrays, **params)
        else:
            out = op.forward(*arrays)
    except ValueError as e:
        if str(e).startswith(f"{op.name}:"):
            raise
        shapes = " and ".join(str(getattr(a, "shape", ())) for a in arrays)
        raise ValueError(f"{op.name}: cannot combine shapes {shapes}: {e}") from None
    except TypeError as e:  # e.g. NumPy's linalg has no float16 or longdouble loops
        if str(e).startswith(f"{op.name}:"):
            raise
        dtypes_ = ", ".join(str(getattr(a, "dtype", type(a).__name__)) for a in arrays)
        raise TypeError(f"{op.name}: NumPy cannot compute it on {dtypes_}: {e}") from None
    if xp is None:
        if type(out) is not _ndarray:
            out = np.asarray(out)
        base = out.base
    else:
        base = getattr(out, "base", None)
    t = _new(Tensor)
    t._data = out
    t._grad = None
    t._requires_grad = False
    t._node = None
    t._tangents = None
    if base is not None:
        t._base = _storage_owner(out, args)
    state = _state()
    if state.grad:
        t._node = graph_node(op, args, arrays, out, params)
        t._requires_grad = t._node is not None
    if state.debug:
        debug.on_record(op, arrays, out, t._node)
    if state.levels:
        attach_tangents(op, args, t, params, RECORDING)
        if t._tangents and t._node is not None:
            # The backward pass needs the inputs and output with their tangents (forward over reverse).
            t._node.duals = (tuple(args), t._tangents)
    return t


def graph_node(
    op: OpDef, args: tuple[Any, ...], arrays: Sequence[Any], out: Any, params: dict[str, Any]
) -> Node | None:
    """The node recording ``out = op(*args)`` for the reverse pass, or None when no input
    requires grad (or the output cannot carry a gradient). ``arrays`` are the inputs' values
    and ``out`` the output's, as the op's rule reads them."""
    parents: list[Node | Tensor | None] = []
    live = constant = False
    for a in args:
        if isinstance(a, Tensor):
            if a._requires_grad:
                parents.append(a._node or a)
                live = True
            else:
                parents.append(None)
        else:
            parents.append(None)
            constant = True
    if not live:
        return None
    try:
        floating = out.dtype.kind == "f"
    except AttributeError:  # a dtype of another array library
        floating = backends.kind(out.dtype) == "f"
    if not floating:
        return None
    node = _new(Node)  # Node's slots filled in place: no __init__ call on the hot path
    node.op = op
    node.params = params
    node.parents = tuple(parents)
    if op.saves_inputs:
        node.saved = (tuple(arrays), out if op.saves_out else None)
        node.inputs = args  # their versions are checked before the rule reads them
    else:
        node.saved = ((None,) * len(arrays), out if op.saves_out else None)
        # Numbers and arrays given as operands are kept for the seeing tools (explain
        # shows them); tensors are not, so nothing the rule does not read stays alive.
        node.inputs = tuple(None if isinstance(a, Tensor) else a for a in args) if constant else None
    node.shape = out.shape
    node.dtype = out.dtype
    node.site = None
    node.seq = _next_seq()
    node.duals = None
    node.hooks = None
    return node


def _storage_owner(out: np.ndarray, args: Sequence[Any]) -> Tensor | None:
    """The tensor owning the storage that ``out`` views, when it is an input's: a change
    through either is a change of both (one version count)."""
    for a in args:
        if isinstance(a, Tensor) and (out.base is a._data or out.base is getattr(a._data, "base", None)):
            return a._owner()
    return None


_ndarray = np.ndarray
_new = object.__new__
_state = _mode.state


_ADD, _SUB, _MUL, _DIV, _POW = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"], OPS["pow"]
_MATMUL, _NEG, _ABS, _GETITEM, _TRANSPOSE, _CLIP = (
    OPS["matmul"],
    OPS["neg"],
    OPS["abs"],
    OPS["getitem"],
    OPS["transpose"],
    OPS["clip"],
)
_ARITHMETIC_UFUNCS = {
    np.add: _ADD,
    np.subtract: _SUB,
    np.multiply: _MUL,
    np.divide: _DIV,
    np.power: _POW,
    np.matmul: _MATMUL,
}
"""The ufuncs of Tensor's operators: ``ndarray (op) Tensor`` applies the op as ``Tensor (op)`` does."""
_ACCUMULATE = threading.Lock()  # concurrent backward passes add into one .grad one at a time


def data_of(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


class Tensor(TorchMethods):
    """An n-dimensional array that records the operations applied to it.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.])

    NumPy's attributes and methods (``t.T``, ``t.sum(axis=0)``, ``t.astype``) are written here;
    PyTorch's (``t.view``, ``t.unsqueeze``, ``t.clone``, ``t.numel()``, ...) are inherited from
    :class:`~chainrule.torch_methods.TorchMethods`.
    """

    # _base (the tensor whose storage this one views) and _changes (the sequence numbers of
    # the in-place changes of its own storage) are set only when there is one: unset is None.
    # So is _hooks, a leaf's hooks (graph.LeafHooks), set by its first register_*hook.
    __slots__ = (
        "_data",
        "_grad",
        "_requires_grad",
        "_node",
        "_tangents",
        "_base",
        "_changes",
        "_hooks",
        "__weakref__",
    )

    wraps_arrays = True  # it states __array_namespace__ (chainrule.numpy) but holds an array: see backends
    _data: np.ndarray
    _grad: Tensor | RowSparse | None
    _requires_grad: bool
    _node: Node | None
    _tangents: dict[int, Tensor] | None  # forward level → tangent
    _base: Tensor | None
    _changes: list[int]
    _hooks: LeafHooks

    def __init__(
        self,
        data: TensorLike,
        dtype: npt.DTypeLike | None = None,
        requires_grad: bool = False,
        device: Any = None,
    ) -> None:
        arr = as_array(data, dtype)
        if device is not None:
            arr = backends.move(arr, device)
        self._data = np.array(arr, copy=True) if type(arr) is np.ndarray else backends.copy(arr)
        self._grad = None
        self._node = None
        self._tangents = None
        self._requires_grad = False
        if requires_grad is not False:
            self.requires_grad_(requires_grad)

    @classmethod
    def _make(cls, data: np.ndarray, node: Node | None) -> Tensor:
        t = object.__new__(cls)
        t._data = data
        t._grad = None
        t._requires_grad = node is not None
        t._node = node
        t._tangents = None
        return t

    # ------------------------------------------------------------- attributes
    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value: TensorLike) -> None:
        """Write new values into this tensor's storage (an in-place change: the version counts it)."""
        arr = as_array(value, what="Tensor.data")
        if arr.shape != self._data.shape:
            raise ValueError(
                f"Tensor.data: new data has shape {arr.shape}, the tensor has shape {self._data.shape}"
            )
        _inplace.write(self, arr, "Tensor.data", casting="unsafe")

    # A tensor's storage is its own, or that of the tensor ``_base`` it views (detach() and
    # view ops share storage); the owner keeps the sequence numbers of its in-place changes.
    # Both attributes are read with getattr: the hot path leaves them unset.
    def _owner(self) -> Tensor:
        base = getattr(self, "_base", None)
        return self if base is None else base

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's storage has seen (PyTorch's ``_version``)."""
        changes = getattr(self._owner(), "_changes", None)
        return len(changes) if changes else 0

    def _version_at(self, seq: int) -> int:
        """The version when the node or change numbered ``seq`` was made."""
        changes = getattr(self._owner(), "_changes", None)
        return bisect.bisect_left(changes, seq) if changes else 0

    def _count_change(self) -> None:
        """Record an in-place change of this tensor's storage (see inplace.py).

        A node that saved this storage as its output learns of it here; nodes that saved
        it as an input compare versions in the reverse pass.
        """
        owner = self._owner()
        node = owner._node
        if node is not None and type(node.saved) is tuple and node.saved[1] is owner._data:
            stale = getattr(node, "stale_output", None)  # (now, at saving) of an earlier change
            node.stale_output = (owner._version + 1, owner._version if stale is None else stale[1])
        seq = _next_seq()
        if getattr(owner, "_changes", None) is None:
            owner._changes = [seq]
        else:
            owner._changes.append(seq)
        LAST_CHANGE[0] = seq

    @property
    def grad(self) -> Tensor | RowSparse | None:
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | RowSparse | npt.ArrayLike | None) -> None:
        if value is not None:
            if not isinstance(value, (Tensor, RowSparse)):
                value = Tensor._make(as_array(value, what="grad"), None)
            if value.dtype.kind != "f":
                raise TypeError(
                    f"Tensor.grad: a gradient of dtype {value.dtype} assigned to a tensor "
                    f"of dtype {self.dtype}; a gradient is floating-point "
                    f"(convert it with .astype({self.dtype.name}))"
                )
            if value.shape != self.shape:
                raise ValueError(
                    f"Tensor.grad: gradient of shape {value.shape} assigned to a tensor "
                    f"of shape {self.shape}; a gradient has its tensor's shape"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether this leaf records operations for gradients (in place)."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                f"requires_grad must be True or False, got {type(requires_grad).__name__} {requires_grad!r}"
            )
        if self._node is not None:
            if not requires_grad:
                raise RuntimeError(
                    "requires_grad_: only leaf tensors can stop requiring grad; use .detach() for a non-leaf"
                )
            return self
        if requires_grad and not dtypes.is_differentiable(self.dtype):
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"this one is {self.dtype}; convert it with dtype=float32 "
                "or float64 first"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad_fn(self) -> Node | None:
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> ElementCount:
        """The number of elements (NumPy's ``t.size``); called, the shape (PyTorch's ``t.size()``,
        ``t.size(d)``): see :class:`ElementCount`."""
        count = ElementCount(self._data.size)
        count.shape = self._data.shape
        return count

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the values: NumPy's, or that of the array library holding them."""
        return self._data.dtype

    @property
    def device(self) -> Any:
        """Where the values are: ``"cpu"`` for NumPy, else the device of the array library
        holding them (a CuPy GPU, array-api-strict's ``Device("device1")``)."""
        return backends.device_of(self._data)

    def _moved(self, device: Any) -> Tensor:
        """This tensor on ``device`` (itself when it is there). The move is not an op: a leaf
        gives a new leaf there that requires grad as it did (its gradients collect in its own
        ``.grad``, as a parameter's after ``module.to``); a computed tensor is refused while
        gradients are recorded, and moves detached otherwise."""
        moved = backends.move(self._data, device)
        if moved is self._data:
            return self
        if self._node is not None and _state().grad:
            raise RuntimeError(
                f"to: a computed tensor (grad_fn=<{self._node.name}>) cannot move from {self.device!r} to "
                f"{device!r} while gradients are recorded: the move is not differentiable. Move the "
                "inputs (or the model: module.to(device)) before computing, or .detach() first"
            )
        return Tensor._make(moved, None).requires_grad_(self._requires_grad and self._node is None)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        return apply(_TRANSPOSE, self)

    # ------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied); for a tensor on another array
        library's device, its values copied to the host (an explicit transfer, PyTorch's
        ``t.cpu().numpy()``).

        Read-only when the tensor requires grad, so a value the graph saved cannot be
        changed behind its back; ``t.detach().numpy()`` is the writable view, as in PyTorch.
        """
        if backends.is_array(self._data):
            copied: np.ndarray = backends.host(self._data).copy()
            return copied
        if self._requires_grad:
            view: np.ndarray = self._data.view()
            view.flags.writeable = False
            return view
        return self._data

    def item(self) -> bool | int | float:
        if self._data.size != 1:
            raise ValueError(
                f"item: only a tensor with one element converts to a Python number, "
                f"this one has shape {self.shape}"
            )
        number: bool | int | float = backends.host(self._data).item()
        return number

    def tolist(self) -> Any:
        return backends.host(self._data).tolist()

    def _leaf_alias(self) -> Tensor:
        """A new leaf on this tensor's data (no node, no gradient): what a transform
        differentiates in its place."""
        return Tensor._make(self._data, None)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (a new leaf that does not require grad).

        It shares this tensor's storage and version counter: an in-place change of one
        is an in-place change of the other.
        """
        t = Tensor._make(self._data, None)
        t._base = self._owner()
        return t

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        if (self._requires_grad or self._tangents) and _state().depth:
            warnings.warn(
                "a tensor being differentiated was converted to a NumPy array (np.asarray, or a "
                "NumPy function given a list holding it); the derivative does not flow through "
                "that array. Use chainrule.numpy's functions, which keep lists of tensors on the graph",
                RuntimeWarning,
                stacklevel=2,
            )
        if backends.is_array(self._data):
            raise TypeError(
                f"a tensor on {backends.describe(self._data)} was converted to a NumPy array implicitly "
                "(np.asarray, or a NumPy function given it); chainrule never copies between devices "
                "unasked: call t.numpy() (a copy to the host) or t.cpu() first"
            )
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self.numpy()

    # NumPy's protocols: np.exp(t), ndarray + t, np.concatenate([t, a]) and np.linalg.norm(t)
    # run chainrule.numpy's functions (see chainrule/numpy/dispatch.py), on the graph.
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = _ARITHMETIC_UFUNCS.get(ufunc)  # ndarray + t: the operator's own op, directly
        if op is not None and method == "__call__" and not kwargs:
            return apply(op, *inputs)
        from .numpy.dispatch import array_ufunc

        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from .numpy.dispatch import array_function

        return array_function(func, args, kwargs)

    def __array_namespace__(self, api_version: str | None = None) -> Any:
        """The namespace of NumPy's functions on Tensors: :mod:`chainrule.numpy`."""
        from . import numpy as cnp

        return cnp

    def __format__(self, spec: str) -> str:
        """``f"{t:.4f}"`` formats a one-element tensor as its number; ``f"{t}"`` is ``str(t)``."""
        if not spec:
            return str(self)
        if self._data.size != 1:
            raise TypeError(
                f"format: the spec {spec!r} applies to a one-element tensor, this one has "
                f"shape {self.shape}; format t.numpy() with numpy.array2string instead"
            )
        return format(self.item(), spec)

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all() on its data"
            )
        return bool(backends.host(self._data))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if backends.kind(self._data.dtype) not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype}")
        return int(self.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return int(self._data.shape[0])

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(backends.host(self._data), separator=", ", prefix="tensor(")
        extra = []
        dt = backends.numpy_dtype(self._data.dtype)
        if (
            (dt.kind == "f" and dt != dtypes.get_default_dtype())
            or dt.kind in "uc"
            or (dt.kind == "i" and dt != np.int64)
        ):
            extra.append(f"dtype={dt.name}")
        if backends.is_array(self._data):
            extra.append(f"device={self.device!r}")
        if self._node is not None:
            extra.append(f"grad_fn=<{self._node.name}>")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extra]) + ")"

    # ------------------------------------------------------------- autograd
    def backward(
        self, gradient: TensorLike | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Add d(self)/d(leaf) · gradient into ``.grad`` of every leaf that requires grad.

        ``gradient`` (the seed ∂L/∂self) may be omitted for a one-element tensor.
        """
        from .autograd import backward

        backward((self,), (gradient,), retain_graph=retain_graph, create_graph=create_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> HookHandle:
        """Call ``hook(grad)`` with the gradient flowing into this tensor in every reverse
        pass — its total over all uses, a leaf's before it is added into ``.grad`` — and
        use what it returns instead (None keeps the gradient).

        For a leaf or a computed tensor; several hooks run in the order registered,
        each seeing what the one before returned. ``hook`` gets a Tensor (one that is
        itself differentiable under ``create_graph=True``) and should return a new one
        rather than change it in place. ``cr.autograd.grad`` runs the hooks of the
        tensors on its path too. Returns a handle: ``handle.remove()`` unregisters it.

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x * 3
        >>> handle = h.register_hook(lambda g: print("dy/dh =", g))
        >>> (h * h).sum().backward()
        dy/dh = tensor([ 6., 12.])
        >>> handle.remove()
        """
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: this tensor does not require grad, so no gradient flows "
                "into it; make it (or its inputs) with requires_grad=True first"
            )
        if self._node is None:
            hooks = leaf_hooks(self).grad
        else:  # the pass meets the node that made this tensor: it keeps the hooks (as PyTorch)
            if self._node.hooks is None:
                self._node.hooks = {}
            hooks = self._node.hooks

        def on_gradient(g: np.ndarray | Tensor | RowSparse) -> np.ndarray | Tensor | None:
            # The hook as the pass calls it, with gradients as the pass holds them: arrays, Tensors
            # when recorded, or a sparse embedding's row-sparse one, which the hook sees dense.
            if type(g) is RowSparse:
                g = g.dense()  # where its values are
            on_device = backends.is_array(g)
            seen = (
                g
                if isinstance(g, Tensor)
                else Tensor._make(cast(np.ndarray, g) if on_device else np.asarray(g), None)
            )
            replaced: Tensor | np.ndarray | None = hook(seen)
            if replaced is None:
                return None
            if on_device:
                replaced = backends.astype(as_array(replaced, what="register_hook"), g.dtype)
            elif not isinstance(g, Tensor):
                replaced = np.asarray(as_array(replaced, what="register_hook"), dtype=g.dtype)
            elif not isinstance(replaced, Tensor):
                replaced = Tensor._make(as_array(replaced, what="register_hook"), None)
            if replaced.shape != g.shape:
                raise ValueError(
                    f"register_hook: the hook returned a gradient of shape {replaced.shape} "
                    f"for a gradient of shape {g.shape}; a hook may change the values only"
                )
            return replaced

        return HookHandle(hooks, on_gradient)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], object]) -> HookHandle:
        """Call ``hook(self)`` once this leaf's ``.grad`` is final in a ``backward()``
        pass: as soon as no op left to visit can add to it, while the pass goes on with
        the rest of the graph — where data-parallel training starts sending a gradient.
        Not called by ``cr.autograd.grad`` (it leaves ``.grad`` alone); only a leaf
        that requires grad has ``.grad``. Returns a handle: ``handle.remove()``.

        >>> import chainrule as cr
        >>> w = cr.tensor([3.0, 4.0], requires_grad=True)
        >>> handle = w.register_post_accumulate_grad_hook(lambda t: print("grad of w:", t.grad))
        >>> (w * w).sum().backward()
        grad of w: tensor([6., 8.])
        """
        if self._node is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: only a leaf accumulates .grad, and "
                f"this tensor was computed (grad_fn=<{self._node.name}>); use "
                "register_hook to see its gradient"
            )
        if not self._requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: this tensor does not require grad, "
                "so it never gets a .grad; make it with requires_grad=True first"
            )
        return HookHandle(leaf_hooks(self).accumulated, hook)

    def _accumulate(self, g: np.ndarray | Tensor | RowSparse, owned: bool = False) -> None:
        """Add one backward pass's gradient into ``.grad`` (as PyTorch: in place when possible).

        ``owned`` says g is a buffer nobody else holds, which may become ``.grad`` as it is.
        A row-sparse gradient (a sparse embedding's) stays row-sparse while every
        gradient added to it is row-sparse too.
        """
        with _ACCUMULATE:
            self._accumulate_unlocked(g, owned)

    def _accumulate_unlocked(self, g: np.ndarray | Tensor | RowSparse, owned: bool) -> None:
        if isinstance(self._grad, RowSparse):
            g, self._grad = self._grad + g, None
        elif type(g) is RowSparse and self._grad is not None:
            g = g.dense()  # added into the dense .grad below, where its values are
        if type(g) is RowSparse and self._grad is None:
            self._grad = g
        elif isinstance(g, Tensor):
            self._grad = g if self._grad is None else self._grad + g
        elif self._grad is None:  # g is an array: a row-sparse one took the first branch
            if owned and g.dtype == self._data.dtype:
                self._grad = Tensor._make(cast(np.ndarray, g), None)
            elif backends.is_array(g):
                self._grad = Tensor._make(
                    backends.namespace_of(g).astype(g, self._data.dtype, copy=True), None
                )
            else:
                self._grad = Tensor._make(np.array(g, dtype=self._data.dtype, copy=True), None)
        elif self._grad._node is None:
            into = self._grad._data
            if (
                type(g) is type(into)
                and (into.flags.writeable if type(g) is np.ndarray else backends.is_array(g))
                and into.shape == g.shape
                and into.dtype == g.dtype
            ):
                # In place, as PyTorch accumulates: a .grad that views a buffer (data-parallel
                # training's buckets) keeps viewing it.
                into += g
            else:
                self._grad._data = into + g
        else:
            self._grad = Tensor._make(self._grad._data + g, None)

    # ------------------------------------------------------------- operators
    def __add__(self, other: TensorLike) -> Tensor:
        return apply(_ADD, self, other)

    def __radd__(self, other: TensorLike) -> Tensor:
        return apply(_ADD, other, self)

    def __sub__(self, other: TensorLike) -> Tensor:
        return apply(_SUB, self, other)

    def __rsub__(self, other: TensorLike) -> Tensor:
        return apply(_SUB, other, self)

    def __mul__(self, other: TensorLike) -> Tensor:
        return apply(_MUL, self, other)

    def __rmul__(self, other: TensorLike) -> Tensor:
        return apply(_MUL, other, self)

    def __truediv__(self, other: TensorLike) -> Tensor:
        return apply(_DIV, self, other)

    def __rtruediv__(self, other: TensorLike) -> Tensor:
        return apply(_DIV, other, self)

    def __pow__(self, other: TensorLike) -> Tensor:
        return apply(_POW, self, other)

    def __rpow__(self, other: TensorLike) -> Tensor:
        return apply(_POW, other, self)

    def __matmul__(self, other: TensorLike) -> Tensor:
        return apply(_MATMUL, self, other)

    def __rmatmul__(self, other: TensorLike) -> Tensor:
        return apply(_MATMUL, other, self)

    def __neg__(self) -> Tensor:
        return apply(_NEG, self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return apply(_ABS, self)

    def __getitem__(self, index: Any) -> Tensor:
        """``t[index]``: NumPy's indexing (basic, integer arrays, boolean masks), on the graph;
        repeated integer indices add their gradients.

        Where PyTorch's indexing differs, chainrule follows NumPy's. An int beside an integer
        array, with a slice between them, is an advanced index in NumPy, so the broadcast axes
        of the indices go first; PyTorch reads the int as basic indexing and keeps the axes in
        place. A list of lists is one integer array in NumPy; PyTorch reads it as a tuple of
        indices (with a deprecation warning). Write ``t[0][:, idx]`` or ``t[tuple(seq)]`` for PyTorch's.

        >>> import chainrule as cr
        >>> t = cr.zeros(2, 3, 4)
        >>> t[0, :, [0, 1]].shape      # PyTorch: (3, 2)
        (2, 3)
        >>> t[0][:, [0, 1]].shape
        (3, 2)
        """
        return apply(_GETITEM, self, index=index)

    # ------------------------------------------------------------- the table's ops as methods
    # t.exp() is cr.exp(t), t.sum(axis=0) is cr.sum(t, axis=0): each applies its table op.
    def exp(self) -> Tensor:
        """eˣ, elementwise."""
        return apply(OPS["exp"], self)

    def expm1(self) -> Tensor:
        """eˣ − 1, exact near 0."""
        return apply(OPS["expm1"], self)

    def log(self) -> Tensor:
        """ln x."""
        return apply(OPS["log"], self)

    def log1p(self) -> Tensor:
        """ln(1 + x), exact near 0."""
        return apply(OPS["log1p"], self)

    def log2(self) -> Tensor:
        """log₂ x."""
        return apply(OPS["log2"], self)

    def log10(self) -> Tensor:
        """log₁₀ x."""
        return apply(OPS["log10"], self)

    def sqrt(self) -> Tensor:
        """√x."""
        return apply(OPS["sqrt"], self)

    def abs(self) -> Tensor:
        """|x|."""
        return apply(_ABS, self)

    def sign(self) -> Tensor:
        """−1, 0 or 1 as x is negative, zero or positive."""
        return apply(OPS["sign"], self)

    def sin(self) -> Tensor:
        """sin x."""
        return apply(OPS["sin"], self)

    def cos(self) -> Tensor:
        """cos x."""
        return apply(OPS["cos"], self)

    def tan(self) -> Tensor:
        """tan x."""
        return apply(OPS["tan"], self)

    def arcsin(self) -> Tensor:
        """sin⁻¹ x."""
        return apply(OPS["arcsin"], self)

    def arccos(self) -> Tensor:
        """cos⁻¹ x."""
        return apply(OPS["arccos"], self)

    def arctan(self) -> Tensor:
        """tan⁻¹ x."""
        return apply(OPS["arctan"], self)

    def sinh(self) -> Tensor:
        """sinh x."""
        return apply(OPS["sinh"], self)

    def cosh(self) -> Tensor:
        """cosh x."""
        return apply(OPS["cosh"], self)

    def tanh(self) -> Tensor:
        """tanh x."""
        return apply(OPS["tanh"], self)

    def arcsinh(self) -> Tensor:
        """sinh⁻¹ x."""
        return apply(OPS["arcsinh"], self)

    def arccosh(self) -> Tensor:
        """cosh⁻¹ x."""
        return apply(OPS["arccosh"], self)

    def arctanh(self) -> Tensor:
        """tanh⁻¹ x."""
        return apply(OPS["arctanh"], self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e⁻ˣ)."""
        return apply(OPS["sigmoid"], self)

    def relu(self) -> Tensor:
        """max(x, 0)."""
        return apply(OPS["relu"], self)

    def softplus(self) -> Tensor:
        """ln(1 + eˣ)."""
        return apply(OPS["softplus"], self)

    def clip(self, a_min: npt.ArrayLike | None, a_max: npt.ArrayLike | None) -> Tensor:
        """x limited to [a_min, a_max] (either may be None)."""
        return apply(_CLIP, self, a_min=a_min, a_max=a_max)

    @torch_keywords
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Σ over ``axis`` (all axes by default)."""
        return apply(OPS["sum"], self, axis=axis, keepdims=keepdims)

    @torch_keywords
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Σ/N over ``axis``."""
        return apply(OPS["mean"], self, axis=axis, keepdims=keepdims)

    @torch_extremum("argmax")
    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The largest element over ``axis``; PyTorch's ``t.max(dim=d)`` (an int d) gives the pair
        ``(values, indices)`` (ties share the gradient evenly, where PyTorch gives it to one)."""
        return apply(OPS["max"], self, axis=axis, keepdims=keepdims)

    @torch_extremum("argmin")
    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The smallest element over ``axis``; ``t.min(dim=d)`` gives ``(values, indices)``, as max."""
        return apply(OPS["min"], self, axis=axis, keepdims=keepdims)

    @torch_keywords
    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Π over ``axis``."""
        return apply(OPS["prod"], self, axis=axis, keepdims=keepdims)

    @torch_keywords
    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log Σ exp(x) over ``axis``, computed stably."""
        return apply(OPS["logsumexp"], self, axis=axis, keepdims=keepdims)

    @torch_keywords
    def var(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Σ (x − mean)² / (N − ddof) over ``axis``; ``ddof`` is NumPy's 0 unless the call is spelled
        PyTorch's way: ``t.var(dim=0)`` divides by N − 1, as torch (``unbiased=``, ``correction=``
        too; see spellings.py)."""
        out: Tensor = OPS["var"].fn(RECORDING, self, axis=axis, ddof=ddof, keepdims=keepdims)
        return out

    @torch_keywords
    def std(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """√var over ``axis`` (``ddof`` as :meth:`var`: PyTorch's 1 for ``t.std(dim=0)``)."""
        return apply(OPS["std"], self, axis=axis, ddof=ddof, keepdims=keepdims)

    def reshape(self, *shape: Shape) -> Tensor:
        """The same elements in a new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        given = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return apply(OPS["reshape"], self, shape=given)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """``t.transpose()`` reverses the axes; ``t.transpose((1, 0, 2))`` or ``t.transpose(1, 0, 2)``
        permutes them (NumPy's); two ints, ``t.transpose(d0, d1)``, exchange those two axes
        (PyTorch's, ``swapaxes``). The forms agree but for a 2-D ``t.transpose(0, 1)``, which
        NumPy reads as the identity permutation and chainrule, as PyTorch, as the transpose."""
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            return self.swapaxes(*cast("tuple[int, int]", axes))
        given = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return apply(_TRANSPOSE, self, axes=given or None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """The axes ``axis1`` and ``axis2`` exchanged."""
        out: Tensor = OPS["swapaxes"].fn(RECORDING, self, axis1, axis2)
        return out

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """The elements as a 1-D tensor; PyTorch's ``t.flatten(start_dim, end_dim)`` joins only the
        axes from start_dim to end_dim (both included) into one."""
        if self.ndim > 1 and (start_dim, end_dim) not in ((0, -1), (0, self.ndim - 1)):
            return self.reshape(joined_axes(self.shape, start_dim, end_dim))
        out: Tensor = OPS["flatten"].fn(RECORDING, self)
        return out

    @torch_keywords
    def squeeze(self, axis: Axis = None) -> Tensor:
        """Axes of size 1 dropped (all of them, or the ones named)."""
        out: Tensor = OPS["squeeze"].fn(RECORDING, self, axis=axis)
        return out

    @torch_keywords
    def expand_dims(self, axis: int | Sequence[int]) -> Tensor:
        """Axes of size 1 inserted at ``axis`` (an int or a tuple)."""
        out: Tensor = OPS["expand_dims"].fn(RECORDING, self, axis)
        return out

    def broadcast_to(self, shape: Shape) -> Tensor:
        """x repeated to ``shape`` by broadcasting."""
        return apply(OPS["broadcast_to"], self, shape=shape)

    # Positions, not values: integer tensors with no gradient, as cr.argmax / cr.argmin / cr.argsort.
    @torch_keywords
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The position of the largest element (first among ties), as ``np.argmax``."""
        return Tensor._make(arg_extreme("argmax", self._data, axis, keepdims), None)

    @torch_keywords
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The position of the smallest element (first among ties), as ``np.argmin``."""
        return Tensor._make(arg_extreme("argmin", self._data, axis, keepdims), None)

    @torch_keywords
    def argsort(self, axis: int | None = -1) -> Tensor:
        """The positions that sort x along ``axis`` (a stable sort), as ``np.argsort``."""
        return Tensor._make(sorting_positions(self._data, axis), None)

    def astype(self, dtype: npt.DTypeLike) -> Tensor:
        """x converted to ``dtype``."""
        return apply(OPS["astype"], self, dtype=dtype)

    def dot(self, b: TensorLike) -> Tensor:
        """``np.dot(x, b)``: an inner product of vectors, a matrix product, or a sum over x's
        last and b's second-to-last axis."""
        out: Tensor = OPS["dot"].fn(RECORDING, self, tensor_or_array(b, "dot"))
        return out

    def matmul(self, x2: TensorLike) -> Tensor:
        """x @ x2."""
        return apply(_MATMUL, self, x2)

    # ------------------------------------------------------------- in place (see inplace.py)
    def __iadd__(self, other: TensorLike) -> Tensor:
        return _inplace.update(self, "+=", _ADD, other)

    def __isub__(self, other: TensorLike) -> Tensor:
        return _inplace.update(self, "-=", _SUB, other)

    def __imul__(self, other: TensorLike) -> Tensor:
        return _inplace.update(self, "*=", _MUL, other)

    def __itruediv__(self, other: TensorLike) -> Tensor:
        return _inplace.update(self, "/=", _DIV, other)

    def __ipow__(self, other: TensorLike) -> Tensor:
        return _inplace.update(self, "**=", _POW, other)

    def __imatmul__(self, other: TensorLike) -> Tensor:
        return _inplace.update(self, "@=", _MATMUL, other)

    @property
    def at(self) -> IndexUpdate:
        """JAX's updates at an index, each a new tensor on the graph: ``t.at[idx].set(v)``,
        ``t.at[idx].add(v)``, ``t.at[idx].get()`` (see indexed.py)."""
        from .indexed import IndexUpdate

        return IndexUpdate(self)

    def __setitem__(self, index: Any, value: TensorLike) -> None:
        _inplace.assign(self, index, value)

    def add_(self, other: TensorLike, alpha: float = 1) -> Tensor:
        """self ← self + alpha · other, in place (as PyTorch's ``add_``)."""
        return _inplace.update(
            self, "add_", _ADD, other if alpha == 1 else alpha * tensor_or_array(other, "add_")
        )

    def sub_(self, other: TensorLike, alpha: float = 1) -> Tensor:
        """self ← self − alpha · other, in place."""
        return _inplace.update(
            self, "sub_", _SUB, other if alpha == 1 else alpha * tensor_or_array(other, "sub_")
        )

    def mul_(self, other: TensorLike) -> Tensor:
        """self ← self · other, in place."""
        return _inplace.update(self, "mul_", _MUL, other)

    def div_(self, other: TensorLike) -> Tensor:
        """self ← self / other, in place."""
        return _inplace.update(self, "div_", _DIV, other)

    def clamp_(
        self,
        min: npt.ArrayLike | None = None,  # noqa: A002 - PyTorch's names
        max: npt.ArrayLike | None = None,
    ) -> Tensor:  # noqa: A002
        """Limit self to [min, max] in place (gradient 1 inside, 0 outside)."""
        return _inplace.update(self, "clamp_", _CLIP, a_min=min, a_max=max)

    def copy_(self, src: TensorLike) -> Tensor:
        """Write src (broadcast to this shape, converted to this dtype) into self; the gradient
        flows to src."""
        return _inplace.replace(self, "copy_", src)

    def fill_(self, value: TensorLike) -> Tensor:
        """Set every element to ``value`` in place."""
        return _inplace.replace(self, "fill_", value)

    def zero_(self) -> Tensor:
        """Set every element to 0 in place."""
        return _inplace.replace(self, "zero_", 0)

    # Comparisons and logic give boolean tensors, which carry no gradient.
    def _compare(self, other: TensorLike, fn: np.ufunc) -> Tensor:
        try:
            data, other_data = self._data, data_of(other)
            if backends.is_array(data) or backends.is_array(other_data):
                return Tensor._make(backends.call(fn.__name__, data, other_data), None)
            return Tensor._make(np.asarray(fn(data, other_data)), None)
        except BatchedAccess:
            from . import batching

            return batching.compare(fn, self, other)

    def __lt__(self, other: TensorLike) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: TensorLike) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: TensorLike) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: TensorLike) -> Tensor:
        return self._compare(other, np.greater_equal)

    # Elementwise, as NumPy's: a Tensor of booleans, where object's says one bool.
    def __eq__(self, other: TensorLike) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: TensorLike) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __and__(self, other: TensorLike) -> Tensor:
        return self._compare(other, np.logical_and)

    __rand__ = __and__

    def __or__(self, other: TensorLike) -> Tensor:
        return self._compare(other, np.logical_or)

    __ror__ = __or__

    def __invert__(self) -> Tensor:
        data = self._data
        return Tensor._make(np.asarray(~data) if type(data) is np.ndarray else ~data, None)


def tensor_or_array(value: Any, what: str = "tensor") -> Tensor | np.ndarray:
    """A Tensor or ndarray as it is; numbers and nested lists as an ndarray, or (lists holding
    Tensors) as one Tensor stacked on the graph."""
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    return stacked(value, what) if isinstance(value, (list, tuple)) else as_array(value, what=what)


# ------------------------------------------------------------------ the recording namespace
def _wrap(
    value: np.ndarray, parent: Node | Tensor | None, tangents: dict[int, Tensor] | None = None
) -> Tensor | np.ndarray:
    """A saved array as a Tensor attached to the node (or leaf) that produced it (a value
    vmap batches was saved as its Tensor, and is attached as one)."""
    if isinstance(parent, Node):
        t = value._attached(parent) if isinstance(value, Tensor) else Tensor._make(value, parent)
        t._tangents = tangents
        return t
    return value if parent is None else parent


def _apply_canonical(op: OpDef, *args: Any, **params: Any) -> Tensor:
    """Run ``op`` on ``args`` with ``params`` already canonical, as the rules pass them."""
    try:
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    except BatchedAccess:
        from . import batching

        return batching.run(op, args, params, canonical=True)
    for a in arrays:  # a loop with NumPy's type first: rules and composites run through here
        if type(a) is not _ndarray and backends.is_array(a):
            return _apply_elsewhere(op, args, params, canonical=True)
    return record(op, args, arrays, params)


def _creating(name: str) -> Callable[..., Any]:
    """The recording namespace's creation function ``name`` (zeros, ones, eye, zeros_like,
    full_like): NumPy's for arrays on the host, else that of the array library of the
    ``device=`` given, or of the array a ``*_like`` copies, with dtypes converted by name."""
    numpy_function = getattr(np, name)

    def create(*args: Any, dtype: Any = None, device: Any = None, **kwargs: Any) -> Any:
        if name.endswith("_like"):
            try:
                like = data_of(args[0])
            except BatchedAccess:  # vmap's batched tensor: NumPy's function reads its layout
                like = None
            if backends.is_array(like):
                xp = backends.namespace_of(like)
                dtype = None if dtype is None else backends.dtype_in(xp, dtype)
                return getattr(xp, name)(like, *args[1:], dtype=dtype, **kwargs)
        elif device is not None and not (isinstance(device, str) and device == "cpu"):
            xp = backends.namespace_of_device(device)
            dtype = None if dtype is None else backends.dtype_in(xp, dtype)
            return getattr(xp, name)(*args, dtype=dtype, device=device, **kwargs)
        return numpy_function(*args, dtype=dtype, **kwargs)

    return create


RECORDING = SimpleNamespace(
    recording=True,
    wrap=_wrap,
    apply=_apply_canonical,
    zeros=_creating("zeros"),
    ones=_creating("ones"),
    eye=_creating("eye"),
    zeros_like=_creating("zeros_like"),
    full_like=_creating("full_like"),
    reshape=lambda x, shape: apply(OPS["reshape"], x, shape=shape),
    permute_dims=lambda x, axes: apply(_TRANSPOSE, x, axes=axes),
    matrix_transpose=lambda x: Tensor.swapaxes(x, -1, -2),
    concat=lambda arrays, axis=0: apply(OPS["concatenate"], *arrays, axis=axis),
    einsum=lambda subscripts, *operands: apply(OPS["einsum"], *operands, spec=subscripts),
    where=lambda condition, x1, x2: apply(OPS["where"], condition, x1, x2),
    multiply=lambda x1, x2: apply(_MUL, x1, x2),
    abs=Tensor.abs,
    astype=Tensor.astype,
    broadcast_to=Tensor.broadcast_to,
    cos=Tensor.cos,
    cosh=Tensor.cosh,
    exp=Tensor.exp,
    expand_dims=Tensor.expand_dims,
    expm1=Tensor.expm1,
    log=Tensor.log,
    log1p=Tensor.log1p,
    matmul=Tensor.matmul,
    mean=Tensor.mean,
    prod=Tensor.prod,
    sign=Tensor.sign,
    sin=Tensor.sin,
    sinh=Tensor.sinh,
    sqrt=Tensor.sqrt,
    sum=Tensor.sum,
    tanh=Tensor.tanh,
)
"""The array namespace on Tensors: each name runs a table op and records it (for an ndarray
or a number too, like any operand). Rules run on it under ``create_graph=True`` and in forward
mode, composites always; most names are Tensor's methods called as functions (``xp.exp(x)`` is
``x.exp()``)."""


# In-place updates need Tensor and apply, so they are imported once both exist.
from . import inplace as _inplace  # noqa: E402
