"""JAX's and autograd's names for what :mod:`chainrule.transforms` computes.

Code brought from JAX or HIPS autograd runs with these thin wrappers; each is one of
chainrule's transforms with an argument fixed, so they take and return pytrees as those
do and compose with them:

- ``jacfwd(f, argnums, has_aux)`` / ``jacrev(f, argnums, has_aux)``: ``jacobian`` in forward /
  reverse mode (``(J, aux)`` with ``has_aux``);
- ``elementwise_grad(f, argnum)`` (autograd): ``vjp`` of f seeded with ones, the gradient
  of ``sum(f(x))`` — for an elementwise f, the derivative of each element;
- ``linearize(f, *primals, has_aux=False)``: ``(f(*primals), jvp_fn)`` with ``jvp_fn(*tangents)``
  the JVP at the primals, by forward mode (``(out, jvp_fn, aux)`` with ``has_aux``);
- ``stop_gradient(x)``: x's value, a constant to every transform (reverse and forward).

>>> import chainrule as cr
>>> elementwise_grad(lambda x: x ** 2)(cr.tensor([1.0, 3.0]))    # 2x
tensor([2., 6.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import backends
from .functions import where
from .tensor import Tensor
from .transforms import Argnums, Derivatives, jacobian, jvp, split_aux, vjp
from .tree import tree_map

__all__ = ["elementwise_grad", "jacfwd", "jacrev", "linearize", "stop_gradient"]


def jacfwd(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, *, chunk_size: int | None = None
) -> Callable[..., Derivatives]:
    """JAX's ``jacfwd``: ``jacobian(f, argnums, mode="fwd")``, one batched forward pass
    per leaf of the arguments, J shaped ``out.shape + x.shape``;
    with ``has_aux`` f returns ``(out, aux)`` and the function ``(J, aux)``.

    >>> import chainrule as cr
    >>> jacfwd(lambda x: x ** 2)(cr.tensor([1.0, 2.0])).tolist()   # diag(2x)
    [[2.0, 0.0], [0.0, 4.0]]
    """
    return jacobian(f, argnums, mode="fwd", chunk_size=chunk_size, has_aux=has_aux)


def jacrev(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False, *, chunk_size: int | None = None
) -> Callable[..., Derivatives]:
    """JAX's ``jacrev``: ``jacobian(f, argnums, mode="rev")``, one batched reverse pass
    per leaf of the output, J shaped ``out.shape + x.shape``;
    with ``has_aux`` f returns ``(out, aux)`` and the function ``(J, aux)``.

    >>> import chainrule as cr
    >>> jacrev(lambda x: cr.sum(x ** 2))(cr.tensor([1.0, 2.0])).tolist()   # 2x
    [2.0, 4.0]
    """
    return jacobian(f, argnums, mode="rev", chunk_size=chunk_size, has_aux=has_aux)


def elementwise_grad(f: Callable[..., Any], argnum: Argnums = 0) -> Callable[..., Derivatives]:
    """autograd's ``elementwise_grad``: ``uᵀ ∂f/∂x`` with u all ones, one reverse pass;
    the gradient of the sum of f's outputs (every leaf of a pytree output), shaped as
    x. For an f that acts elementwise it is each element's derivative.

    >>> import chainrule as cr
    >>> elementwise_grad(cr.sin)(cr.tensor([0.0])).tolist()           # cos 0
    [1.0]
    """

    def gradient(*args: Any) -> Derivatives:
        positions = argnum if isinstance(argnum, tuple) else (argnum,)
        nums = []
        for i in positions:
            if not isinstance(i, int) or not -len(args) <= i < len(args):
                raise ValueError(
                    f"elementwise_grad: argnum {argnum!r} is out of range for a function "
                    f"called with {len(args)} argument(s)"
                )
            nums.append(i % len(args))

        def f_of_differentiated(*xs: Any) -> Any:
            call = list(args)
            for i, x in zip(nums, xs):
                call[i] = x
            return f(*call)

        out, vjp_fn = vjp(f_of_differentiated, *[args[i] for i in nums])
        cotangents = vjp_fn(tree_map(_ones_like, out))
        return cotangents if isinstance(argnum, tuple) else cotangents[0]

    return gradient


def _ones_like(t: Tensor) -> Tensor:
    return Tensor._make(backends.ones_like(t._data), None)


def _frozen(p: Any) -> Any:
    """A copy of a primal kept for ``jvp_fn``. A Tensor's is ``where(False, p, p)`` with the
    condition where p's values are: a new array, recorded, so it stays on the graph."""
    if not isinstance(p, Tensor):
        return np.array(p, copy=True)
    return where(backends.zeros((), p._data, bool), p, p)


def _zero_tangent(p: Any) -> Any:
    """Zeros shaped as the primal ``p``, where its values are."""
    return backends.zeros(p.shape, p._data) if isinstance(p, Tensor) else np.zeros(np.shape(p))


def linearize(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is ``J·tangents`` at the primals
    (one tangent per primal, nested as it), by forward mode. With ``has_aux`` f returns
    ``(out, aux)`` and the result is ``(out, jvp_fn, aux)``, aux from the first call.

    Unlike JAX, which keeps the linear map it traced, ``jvp_fn`` runs f again in forward
    mode at the same primals on every call (chainrule records no program to replay); the
    primals are fixed when ``linearize`` is called.

    >>> import chainrule as cr
    >>> out, jvp_fn = linearize(cr.sin, 0.0)
    >>> float(out), float(jvp_fn(2.0))         # sin 0, cos 0 · 2
    (0.0, 2.0)
    """
    primals = tree_map(_frozen, primals)  # the point of linearization, whatever happens to the inputs later

    def split(*args: Any) -> tuple[Any, Any]:  # f's (value, aux), aux None without has_aux
        return split_aux(f(*args), has_aux, "linearize")

    out, _, aux = jvp(split, primals, tree_map(_zero_tangent, primals), has_aux=True)

    def jvp_fn(*tangents: Any) -> Any:
        if len(tangents) != len(primals):
            raise TypeError(
                f"linearize: jvp_fn takes {len(primals)} tangent(s), one per primal, got {len(tangents)}"
            )
        return jvp(split, primals, tangents, has_aux=True)[1]

    return (out, jvp_fn, aux) if has_aux else (out, jvp_fn)


def stop_gradient(x: Any) -> Any:
    """x's value (each leaf of a pytree), a constant to every transform: its gradient and
    its tangent are zero, as JAX's ``stop_gradient``. Non-Tensor leaves come back as given.

    >>> import chainrule as cr
    >>> float(cr.grad(lambda x: x * stop_gradient(x))(3.0))    # d(x·c)/dx with c = x
    3.0
    """
    return tree_map(lambda leaf: leaf.detach() if isinstance(leaf, Tensor) else leaf, x)
