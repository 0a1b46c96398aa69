"""Learning-rate schedules, as PyTorch defines them: each ``step()`` (once per epoch,
after the optimizer's steps) sets every parameter group's ``"lr"`` for the next epoch.

With η₀ a group's initial learning rate and e the epoch (``last_epoch``, 0 at the start):

    StepLR             η = η₀ · γ^⌊e / step_size⌋
    MultiStepLR        η = η₀ · γ^(the number of milestones <= e)
    ExponentialLR      η = η₀ · γ^e
    CosineAnnealingLR  η = η_min + (η₀ − η_min)(1 + cos(π e / T_max)) / 2
    LinearLR           η = η₀ · (s + (f − s) · min(e, total_iters) / total_iters)
    LambdaLR           η = η₀ · λ(e)
    MultiplicativeLR   η = η₀ · λ(1) · λ(2) ⋯ λ(e)

As in PyTorch, a step computes the new rate from the group's current one (StepLR
multiplies it by γ every step_size epochs, ExponentialLR every epoch, cosine annealing
scales its distance to η_min), so two schedulers on one optimizer compose and a rate
set by hand carries on; untouched, the rates are the closed forms above. LambdaLR
alone sets η₀ · λ(e) whatever the current rate. ``ReduceLROnPlateau`` is stepped with
a metric instead, and multiplies the rates by a factor when the metric stops improving.

>>> import chainrule as cr
>>> w = cr.zeros(1, requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=1.0)
>>> schedule = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     rates.append(opt.param_groups[0]["lr"])      # ... train one epoch with it ...
...     schedule.step()
>>> rates
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import copy
import math
import numbers
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from .optimizer import Optimizer


class LRScheduler:
    """The base of the schedules: ``step()``, ``get_last_lr()``, ``last_epoch``,
    ``state_dict()`` / ``load_state_dict()``.

    A subclass writes :meth:`next_lr` (the chainable rule: the new rate from the
    current one) and :meth:`closed_form_lr` (the rate at an epoch from η₀, for
    ``step(epoch)``), or, where the rule needs the group's position, :meth:`next_rates`
    and :meth:`closed_form_rates`.
    """

    rate_on_resume = False
    """Whether the constructor sets the rate of its first epoch (0, or the one after a resumed
    ``last_epoch``) by :meth:`next_lr`, as PyTorch's first step does for StepLR and MultiStepLR;
    otherwise it keeps the groups' rates (see :meth:`initial_rates`)."""

    hyperparameters: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an int >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param_groups[{i}] has no 'initial_lr' to resume from at "
                        f"last_epoch={last_epoch}; load the optimizer's state_dict first, or start at -1"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in groups]
        # PyTorch's constructor takes a first step, to epoch 0 (or the one after a resumed
        # last_epoch); most schedules keep the groups' rates there (``initial_rates``).
        self.last_epoch = last_epoch + 1
        self._step_count = 1
        for group, lr in zip(groups, self.initial_rates()):
            group["lr"] = lr
        self._last_lr: list[float] = [group["lr"] for group in groups]

    def initial_rates(self) -> list[float]:
        """The rates the constructor sets for its first epoch ``last_epoch``: the groups' own,
        or the chainable rule's where ``rate_on_resume``."""
        if self.rate_on_resume:
            return self.next_rates()
        return [group["lr"] for group in self.optimizer.param_groups]

    def next_rates(self) -> list[float]:
        """The rate of each group at epoch ``last_epoch``, from its current one."""
        return [
            self.next_lr(group["lr"], base) for group, base in zip(self.optimizer.param_groups, self.base_lrs)
        ]

    def closed_form_rates(self) -> list[float]:
        """The rate of each group at epoch ``last_epoch``, from its initial one."""
        return [self.closed_form_lr(base) for base in self.base_lrs]

    def step(self, epoch: int | None = None) -> None:
        """Move to the next epoch (or, deprecated in PyTorch, to ``epoch``) and set every
        group's ``"lr"`` to its rate there."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            rates = self.next_rates()
        else:
            warnings.warn(
                f"{type(self).__name__}.step(epoch) is deprecated in PyTorch; call step() once per epoch",
                UserWarning,
                stacklevel=2,
            )
            self.last_epoch = epoch
            rates = self.closed_form_rates()
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rate of each group set by the latest ``step()``."""
        return list(self._last_lr)

    def next_lr(self, lr: float, base_lr: float) -> float:
        """The rate at epoch ``last_epoch`` from the group's current ``lr``."""
        raise NotImplementedError

    def closed_form_lr(self, base_lr: float) -> float:
        """The rate at epoch ``last_epoch`` from the initial rate ``base_lr``."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The schedule's settings and position (everything but the optimizer), under
        PyTorch's names."""
        state: dict[str, Any] = {name: copy.copy(getattr(self, name)) for name in self.hyperparameters}
        state.update(
            base_lrs=list(self.base_lrs),
            last_epoch=self.last_epoch,
            _step_count=self._step_count,
            _last_lr=list(self._last_lr),
        )
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the settings and position of :meth:`state_dict` (keys PyTorch adds that
        chainrule does not use, such as ``verbose``, are ignored)."""
        name = type(self).__name__
        needed = {"base_lrs", "last_epoch", *self.hyperparameters}
        missing = needed - state_dict.keys()
        if missing:
            raise KeyError(f"{name}: the state dict lacks {sorted(missing)}")
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(state_dict['base_lrs'])} base rates; "
                f"the optimizer has {len(self.optimizer.param_groups)} parameter groups"
            )
        for setting in self.hyperparameters:
            setattr(self, setting, state_dict[setting])
        self.check_settings()
        self.base_lrs = list(state_dict["base_lrs"])
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict.get("_step_count", self._step_count))
        self._last_lr = list(state_dict.get("_last_lr", [g["lr"] for g in self.optimizer.param_groups]))

    def check_settings(self) -> None:
        """Raise a ValueError naming the schedule when a setting is invalid."""


def _check_rate_factor(name: str, gamma: float) -> None:
    if not (
        isinstance(gamma, (int, float)) and not isinstance(gamma, bool) and gamma > 0 and math.isfinite(gamma)
    ):
        raise ValueError(f"{name}: invalid gamma {gamma!r}; it must be a number > 0")


class StepLR(LRScheduler):
    """``StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1)``: the rate times γ every
    ``step_size`` epochs."""

    rate_on_resume = True  # PyTorch's StepLR decays at a resumed epoch that is a multiple of step_size

    hyperparameters = ("step_size", "gamma")

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size, self.gamma = step_size, gamma
        self.check_settings()
        super().__init__(optimizer, last_epoch)

    def check_settings(self) -> None:
        step_size = self.step_size
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: invalid step_size {step_size!r}; it must be an int >= 1")
        _check_rate_factor("StepLR", self.gamma)

    def next_lr(self, lr: float, base_lr: float) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lr
        return lr * self.gamma

    def closed_form_lr(self, base_lr: float) -> float:
        return base_lr * self.gamma ** (self.last_epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """``ExponentialLR(optimizer, gamma, last_epoch=-1)``: the rate times γ every epoch."""

    hyperparameters = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        self.check_settings()
        super().__init__(optimizer, last_epoch)

    def check_settings(self) -> None:
        _check_rate_factor("ExponentialLR", self.gamma)

    def next_lr(self, lr: float, base_lr: float) -> float:
        return lr if self.last_epoch == 0 else lr * self.gamma

    def closed_form_lr(self, base_lr: float) -> float:
        return base_lr * self.gamma**self.last_epoch


class CosineAnnealingLR(LRScheduler):
    """``CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)``: half a cosine
    from η₀ down to η_min over ``T_max`` epochs, then (as in PyTorch, which anneals
    without restarts) back up over the next T_max, and so on."""

    hyperparameters = ("T_max", "eta_min")

    def __init__(
        self, optimizer: Optimizer, T_max: float, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:  # noqa: N803 - PyTorch's name
        self.T_max, self.eta_min = T_max, eta_min
        self.check_settings()
        super().__init__(optimizer, last_epoch)

    def check_settings(self) -> None:
        T_max, eta_min = self.T_max, self.eta_min  # noqa: N806
        if isinstance(T_max, bool) or not isinstance(T_max, (int, float)) or not 0 < T_max < math.inf:
            raise ValueError(f"CosineAnnealingLR: invalid T_max {T_max!r}; it must be a number of epochs > 0")
        if isinstance(eta_min, bool) or not isinstance(eta_min, (int, float)) or not 0 <= eta_min < math.inf:
            raise ValueError(f"CosineAnnealingLR: invalid eta_min {eta_min!r}; it must be >= 0")

    def next_lr(self, lr: float, base_lr: float) -> float:
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min  # noqa: N806
        if e == 0:
            return lr
        if (e - 1 - T) % (2 * T) == 0:  # leaving η_min, where the ratio below is 0/0
            return lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (
            lr - eta_min
        ) + eta_min

    def closed_form_lr(self, base_lr: float) -> float:
        return (
            self.eta_min
            + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        )


def _check_optimizer(name: str, optimizer: object) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")


def _check_count(name: str, setting: str, value: object, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name}: invalid {setting} {value!r}; it must be an int >= {least}")


def _check_number(name: str, setting: str, value: object, low: float, high: float = math.inf) -> None:
    """A ValueError unless ``value`` is a real number with low <= value < high (finite)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= float(value) < high:
        bound = f"in [{low}, {high})" if high < math.inf else f">= {low}"
        raise ValueError(f"{name}: invalid {setting} {value!r}; it must be a number {bound}")


