"""Each rank's share of a data set, epoch by epoch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .group import ProcessGroup, default_group

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """The indices of rank r among ``n`` examples: every ``size``-th one of the epoch's
    order, starting at r, so the ranks' shards are disjoint and together cover the order.

    The order is ``0..n-1``, or with ``shuffle`` a permutation drawn from ``seed + epoch``
    (the same on every rank; :meth:`set_epoch` moves to the next one). With ``drop_last``
    the last ``n mod size`` examples of the order are left out; without it the order wraps
    around to fill every shard to the same length, as PyTorch's sampler does.

    Batch k of b indices on every rank is the global batch of ``size · b`` consecutive
    examples of the order, so N ranks with batch b train exactly as one with batch N·b.

    >>> sampler = DistributedSampler(10, shuffle=False, group=_Solo(rank=1, size=3))
    >>> list(sampler)
    [1, 4, 7]
    """

    def __init__(
        self,
        n: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = True,
        group: ProcessGroup | None = None,
    ) -> None:
        if n < 0:
            raise ValueError(f"DistributedSampler: n must be non-negative, got {n}")
        group = default_group(group)
        self.n, self.shuffle, self.seed, self.drop_last = n, shuffle, seed, drop_last
        self.rank, self.size = group.rank, group.size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (with ``shuffle``): call it before each epoch."""
        self.epoch = epoch

    def order(self) -> np.ndarray:
        """The epoch's order of all ``n`` examples, the same on every rank."""
        if self.shuffle:
            return np.random.default_rng(self.seed + self.epoch).permutation(self.n)
        return np.arange(self.n)

    def indices(self) -> np.ndarray:
        """This rank's indices for the epoch."""
        order = self.order()
        if self.drop_last:
            order = order[: len(self) * self.size]
        elif self.n:
            order = np.resize(order, len(self) * self.size)  # wraps around
        return order[self.rank :: self.size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.n // self.size if self.drop_last else -(-self.n // self.size)


class _Solo:
    """A stand-in group for the docstring's example: a rank and a size, no communicator."""

    def __init__(self, rank: int, size: int) -> None:
        self.rank, self.size = rank, size
