"""TensorFlow-style gradients: ``GradientTape`` and ``Variable``.

Inside ``with cr.GradientTape() as tape:`` operations on watched tensors are
recorded; ``tape.gradient(target, sources)`` then runs the reverse pass. Variables
are watched without ``watch``. Tapes nest: the gradient an inner tape computes while
an outer tape is recording is itself recorded, so the outer tape can differentiate
it again.

>>> import chainrule as cr
>>> x = cr.tensor(3.0)
>>> with cr.GradientTape() as outer:
...     outer.watch(x)
...     with cr.GradientTape() as inner:
...         inner.watch(x)
...         y = x ** 3
...     dy = inner.gradient(y, x)                # 3x² = 27
>>> float(outer.gradient(dy, x))                 # 6x = 18
18.0
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .autograd import pull_back
from .mode import enable_grad, no_grad
from .tensor import Tensor
from .transforms import _reverse_jacobian

_recording: list = []  # the tapes whose `with` block is open, innermost last


class Variable(Tensor):
    """A trainable tensor: it requires grad, so every tape watches it without ``watch``.

    >>> import chainrule as cr
    >>> v = cr.Variable([1.0, 2.0])
    >>> v.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data, dtype=None, trainable: bool = True) -> None:
        super().__init__(data, dtype=dtype, requires_grad=trainable)

    def assign(self, value) -> Variable:
        """Replace the value in place (same shape), as TensorFlow's ``assign``."""
        self.data = value
        return self


class GradientTape:
    """Records operations on watched tensors for ``gradient`` and ``jacobian``.

    A non-persistent tape answers one ``gradient`` (or ``jacobian``) call; make it with
    ``persistent=True`` to ask several times.
    """

    def __init__(self, persistent: bool = False) -> None:
        self.persistent = persistent
        self._watched: list[Tensor] = []
        self._used = False
        self._grad_mode = None

    def __enter__(self) -> GradientTape:
        _recording.append(self)
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._grad_mode.__exit__(*exc)
        _recording.remove(self)
        self._unwatch()  # what happens after the block is not recorded

    def watch(self, tensor) -> None:
        """Record operations on ``tensor`` (or on each tensor of a list) from now on."""
        for t in tensor if isinstance(tensor, (list, tuple)) else (tensor,):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected a Tensor, got {type(t).__name__}")
            if not t.requires_grad:
                t.requires_grad_(True)
                self._watched.append(t)

    @contextmanager
    def stop_recording(self):
        """Operations inside this block are not recorded."""
        with no_grad():
            yield

    def reset(self) -> None:
        self._used = False

    def _check_use(self, what: str) -> None:
        if self._used and not self.persistent:
            raise RuntimeError(f"GradientTape.{what}: a non-persistent tape can be asked only once; "
                               "create it with GradientTape(persistent=True) to ask again")
        self._used = True

    def _nested(self) -> bool:
        return any(tape is not self for tape in _recording)

    def gradient(self, target, sources, output_gradients=None):
        """∂target/∂source for each source (None where target does not depend on it).

        ``sources`` may be a Tensor or a list/tuple of them (the result has the same
        structure); ``output_gradients`` seeds the reverse pass (ones by default, so
        a non-scalar target gives the gradient of its sum, as in TensorFlow).
        """
        self._check_use("gradient")
        single = isinstance(sources, Tensor)
        structure = type(sources) if isinstance(sources, tuple) else list
        sources = [sources] if single else list(sources)
        if not isinstance(target, Tensor) or (target.grad_fn is None and
                                              not any(target is src for src in sources)):
            grads = [None] * len(sources)
        else:
            seed = np.ones(target.shape, target.dtype) if output_gradients is None else output_gradients
            grads = pull_back(target, sources, seed, create_graph=True if self._nested() else None,
                              retain_graph=self.persistent or self._nested())
            grads = [g if _depends(target, s) else None for g, s in zip(grads, sources)]
        return grads[0] if single else structure(grads)

    def jacobian(self, target: Tensor, source: Tensor) -> Tensor:
        """The Jacobian ``target.shape + source.shape`` (one batched reverse pass)."""
        self._check_use("jacobian")
        (jac,) = _reverse_jacobian(target, [source], None, None,
                                   create_graph=True if self._nested() else None)
        return jac

    def _unwatch(self) -> None:
        for t in self._watched:
            t.requires_grad_(False)
        self._watched = []


def _depends(target: Tensor, source: Tensor) -> bool:
    from .graph import reaching

    if target is source:
        return True
    if target.grad_fn is None:
        return False
    key = source.grad_fn if source.grad_fn is not None else source
    reach, _ = reaching([target.grad_fn], {key})
    return target.grad_fn in reach