Lambda = Callable[[int], float]


def _lambdas(
    name: str, optimizer: Optimizer, lr_lambda: Lambda | list[Lambda] | tuple[Lambda, ...]
) -> list[Lambda]:
    """One function per parameter group: ``lr_lambda`` for each, or the list given."""
    count = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != count:
            raise ValueError(
                f"{name}: expected {count} lr_lambdas (one per parameter group), got {len(lr_lambda)}"
            )
        functions = list(lr_lambda)
    else:
        functions = [lr_lambda] * count
    for function in functions:
        if not callable(function):
            raise TypeError(f"{name}: lr_lambda should be a function, got a {type(function).__name__}")
    return functions


class _LambdaSchedule(LRScheduler):
    """What LambdaLR and MultiplicativeLR share: a function of the epoch per group, saved as
    PyTorch saves it (a plain function or lambda as None, a callable object as a copy of its
    ``__dict__``, which loading writes back into the object held)."""

    def __init__(
        self, optimizer: Optimizer, lr_lambda: Lambda | list[Lambda] | tuple[Lambda, ...], last_epoch: int
    ) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        self.lr_lambdas = _lambdas(name, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(f, types.FunctionType) or not hasattr(f, "__dict__") else dict(vars(f))
            for f in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"{type(self).__name__}: the state dict has {len(saved)} lr_lambdas; "
                f"this schedule {len(self.lr_lambdas)}"
            )
        super().load_state_dict(state_dict)
        for function, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                vars(function).update(attributes)


