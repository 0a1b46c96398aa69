"""The programs that tests/test_distributed.py starts under ``mpiexec -n N``.

``python tests/mpi_runs.py SCENARIO`` runs one scenario on every rank and prints one line
``RESULT <json>`` per rank. Each data-parallel scenario also trains the same model in this
process alone on the whole global batch (the reference), so a rank reports how far it is
from single-process training and whether all ranks hold bit-identical parameters.
"""

from __future__ import annotations

import contextlib
import json
import sys

import numpy as np


def _setup():
    import chainrule as cr
    import chainrule.distributed as dist

    cr.set_default_dtype(np.float64)
    return cr, dist, dist.init()


def _mlp(cr):
    cr.manual_seed(1)
    return cr.nn.Sequential(
        cr.nn.Linear(6, 16), cr.nn.ReLU(), cr.nn.Linear(16, 8), cr.nn.Tanh(), cr.nn.Linear(8, 3)
    )


def _window(cr, vocabulary=40):
    cr.manual_seed(2)
    return cr.nn.Sequential(
        cr.nn.Embedding(vocabulary, 4, sparse=True),
        cr.nn.Flatten(),
        cr.nn.Linear(12, 5),
        cr.nn.ReLU(),
        cr.nn.Linear(5, 3),
    )


def _data(kind, n=96, vocabulary=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)) if kind == "dense" else rng.integers(0, vocabulary, size=(n, 3))
    return x, rng.integers(0, 3, size=n)


def _optimizer(cr, params, name):
    if name == "sgd":
        return cr.optim.SGD(params, lr=0.1, momentum=0.9)
    return cr.optim.Adam(params, lr=0.01)


def _train(cr, model, optimizer, x, y, batches):
    loss = cr.nn.CrossEntropyLoss()
    for idx in batches:
        optimizer.zero_grad()
        loss(model(cr.tensor(x[idx])), y[idx]).backward()
        optimizer.step()


def _report(dist, group, model, reference, **extra):
    mine = [p.data for p in model.parameters()]
    gap = max(float(np.abs(a - b.data).max()) for a, b in zip(mine, reference.parameters()))
    everyone = group.comm.allgather(mine)
    identical = all(all(np.array_equal(a, b) for a, b in zip(everyone[0], theirs)) for theirs in everyone)
    return {"rank": group.rank, "size": group.size, "gap": gap, "identical": identical, **extra}


def data_parallel(kind, optimizer_name, vocabulary=40):
    """K steps of data-parallel training against one process on the same global batches.
    A sparse embedding of 40 rows goes as a dense all-reduce (the gathered rows would be
    more); one of 2,000 rows as gathered rows."""
    cr, dist, group = _setup()
    make = _mlp if kind == "dense" else (lambda cr: _window(cr, vocabulary))
    x, y = _data(kind, vocabulary=vocabulary)
    global_batch, steps = 24, 4
    sampler = dist.DistributedSampler(len(x), shuffle=True, seed=3)
    mine = sampler.indices()
    per_rank = global_batch // group.size
    model = dist.DistributedDataParallel(make(cr), bucket_cap_mb=0.0005)  # several buckets
    _train(
        cr,
        model,
        _optimizer(cr, model.parameters(), optimizer_name),
        x,
        y,
        [mine[k * per_rank : (k + 1) * per_rank] for k in range(steps)],
    )
    reference = make(cr)
    order = sampler.order()
    _train(
        cr,
        reference,
        _optimizer(cr, reference.parameters(), optimizer_name),
        x,
        y,
        [order[k * global_batch : (k + 1) * global_batch] for k in range(steps)],
    )
    return _report(dist, group, model.module, reference, buckets=len(model._buckets), stats=model.stats)


def unused():
    """A parameter that only rank 0 uses: every rank completes, and all get its average."""
    cr, dist, group = _setup()

    class Branches(cr.nn.Module):
        def __init__(self):
            super().__init__()
            self.shared = cr.nn.Linear(4, 3)
            self.only_rank0 = cr.nn.Linear(3, 3)

        def forward(self, x):
            h = self.shared(x)
            return self.only_rank0(h) if group.rank == 0 else h

    cr.manual_seed(0)
    model = dist.DistributedDataParallel(Branches())
    x = cr.tensor(np.random.default_rng(group.rank).normal(size=(5, 4)))
    cr.sum(model(x) ** 2).backward()
    grad = model.module.only_rank0.weight.grad
    return {"rank": group.rank, "grad_sum": float(np.abs(grad.data).sum()) if grad is not None else None}


