# mypy: disable-error-code="misc"
# (Each method's ``self`` is annotated as the Tensor it always is; mypy calls that self-type
# "not a supertype" of this mixin, its one complaint, silenced above.)
"""The Tensor methods that code written for PyTorch calls, under PyTorch's names.

``Tensor`` inherits them from :class:`TorchMethods`; each is a thin call of a Tensor method
or of a public function, so none holds math of its own. Where NumPy has the name too, the
method keeps NumPy's meaning, and PyTorch's spelling of the call selects PyTorch's (see
``spellings.py``: ``t.max(dim=1)``, ``t.var(dim=0)``, ``t.transpose(0, 1)``).

>>> import chainrule as cr
>>> x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
>>> y = x.view(3, 1).expand(3, 2).clone()
>>> y.shape, y.size(), y.numel(), y.dim()
((3, 2), (3, 2), 6, 2)
>>> y.sum().backward(); x.grad
tensor([[2., 2., 2.]])

Left as NumPy has them: ``t.size`` is the element count (called, ``t.size()`` is the shape:
:class:`ElementCount`), ``t.squeeze(d)`` of an axis longer than 1 is an error (PyTorch returns
t), and ``t.dot`` is ``np.dot``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from . import backends, dtypes
from .ops import OPS
from .spellings import expanded_shape, torch_norm_arguments

if TYPE_CHECKING:
    from .tensor import Shape, Tensor, TensorLike

__all__ = ["ElementCount", "TorchMethods"]

_DTYPE_NAMES = frozenset(np.sctypeDict)  # "float32", "int64", ...: t.to("float32") converts the dtype

NormOrder: TypeAlias = "float | str"
"""``t.norm``'s p: a number, 'fro' or 'nuc' (named here: inside the class ``float`` is a method)."""


class ElementCount(int):
    """``t.size``: NumPy's attribute, the number of elements, an int; called, it is PyTorch's
    method: ``t.size()`` is the shape and ``t.size(d)`` the length of axis d.

    >>> import chainrule as cr
    >>> t = cr.zeros(2, 3)
    >>> t.size, t.size(), t.size(-1)
    (6, (2, 3), 3)
    """

    shape: tuple[int, ...]

    def __call__(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]


def _sizes(given: tuple[Any, ...]) -> Any:
    """``f(2, 3)`` or ``f((2, 3))`` as the sizes (2, 3)."""
    return tuple(given[0]) if len(given) == 1 and not isinstance(given[0], (int, np.integer)) else given