class LambdaLR(_LambdaSchedule):
    """``LambdaLR(optimizer, lr_lambda, last_epoch=-1)``: the rate η₀ · λ(e), with λ one
    function for every group or a list of one per group. The constructor sets η₀ · λ(0)
    (or λ at the resumed epoch) at once, as PyTorch's does; ``state_dict`` does not save
    plain functions (only a callable object's attributes), so pass the same ones again."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Lambda | list[Lambda] | tuple[Lambda, ...],
        last_epoch: int = -1,
    ) -> None:
        super().__init__(optimizer, lr_lambda, last_epoch)

    def initial_rates(self) -> list[float]:
        return self.next_rates()

    def next_rates(self) -> list[float]:
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def closed_form_rates(self) -> list[float]:
        return self.next_rates()


class MultiplicativeLR(_LambdaSchedule):
    """``MultiplicativeLR(optimizer, lr_lambda, last_epoch=-1)``: each epoch the rate times
    λ(e), with λ one function for every group or a list of one per group (saved as
    LambdaLR's). ``step(epoch)`` multiplies the current rate by λ(epoch) once, as PyTorch's."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Lambda | list[Lambda] | tuple[Lambda, ...],
        last_epoch: int = -1,
    ) -> None:
        super().__init__(optimizer, lr_lambda, last_epoch)

    def next_rates(self) -> list[float]:
        groups = self.optimizer.param_groups
        return [group["lr"] * f(self.last_epoch) for f, group in zip(self.lr_lambdas, groups)]

    def closed_form_rates(self) -> list[float]:
        return self.next_rates()


