"""Which implementation runs: chainrule's on Tensors, NumPy's on plain data; NumPy's protocols.

``Tensor.__array_ufunc__`` and ``Tensor.__array_function__`` call :func:`array_ufunc` and
:func:`array_function`, so ``np.exp(t)``, ``ndarray + t``, ``np.concatenate([t, a])`` and
``np.linalg.norm(t)`` run chainrule's functions and stay on the graph. A NumPy function or
ufunc that chainrule lacks, a ufunc method (``np.add.at``, ``np.add.reduce``) and an ``out=``
argument raise ``TypeError`` naming it: a Tensor is never converted to an ndarray silently.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..tensor import holds_tensor

ARGUMENTS = 3
"""How deep :func:`~chainrule.tensor.holds_tensor` looks into a call's arguments for a Tensor:
the arguments, a list among them (``concatenate``'s) and a list in that."""


def numpy_names(namespace: Any, module: str) -> Callable[[str], Any]:
    """A module's ``__getattr__``: every name ``module`` does not define is ``namespace``'s
    (NumPy's constants, dtypes and the functions of plain data)."""

    def other_name(name: str) -> Any:
        try:
            return getattr(namespace, name)
        except AttributeError:
            raise AttributeError(
                f"module {module!r} has no attribute {name!r} (nor has {namespace.__name__})"
            ) from None

    return other_name


def dual(name: str, numpy_fn: Callable[..., Any], chainrule_fn: Callable[..., Any]) -> Callable[..., Any]:
    """NumPy's function ``name``: chainrule's function on Tensors, NumPy's on plain data."""

    @functools.wraps(chainrule_fn, assigned=("__annotations__",), updated=())
    def fn(*args: Any, **kwargs: Any) -> Any:
        if holds_tensor(args, ARGUMENTS) or holds_tensor(tuple(kwargs.values()), ARGUMENTS):
            return call(name, chainrule_fn, args, kwargs)
        return numpy_fn(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (
        f"``{numpy_fn.__module__}.{name}``, differentiable on Tensors: chainrule's "
        f"``{chainrule_fn.__module__}.{chainrule_fn.__name__}`` on Tensors, NumPy's own on plain data."
    )
    return fn


def call(name: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``fn(*args, **kwargs)``; arguments its signature does not take (a NumPy keyword such as
    ``kind=`` or ``order=`` that chainrule lacks) are refused naming the function and its
    signature, not with Python's bare message."""
    try:
        return fn(*args, **kwargs)
    except TypeError:
        signature = inspect.signature(fn)
        try:
            signature.bind(*args, **kwargs)
        except TypeError as e:  # the call itself did not fit: say so, with what it takes
            raise TypeError(f"{name}: {e}; chainrule's {name} takes {signature}") from None
        raise


@functools.cache
def _tables() -> tuple[dict[str, Callable[..., Any]], dict[Any, Callable[..., Any]]]:
    """(ufunc name → function, NumPy function → chainrule function), made at first use."""
    from .. import numpy as cnp
    from . import fft, linalg

    ufuncs = {name: fn for name, fn in cnp.OWN.items() if isinstance(getattr(np, name, None), np.ufunc)}
    functions: dict[Any, Callable[..., Any]] = {}
    for namespace, own, differentiable in (
        (np, cnp.OWN, cnp.DIFFERENTIABLE),
        (np.linalg, linalg.OWN, linalg.DIFFERENTIABLE),
        (np.fft, fft.OWN, fft.DIFFERENTIABLE),
    ):
        for name, fn in own.items():
            target = getattr(namespace, name, None)
            if callable(target) and not isinstance(target, np.ufunc):
                functions[target] = differentiable.get(name, fn)
    return ufuncs, functions


def _unsupported(what: str, why: str) -> TypeError:
    return TypeError(
        f"{what} on a chainrule Tensor: {why}. To work on the values without gradients, "
        "convert explicitly with np.asarray(t) or t.detach().numpy()"
    )


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_ufunc__``: the ufunc as chainrule's function of the same NumPy name."""
    name = f"numpy.{ufunc.__name__}"
    if method != "__call__":
        raise _unsupported(f"{name}.{method}", "chainrule supports calling ufuncs, not their methods")
    if "out" in kwargs:
        raise _unsupported(
            f"{name}(..., out=...)",
            "writing the result into an ndarray (as `a += t` does for an ndarray a) would take it "
            "off the graph; use the returned value (a = a + t)",
        )
    if kwargs:
        raise _unsupported(
            f"{name}(..., {', '.join(kwargs)}=...)", "chainrule's version takes no keyword arguments"
        )
    fn = _tables()[0].get(ufunc.__name__)
    if fn is None:
        raise _unsupported(name, "chainrule has no differentiable version of this ufunc")
    return fn(*inputs)


def array_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_function__``: the NumPy function as its chainrule.numpy namesake."""
    fn = _tables()[1].get(func)
    if fn is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        public = next((m for m in ("numpy.linalg", "numpy.fft") if module.startswith(m)), "numpy")
        raise _unsupported(f"{public}.{func.__name__}", "chainrule.numpy has no differentiable version of it")
    return call(f"numpy.{func.__name__}", fn, args, kwargs)
