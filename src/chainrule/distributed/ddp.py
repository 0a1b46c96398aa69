"""Data-parallel training: every rank runs the model on its share of the batch, and the
gradients are averaged over the ranks while the backward pass is still running.

With per-rank losses ℓ_r on batches of the same size, the mean of the ranks' gradients is
the gradient of the mean loss over the global batch, so N ranks with batch b take the
steps one process takes with batch N·b (the parameters start equal: they are broadcast
from rank 0 when the wrapper is made).

How the gradients travel:

- **Buckets.** The dense parameters are grouped, in reverse registration order (the order
  backward finishes them, roughly), into flat buffers of at most ``bucket_cap_mb`` each, one
  dtype per bucket. The buffers are allocated once; each parameter's ``.grad`` is a view
  into its bucket, so the engine accumulates into the bucket in place and sending it
  costs no copy.
- **Overlap.** A post-accumulate-grad hook marks a parameter ready when its ``.grad`` is
  final in the pass. When every parameter of a bucket is ready, a non-blocking
  ``Iallreduce`` of the bucket starts, while backward goes on with earlier layers. Buckets
  start in the same order on every rank (a bucket waits for the ones before it), as MPI
  requires of collectives.
- **The end of backward.** A callback queued at the start of the pass starts every bucket
  left, waits for all of them and divides by the world size.
- **Unused parameters.** A parameter that got no gradient on this rank takes part as zeros,
  and gets the average of the others. No rank waits for a bucket another rank never sends,
  so ``find_unused_parameters`` is not needed.
- **Row-sparse gradients** (``Embedding(sparse=True)``): the ranks' rows and values are
  gathered (``Allgatherv``) and summed into one ``RowSparse``. When the gathered rows would
  hold more numbers than the dense matrix, a dense all-reduce is used instead; every rank
  decides alike from the gathered row counts.
- ``no_sync()``: inside it, backward accumulates locally and sends nothing. The next pass
  outside it averages the accumulated sums, which is gradient accumulation.

``stats`` adds up over the synchronized passes: the bytes this rank sent, the seconds spent
in the communication calls (starting, and waiting at the end), the seconds of waiting
alone, the passes, and how many row-sparse gradients went as gathered rows.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..graph import queue_callback
from ..nn.module import Module
from ..sparse import RowSparse
from ..tensor import Tensor
from ..tree import tree_flatten
from .group import ProcessGroup, broadcast_parameters, check_on_host, default_group, named_parameters

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """A flat buffer holding the gradients of some parameters, as views."""

    def __init__(self, params: Sequence[Tensor]) -> None:
        self.params = params
        self.buffer = np.zeros(sum(p.size for p in params), dtype=params[0].dtype)
        self.views: dict[Tensor, Tensor] = {}
        start = 0
        for p in params:
            self.views[p] = Tensor._make(self.buffer[start : start + p.size].reshape(p.shape), None)
            start += p.size
        self.ready: set[Tensor] = set()
        self.request: Any = None

    def adopt(self, p: Tensor) -> None:
        """Make p's gradient live in the bucket: its values copied in unless .grad already
        is the view (zeros for a parameter with no gradient)."""
        view = self.views[p]
        grad = p.grad
        if grad is view:
            return
        if grad is None:
            view.data[...] = 0
        else:
            view.data[...] = grad.numpy() if isinstance(grad, RowSparse) else grad.data
        p._grad = view


class DistributedDataParallel(Module):
    """``module`` trained data-parallel over the process group (see the module docstring).

    Calling it calls ``module``; ``.module`` is the model, and ``state_dict`` keys start with
    ``module.`` as in PyTorch. The parameters (and buffers) are broadcast from rank 0 here,
    after checking on every rank that all ranks hold the same (name, shape, dtype).
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25, group: ProcessGroup | None = None) -> None:
        super().__init__()
        if bucket_cap_mb <= 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb}")
        check_on_host("DistributedDataParallel", named_parameters(module))
        self.module = module
        self.group = default_group(group)
        broadcast_parameters(module, root=0, group=self.group)
        sparse = {
            id(m.weight) for m in module.modules() if getattr(m, "sparse", False) and hasattr(m, "weight")
        }
        trained = [p for p in module.parameters() if p.requires_grad]
        self._sparse = [p for p in trained if id(p) in sparse]
        dense = [p for p in reversed(trained) if id(p) not in sparse]
        self._buckets = _buckets(dense, bucket_cap_mb * 2**20)
        self._bucket_of = {p: b for b in self._buckets for p in b.params}
        self._sync = True
        self._started = 0
        self._queued = False
        self.stats = {"bytes": 0, "communication_s": 0.0, "waiting_s": 0.0, "passes": 0, "rows_gathered": 0}
        for p in trained:
            p.register_post_accumulate_grad_hook(self._on_ready)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self._queued:  # the last pass's end never ran: it stopped on an error
            raise RuntimeError(
                "DistributedDataParallel: the last backward pass stopped on an error before its "
                "gradients were averaged, so the ranks are out of step; restart the run"
            )
        out = self.module(*args, **kwargs)
        for leaf in tree_flatten(out)[0]:
            if isinstance(leaf, Tensor) and leaf.requires_grad:
                leaf.register_hook(self._on_pass_start)  # the pass's first step queues its end
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside accumulate gradients locally, sending nothing; the first
        pass after it averages the sums."""
        previous = self._sync
        self._sync = False
        try:
            yield
        finally:
            self._sync = previous

    # ------------------------------------------------------------------ the pass
    def _on_pass_start(self, grad: Any) -> None:
        if self._sync and not self._queued:
            self._queued = True
            queue_callback(self._finish)

    def _on_ready(self, p: Tensor) -> None:
        bucket = self._bucket_of.get(p)
        if bucket is None:  # row-sparse: sent at the end of the pass
            return
        bucket.adopt(p)
        if not self._sync:
            return
        if not self._queued:  # a pass that does not go through forward's output
            self._queued = True
            queue_callback(self._finish)
        bucket.ready.add(p)
        self._start_ready_buckets()
        for started in self._buckets[: self._started]:
            # MPI moves a non-blocking all-reduce on only inside its calls (no progress
            # thread by default): testing it lets the sent buckets advance under backward.
            if started.request is not None:
                started.request.Test()

    def _start_ready_buckets(self, all_left: bool = False) -> None:
        """Start buckets in order while the next one is complete (all of them when
        ``all_left``: the pass has ended)."""
        while self._started < len(self._buckets):
            bucket = self._buckets[self._started]
            if not all_left and len(bucket.ready) < len(bucket.params):
                return
            begin = time.perf_counter()
            for p in bucket.params:
                if p not in bucket.ready:
                    bucket.adopt(p)
            bucket.request = self.group.comm.Iallreduce(
                self.group.MPI.IN_PLACE, bucket.buffer, op=self.group.MPI.SUM
            )
            self._sent(bucket.buffer.nbytes)
            self.stats["communication_s"] += time.perf_counter() - begin
            self._started += 1

    def _finish(self) -> None:
        """The end of a synchronized pass: every bucket sent and averaged, then the
        row-sparse gradients."""
        self._start_ready_buckets(all_left=True)
        begin = time.perf_counter()
        size = self.group.size
        for bucket in self._buckets:
            bucket.request.Wait()
            bucket.request = None
            bucket.ready.clear()
            if size > 1:
                bucket.buffer /= size
        waited = time.perf_counter() - begin
        for p in self._sparse:
            self._average_sparse(p)
        self.stats["waiting_s"] += waited
        self.stats["communication_s"] += time.perf_counter() - begin
        self.stats["passes"] += 1
        self._started = 0
        self._queued = False

    def _sent(self, nbytes: int) -> None:
        if self.group.size > 1:  # a process alone sends nothing
            self.stats["bytes"] += nbytes

    def _average_sparse(self, p: Tensor) -> None:
        """The mean over the ranks of a row-sparse gradient: gathered rows, or dense."""
        comm, MPI, size = self.group.comm, self.group.MPI, self.group.size  # noqa: N806
        grad = p.grad
        rows = grad.indices.size if isinstance(grad, RowSparse) else (0 if grad is None else -1)
        counts = comm.allgather(rows)
        row_size = int(np.prod(p.shape[1:]))
        if min(counts) >= 0 and sum(counts) * (row_size + 1) <= p.size:
            mine = (
                grad
                if isinstance(grad, RowSparse)
                else RowSparse(np.zeros(0, np.int64), np.zeros((0, *p.shape[1:]), p.dtype), p.shape)
            )
            indices = np.empty(sum(counts), dtype=np.int64)
            values = np.empty((sum(counts), *p.shape[1:]), dtype=p.dtype)
            comm.Allgatherv(np.ascontiguousarray(mine.indices, dtype=np.int64), [indices, counts])
            comm.Allgatherv(np.ascontiguousarray(mine.values), [values, [c * row_size for c in counts]])
            self._sent(mine.indices.size * 8 + mine.values.nbytes)
            p._grad = RowSparse(indices, values / size, p.shape)
            self.stats["rows_gathered"] += 1
            return
        if isinstance(grad, RowSparse):
            dense = grad.numpy()  # a new array: the all-reduce writes into it
        else:
            dense = np.zeros(p.shape, p.dtype) if grad is None else np.array(grad.data, dtype=p.dtype)
        comm.Allreduce(MPI.IN_PLACE, dense, op=MPI.SUM)
        self._sent(dense.nbytes)
        if min(counts) < 0:  # a rank had a dense gradient: so is the mean
            p._grad = Tensor._make(dense / size, None)
            return
        # Row-sparse everywhere: the mean keeps to the rows some rank looked up, as one
        # process's gradient of the global batch would (the optimizers move only those).
        touched = np.zeros(p.shape[0], dtype=np.uint8)
        if isinstance(grad, RowSparse):
            touched[grad.indices] = 1
        comm.Allreduce(MPI.IN_PLACE, touched, op=MPI.MAX)
        self._sent(touched.nbytes)
        rows = np.flatnonzero(touched)
        p._grad = RowSparse(rows, dense[rows] / size, p.shape)


def _buckets(params: Sequence[Tensor], cap_bytes: float) -> list[_Bucket]:
    """Consecutive parameters of one dtype, at most ``cap_bytes`` a bucket (a larger
    parameter alone)."""
    groups: list[list[Tensor]] = []
    filled = 0.0
    for p in params:
        nbytes = p.size * p.dtype.itemsize
        if not groups or groups[-1][0].dtype != p.dtype or filled + nbytes > cap_bytes:
            groups.append([])
            filled = 0.0
        groups[-1].append(p)
        filled += nbytes
    return [_Bucket(g) for g in groups]