class MultiStepLR(LRScheduler):
    """``MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1)``: the rate times γ at
    each milestone epoch (times γⁿ at one listed n times). ``milestones`` is kept, and
    saved, as PyTorch keeps it: a ``collections.Counter``."""

    rate_on_resume = True  # PyTorch decays at once when the first epoch is a milestone (0 included)

    hyperparameters = ("milestones", "gamma")

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones: Counter[int] = Counter()
        self.milestones, self.gamma = milestones, gamma  # type: ignore[assignment]
        self.check_settings()
        super().__init__(optimizer, last_epoch)

    def check_settings(self) -> None:
        milestones: Any = self.milestones
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, got {milestones!r}")
        counts = Counter(milestones)
        for milestone in counts:
            if isinstance(milestone, bool) or not isinstance(milestone, numbers.Integral):
                raise ValueError(
                    f"MultiStepLR: invalid milestone {milestone!r}; milestones are epochs (ints)"
                )
        self.milestones = Counter({int(m): n for m, n in counts.items() if n > 0})
        _check_rate_factor("MultiStepLR", self.gamma)

    def next_lr(self, lr: float, base_lr: float) -> float:
        if self.last_epoch not in self.milestones:
            return lr
        return lr * self.gamma ** self.milestones[self.last_epoch]

    def closed_form_lr(self, base_lr: float) -> float:
        passed = sum(n for m, n in self.milestones.items() if m <= self.last_epoch)
        return base_lr * self.gamma**passed


class LinearLR(LRScheduler):
    """``LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5, last_epoch=-1)``:
    the rate η₀ · s at epoch 0 (the constructor sets it), moving linearly to η₀ · f at epoch
    ``total_iters`` and staying there. PyTorch takes ``total_iters=0`` and then keeps η₀ · s
    (its closed form divides by 0); chainrule asks for ``total_iters >= 1``."""

    hyperparameters = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        self.check_settings()
        super().__init__(optimizer, last_epoch)

    def check_settings(self) -> None:
        start, end = self.start_factor, self.end_factor
        if isinstance(start, bool) or not isinstance(start, numbers.Real) or not 0 < start <= 1:
            raise ValueError(f"LinearLR: invalid start_factor {start!r}; it must be in (0, 1]")
        if isinstance(end, bool) or not isinstance(end, numbers.Real) or not 0 <= end <= 1:
            raise ValueError(f"LinearLR: invalid end_factor {end!r}; it must be in [0, 1]")
        _check_count("LinearLR", "total_iters", self.total_iters, 1)

    def initial_rates(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in groups]
        return [group["lr"] for group in groups]

    def next_lr(self, lr: float, base_lr: float) -> float:
        e, start, end, total = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if e == 0:
            return lr * start
        if e > total:
            return lr
        return lr * (1.0 + (end - start) / (total * start + (e - 1) * (end - start)))

    def closed_form_lr(self, base_lr: float) -> float:
        start, end, total = self.start_factor, self.end_factor, self.total_iters
        return base_lr * (start + (end - start) * min(total, self.last_epoch) / total)