class TorchMethods:
    """PyTorch's Tensor methods, for :class:`chainrule.Tensor` to inherit (see the module)."""

    __slots__ = ()

    # ------------------------------------------------------------- shape
    def view(self: Tensor, *shape: Shape) -> Tensor:
        """PyTorch's name for :meth:`reshape` (a view of the same storage when NumPy can make one)."""
        return self.reshape(*shape)

    def unsqueeze(self: Tensor, dim: int) -> Tensor:
        """An axis of size 1 inserted at ``dim``: :meth:`expand_dims`."""
        return self.expand_dims(dim)

    def permute(self: Tensor, *dims: int | Sequence[int]) -> Tensor:
        """The axes in the order ``dims``: ``t.permute(2, 0, 1)`` is ``t.transpose((2, 0, 1))``."""
        return self.transpose(_sizes(dims))

    def expand(self: Tensor, *sizes: int | Sequence[int]) -> Tensor:
        """x broadcast to ``sizes``, where -1 keeps an axis's length and new axes go first:
        :meth:`broadcast_to`."""
        return self.broadcast_to(expanded_shape(self.shape, _sizes(sizes)))

    def expand_as(self: Tensor, other: Tensor) -> Tensor:
        """x broadcast to ``other``'s shape."""
        return self.broadcast_to(other.shape)

    def repeat(self: Tensor, *sizes: int | Sequence[int]) -> Tensor:
        """x repeated ``sizes[i]`` times along axis i: PyTorch's ``repeat`` is ``np.tile``, given
        at least one size per axis (fewer is refused, as PyTorch refuses it; ``np.tile`` pads)."""
        from .assembly import tile

        reps = _sizes(sizes)
        if len(reps) < self.ndim:
            raise ValueError(
                f"repeat: {len(reps)} sizes {tuple(reps)} for a tensor of shape {self.shape}; give one "
                "per axis (extra ones add leading axes)"
            )
        return tile(self, reps)

    def t(self: Tensor) -> Tensor:
        """The transpose of a matrix (a vector or a number as it is): ``.T`` for at most 2 axes."""
        if self.ndim > 2:
            raise ValueError(
                f"t: expects a tensor of at most 2 dimensions, this one has shape {self.shape}; "
                "use transpose(d0, d1) or swapaxes"
            )
        return self.T

    # ------------------------------------------------------------- copies and conversions
    def clone(self: Tensor) -> Tensor:
        """A copy in storage of its own, on the graph (the gradient passes through unchanged):
        ``where(True, x, x)``."""
        from .functions import where

        return where(np.True_, self, self)

    def contiguous(self: Tensor) -> Tensor:
        """x itself when its elements lie in C order, else a copy that has them in C order (made by
        reshaping to 1-D, which copies, and back)."""
        return self if self.data.flags.c_contiguous else self.reshape(-1).reshape(self.shape)

    def to(self: Tensor, *args: Any, dtype: npt.DTypeLike | None = None, device: Any = None) -> Tensor:
        """x converted to a dtype, moved to a device, or both, as PyTorch's ``to``:
        ``t.to(cr.float32)``, ``t.to("cpu")``, ``t.to(other.device)``, ``t.to(device, dtype)``,
        ``t.to(other)`` (other's dtype and device); x itself when nothing changes.

        Moving copies the values to the device (see :meth:`Tensor.cpu`).
        """
        from .tensor import Tensor

        for arg in args:
            if isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, (np.dtype, type)) or (isinstance(arg, str) and arg in _DTYPE_NAMES):
                dtype = arg
            elif isinstance(arg, str) and not backends.is_device_name(arg):
                raise TypeError(
                    f"to: {arg!r} is neither a dtype (float32, float64, int64, ...) nor a device "
                    "('cpu', 'cuda', 'cuda:N', or t.device of a tensor)"
                )
            elif not isinstance(arg, str) and backends.is_dtype(arg):  # another library's dtype
                dtype = arg
            else:
                device = arg
        out = self if device is None else self._moved(device)
        if dtype is None:
            return out
        target = dtypes.supported(backends.numpy_dtype(dtype), "to")
        return out if backends.numpy_dtype(out.dtype) == target else out.astype(target)

    def cpu(self: Tensor) -> Tensor:
        """x on the host, as a NumPy-backed tensor (x itself when it is one): an explicit copy
        from a GPU or another array library's device."""
        return self.to("cpu")

    def type_as(self: Tensor, other: Tensor) -> Tensor:
        """x converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def float(self: Tensor) -> Tensor:
        """x as float32 (x itself when it is)."""
        return self.to(np.float32)

    def double(self: Tensor) -> Tensor:
        """x as float64 (x itself when it is)."""
        return self.to(np.float64)

    def half(self: Tensor) -> Tensor:
        """x as float16 (x itself when it is)."""
        return self.to(np.float16)

    def numel(self: Tensor) -> int:
        """The number of elements (NumPy's ``t.size``)."""
        return int(self.data.size)

    def dim(self: Tensor) -> int:
        """The number of axes (NumPy's ``t.ndim``)."""
        return int(self.data.ndim)

    def new_zeros(
        self: Tensor, *size: Shape, dtype: npt.DTypeLike | None = None, requires_grad: bool = False
    ) -> Tensor:
        """Zeros of ``size``, in x's dtype unless ``dtype``."""
        from .creation import zeros

        return zeros(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_ones(
        self: Tensor, *size: Shape, dtype: npt.DTypeLike | None = None, requires_grad: bool = False
    ) -> Tensor:
        """Ones of ``size``, in x's dtype unless ``dtype``."""
        from .creation import ones

        return ones(*size, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    # ------------------------------------------------------------- elementwise
    def pow(self: Tensor, exponent: TensorLike) -> Tensor:
        """x ** exponent."""
        return self**exponent

    def clamp(
        self: Tensor,
        min: npt.ArrayLike | None = None,  # noqa: A002 - PyTorch's names
        max: npt.ArrayLike | None = None,  # noqa: A002
    ) -> Tensor:
        """x limited to [min, max]: :meth:`clip`."""
        return self.clip(min, max)

    def clamp_min(self: Tensor, min: npt.ArrayLike) -> Tensor:  # noqa: A002 - PyTorch's name
        """max(x, min): :meth:`clip` from below."""
        return self.clip(min, None)

    def clamp_max(self: Tensor, max: npt.ArrayLike) -> Tensor:  # noqa: A002 - PyTorch's name
        """min(x, max): :meth:`clip` from above."""
        return self.clip(None, max)

    def masked_fill(self: Tensor, mask: TensorLike, value: TensorLike) -> Tensor:
        """``value`` where the boolean ``mask`` holds, x elsewhere, in x's dtype:
        ``where(mask, value, x)``."""
        from .functions import where

        out = where(mask, value, self)
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def where(self: Tensor, condition: TensorLike, other: TensorLike) -> Tensor:
        """PyTorch's ``x.where(condition, other)``: x where condition holds, else other."""
        from .functions import where

        return where(condition, self, other)

    def exp_(self: Tensor) -> Tensor:
        """self ← eˣ in place (a version change, as ``add_``; see inplace.py)."""
        from .inplace import update

        return update(self, "exp_", OPS["exp"])

    # ------------------------------------------------------------- reductions and products
    def norm(
        self: Tensor, p: NormOrder = "fro", dim: int | Sequence[int] | None = None, keepdim: bool = False
    ) -> Tensor:
        """PyTorch's ``t.norm``: the 2-norm of all elements by default; a number ``p`` is the
        vector p-norm (of all elements, or along ``dim``), ``'nuc'`` the nuclear norm of a matrix.
        :func:`chainrule.linalg.norm` computes it."""
        from .linalg import norm

        ord_, axis, flat = torch_norm_arguments(p, dim)
        if not flat:
            return norm(self, ord_, axis, keepdims=keepdim)
        out = norm(self.reshape(-1), ord_)
        return out.reshape((1,) * self.ndim) if keepdim else out

    def mm(self: Tensor, mat2: TensorLike) -> Tensor:
        """The matrix product x @ mat2."""
        return self.matmul(mat2)

    def bmm(self: Tensor, mat2: TensorLike) -> Tensor:
        """The batched matrix product x @ mat2 (matmul batches over leading axes)."""
        return self.matmul(mat2)

    def mv(self: Tensor, vec: TensorLike) -> Tensor:
        """The matrix-vector product x @ vec."""
        return self.matmul(vec)

    def outer(self: Tensor, vec2: TensorLike) -> Tensor:
        """The outer product out[i, j] = x[i]·vec2[j]: ``outer``."""
        from .functions import outer

        return outer(self, vec2)