def mismatch():
    """Parameters of different shapes on different ranks: the same error on every rank."""
    cr, dist, group = _setup()
    try:
        dist.broadcast_parameters(cr.nn.Linear(3, 2 + group.rank))
    except ValueError as error:
        return {"rank": group.rank, "error": str(error)}
    return {"rank": group.rank, "error": None}


def no_sync():
    """Two micro-batches, the first under no_sync: the gradient of both losses together."""
    cr, dist, group = _setup()
    x, y = _data("dense")
    model = dist.DistributedDataParallel(_mlp(cr))
    loss = cr.nn.CrossEntropyLoss(reduction="sum")
    shards = [np.arange(k * 16, (k + 1) * 16)[group.rank :: group.size] for k in range(2)]
    with model.no_sync():
        loss(model(cr.tensor(x[shards[0]])), y[shards[0]]).backward()
    loss(model(cr.tensor(x[shards[1]])), y[shards[1]]).backward()
    reference = _mlp(cr)
    loss(reference(cr.tensor(x[:32])), y[:32]).backward()
    gap = max(
        float(np.abs(p.grad.data * group.size - q.grad.data).max())  # DDP averages the ranks' sums
        for p, q in zip(model.module.parameters(), reference.parameters())
    )
    return {"rank": group.rank, "gap": gap}


def collectives():
    """The derivative rules of all_reduce and all_gather against their closed forms."""
    cr, dist, group = _setup()
    r, n = group.rank, group.size
    x = cr.tensor(np.arange(3.0) + r, requires_grad=True)
    y = dist.all_reduce(x)  # Σ_s x_s on every rank
    cr.sum(y**2).backward()  # every rank's loss; x_r's gradient sums them: n · 2y
    total = sum(np.arange(3.0) + s for s in range(n))
    reduce_gap = float(np.abs(x.grad.data - 2 * n * total).max())
    x.grad = None
    weights = np.random.default_rng(r).normal(size=(n, 3))  # rank r's weights on every block
    cr.sum(dist.all_gather(x) * weights).backward()  # x_r's gradient: Σ_s weights_s[r]
    expected = sum(np.random.default_rng(s).normal(size=(n, 3))[r] for s in range(n))
    gather_gap = float(np.abs(x.grad.data - expected).max())
    mean = dist.all_reduce(x, op="mean").data
    return {
        "rank": r,
        "reduce_gap": reduce_gap,
        "gather_gap": gather_gap,
        "mean_gap": float(np.abs(mean - total / n).max()),
    }


def failed_pass():
    """A backward pass that stops on an error: the next forward says so instead of hanging."""
    cr, dist, group = _setup()
    model = dist.DistributedDataParallel(_mlp(cr))
    x = cr.tensor(np.ones((2, 6)))
    hidden = model(x)

    def fail(grad):
        raise ValueError("a hook failed")

    hidden.register_hook(fail)
    with contextlib.suppress(ValueError):  # the failure the next forward must notice
        cr.sum(hidden).backward()
    try:
        model(x)
    except RuntimeError as error:
        return {"rank": group.rank, "error": str(error)}
    return {"rank": group.rank, "error": None}


SCENARIOS = {
    "sgd": lambda: data_parallel("dense", "sgd"),
    "adam": lambda: data_parallel("dense", "adam"),
    "sparse-sgd": lambda: data_parallel("sparse", "sgd"),
    "sparse-adam": lambda: data_parallel("sparse", "adam"),
    "sparse-sgd-gathered": lambda: data_parallel("sparse", "sgd", vocabulary=2000),
    "sparse-adam-gathered": lambda: data_parallel("sparse", "adam", vocabulary=2000),
    "unused": unused,
    "mismatch": mismatch,
    "no-sync": no_sync,
    "collectives": collectives,
    "failed-pass": failed_pass,
}

if __name__ == "__main__":
    print("RESULT " + json.dumps(SCENARIOS[sys.argv[1]]()), flush=True)