class ReduceLROnPlateau(LRScheduler):
    """``ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4,
    threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8)``: ``step(metric)`` once per
    epoch; when the metric has not improved for more than ``patience`` epochs, every
    group's rate is multiplied by ``factor`` (not below its ``min_lr``, a number or one per
    group; a change smaller than ``eps`` is skipped), then ``cooldown`` epochs pass before
    bad epochs count again.

    The metric improves on the best so far when it is below best · (1 − threshold)
    (``mode='min'``, ``threshold_mode='rel'``), below best − threshold (``'abs'``), or
    above best · (1 + threshold) / best + threshold for ``mode='max'``. As in PyTorch, it
    sets no ``initial_lr``, and its ``state_dict`` holds its settings and counters under
    PyTorch's names.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] | tuple[float, ...] = 0,
        eps: float = 1e-8,
    ) -> None:
        name = type(self).__name__
        _check_optimizer(name, optimizer)
        self.optimizer = optimizer
        count = len(optimizer.param_groups)
        self.default_min_lr: float | None
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != count:
                raise ValueError(
                    f"{name}: expected {count} min_lrs (one per parameter group), got {len(min_lr)}"
                )
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * count
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.eps = threshold_mode, cooldown, eps
        self.check_settings()
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def check_settings(self) -> None:
        name = type(self).__name__
        if self.mode not in ("min", "max"):
            raise ValueError(f"{name}: mode {self.mode!r} is unknown; use 'min' or 'max'")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode {self.threshold_mode!r} is unknown; use 'rel' or 'abs'")
        _check_number(name, "factor", self.factor, 0.0, 1.0)
        _check_count(name, "patience", self.patience, 0)
        _check_count(name, "cooldown", self.cooldown, 0)
        _check_number(name, "threshold", self.threshold, 0.0)
        _check_number(name, "eps", self.eps, 0.0)
        for min_lr in self.min_lrs:
            _check_number(name, "min_lr", min_lr, 0.0)
        self.mode_worse = math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self) -> bool:
        """Whether the epochs after a reduction are still passing (bad epochs do not count)."""
        return self.cooldown_counter > 0

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return value < (
                best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold
            )
        return value > (
            best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold
        )

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or a one-element Tensor) and reduce the rates
        if it has stopped improving. ``epoch`` is deprecated in PyTorch, as for the others."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(
                f"{type(self).__name__}.step(metrics, epoch) is deprecated in PyTorch; pass the metric only",
                UserWarning,
                stacklevel=2,
            )
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"{type(self).__name__}: the optimizer has {len(groups)} parameter groups, "
                    f"min_lr gave {len(self.min_lrs)} (a group was added); set min_lrs to one per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    settings = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps")
    counters = ("last_epoch", "best", "cooldown_counter", "num_bad_epochs")

    def state_dict(self) -> dict[str, Any]:
        """The settings and counters, under PyTorch's names (its keys, the same values)."""
        state = {name: getattr(self, name) for name in (*self.settings, *self.counters)}
        state.update(
            default_min_lr=self.default_min_lr,
            min_lrs=list(self.min_lrs),
            mode_worse=self.mode_worse,
            _last_lr=list(self._last_lr),
        )
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the settings and counters of :meth:`state_dict` (this schedule's or PyTorch's)."""
        name = type(self).__name__
        missing = {*self.settings, *self.counters, "min_lrs"} - state_dict.keys()
        if missing:
            raise KeyError(f"{name}: the state dict lacks {sorted(missing)}")
        for key in (*self.settings, *self.counters):
            setattr(self, key, state_dict[key])
        self.min_lrs = list(state_dict["min_lrs"])
        self.default_min_lr = state_dict.get("default_min_lr", self.default_min_lr)
        self.check_settings()
        self._last_lr = list(state_dict.get("_last_lr", [g["lr"] for g in self.optimizer.param_groups]))


__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "ReduceLROnPlateau",
    "StepLR",
]
