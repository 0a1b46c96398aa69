"""Learning-rate schedules, as PyTorch defines them: each ``step()`` (once per epoch,
after the optimizer's steps) sets every parameter group's ``"lr"`` for the next epoch.

With η₀ a group's initial learning rate and e the epoch (``last_epoch``, 0 at the start):

    StepLR             η = η₀ · γ^⌊e / step_size⌋
    ExponentialLR      η = η₀ · γ^e
    CosineAnnealingLR  η = η_min + (η₀ − η_min)(1 + cos(π e / T_max)) / 2

As in PyTorch, a step computes the new rate from the group's current one (StepLR
multiplies it by γ every step_size epochs, ExponentialLR every epoch, cosine annealing
scales its distance to η_min), so two schedulers on one optimizer compose and a rate
set by hand carries on; untouched, the rates are the closed forms above.

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

import math
import warnings
from typing import Any

from .optimizer import Optimizer


class LRScheduler:
    """The base of the schedules: ``step()``, ``get_last_lr()``, ``last_epoch``,
    ``state_dict()`` / ``load_state_dict()``.

    A subclass writes :meth:`next_lr` (the chainable rule: the new rate from the
    current one) and :meth:`closed_form_lr` (the rate at an epoch from η₀, for
    ``step(epoch)``).
    """

    rate_on_resume = False
    """Whether a schedule resumed at ``last_epoch`` > -1 sets its rate for the next epoch at once."""

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
        # Epoch 0 keeps the groups' rates. A resumed epoch keeps them too, except where
        # PyTorch's first step computes the rate there (StepLR: ``rate_on_resume``).
        self.last_epoch = last_epoch + 1
        self._step_count = 1
        if self.last_epoch > 0 and self.rate_on_resume:
            for group, base in zip(groups, self.base_lrs):
                group["lr"] = self.next_lr(group["lr"], base)
        self._last_lr: list[float] = [group["lr"] for group in groups]

    def step(self, epoch: int | None = None) -> None:
        """Move to the next epoch (or, deprecated in PyTorch, to ``epoch``) and set every
        group's ``"lr"`` to its rate there."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            rates = [
                self.next_lr(group["lr"], base)
                for group, base in zip(self.optimizer.param_groups, self.base_lrs)
            ]
        else:
            warnings.warn(
                f"{type(self).__name__}.step(epoch) is deprecated in PyTorch; call step() once per epoch",
                UserWarning,
                stacklevel=2,
            )
            self.last_epoch = epoch
            rates = [self.closed_form_lr(base) for base in self.base_lrs]
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
        state: dict[str, Any] = {name: getattr(self, name) for name in self.hyperparameters}
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


__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "StepLR"]
