"""Data-parallel scaling: W1's MLP and W5's window classifier on 1, 2 and 4 MPI processes.

Each configuration is one ``mpiexec -n N`` run of this module (``--worker``), which trains
``DistributedDataParallel`` for ``--steps`` steps at a fixed global batch (W1: 784-512-512-10,
batch 128; W5: vocabulary 20,000 × 50, window 5, hidden 100, batch 256), so N processes
each take batch/N examples. Per step it reports, as medians over the steps after warm-up:

- **step**: the wall time of forward, backward (with its all-reduces) and the SGD update;
- **comm**: the time spent in the communication calls (starting the buckets' all-reduces
  during backward, and waiting for them at its end);
- **overlap**: the share of the all-reduce time hidden under backward,
  ``1 − wait / blocking``. Here ``wait`` is the time backward's end still waited, and
  ``blocking`` is the time of a blocking all-reduce of the same buckets, measured after the
  steps (buckets of ``--bucket-mb``, 1 MB by default: one bucket would have nothing to
  overlap with);
- **bytes**: what one rank sends per step. For W5 both with the embedding's gradient dense
  (``sparse=False``: the whole 20,000 × 50 table is all-reduced) and row-sparse
  (``sparse=True``: only the rows the batch looked up are gathered).

    python -m chainrule.apps.bench.distributed_scaling [--processes 1,2,4] [--steps 30]

The workers run with ``OMP_NUM_THREADS=1``. With more processes than cores they are
oversubscribed, and the output says so: the step times then measure time-sharing, not
parallel speed-up. The communication volume is what carries over to a real cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

from chainrule.tables import text_table

from . import problems
from .suite import WORKLOADS

CONFIGS = {
    "W1 MLP": ("W1", WORKLOADS["W1"].full[0], False),
    "W5 window, dense embedding": ("W5", WORKLOADS["W5"].full[0], False),
    "W5 window, row-sparse embedding": ("W5", WORKLOADS["W5"].full[0], True),
}


def _model(cr: Any, workload: str, data: dict, sparse: bool) -> Any:
    """The workload's model with the problem's initial values (every rank builds the same)."""
    nn = cr.nn
    if workload == "W1":
        layers: list[Any] = []
        for i, (w, b) in enumerate(data["layers"]):
            linear = nn.Linear(w.shape[1], w.shape[0])
            linear.weight.data, linear.bias.data = w, b
            layers += [linear] + ([nn.ReLU()] if i < len(data["layers"]) - 1 else [])
        return nn.Sequential(*layers)
    embedding = nn.Embedding(*data["E"].shape, sparse=sparse)
    embedding.weight.data = data["E"]
    hidden, out = (
        nn.Linear(data["W"].shape[1], data["W"].shape[0]),
        nn.Linear(data["U"].shape[1], data["U"].shape[0]),
    )
    hidden.weight.data, hidden.bias.data = data["W"], data["b"]
    out.weight.data, out.bias.data = data["U"], data["c"]
    return nn.Sequential(embedding, nn.Flatten(), hidden, nn.Tanh(), out)


def worker(name: str, steps: int, warmup: int, bucket_mb: float) -> dict:
    """One configuration on every rank of this mpiexec run; rank 0's figures are returned."""
    import chainrule as cr
    import chainrule.distributed as dist

    group = dist.init()
    workload, config, sparse = CONFIGS[name]
    data = problems.problem(workload, config, seed=0)
    model = dist.DistributedDataParallel(_model(cr, workload, data, sparse), bucket_cap_mb=bucket_mb)
    optimizer = cr.optim.SGD(model.parameters(), lr=data["lr"])
    x = data["x"] if workload == "W1" else data["words"]
    share = np.arange(len(x))[group.rank :: group.size]
    inputs, labels = cr.tensor(x[share]), data["y"][share]
    times, comm, wait, sent = [], [], [], []
    for step in range(warmup + steps):
        before = dict(model.stats)
        group.comm.Barrier()
        start = time.perf_counter()
        optimizer.zero_grad()
        cr.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if step >= warmup:
            times.append(elapsed)
            comm.append(model.stats["communication_s"] - before["communication_s"])
            wait.append(model.stats["waiting_s"] - before["waiting_s"])
            sent.append(model.stats["bytes"] - before["bytes"])
    blocking = []
    for _ in range(steps):  # the same buckets all-reduced blocking, for the overlap share
        group.comm.Barrier()
        start = time.perf_counter()
        for bucket in model._buckets:
            group.comm.Allreduce(group.MPI.IN_PLACE, bucket.buffer, op=group.MPI.SUM)
        blocking.append(time.perf_counter() - start)
    median = statistics.median
    figures = {
        "step_ms": median(times) * 1e3,
        "comm_ms": median(comm) * 1e3,
        "wait_ms": median(wait) * 1e3,
        "blocking_ms": median(blocking) * 1e3,
        "bytes": int(median(sent)),
    }
    everyone = group.comm.gather(figures, root=0)
    return {"processes": group.size, **(everyone[0] if group.rank == 0 else {})}


def _spawn(name: str, n: int, steps: int, warmup: int, bucket_mb: float) -> dict:
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [
        mpiexec,
        "--oversubscribe",
        "-n",
        str(n),
        sys.executable,
        "-m",
        "chainrule.apps.bench.distributed_scaling",
    ]
    command += [
        "--worker",
        name,
        "--steps",
        str(steps),
        "--warmup",
        str(warmup),
        "--bucket-mb",
        str(bucket_mb),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{name} on {n} processes failed:\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(lines[0][len("RESULT ") :]))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4", help="process counts to run (default 1,2,4)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--only", choices=list(CONFIGS), help="one configuration")
    parser.add_argument(
        "--bucket-mb", type=float, default=1.0, help="DistributedDataParallel's bucket_cap_mb (default 1)"
    )
    parser.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.worker, args.steps, args.warmup, args.bucket_mb)
        if result.get("step_ms") is not None:
            print("RESULT " + json.dumps(result), flush=True)
        return [result]
    cores = os.cpu_count() or 1
    counts = [int(n) for n in args.processes.split(",")]
    rows, results = [], []
    for name in [args.only] if args.only else list(CONFIGS):
        for n in counts:
            r = _spawn(name, n, args.steps, args.warmup, args.bucket_mb)
            results.append({"config": name, **r})
            overlap = (
                max(0.0, 1 - r["wait_ms"] / r["blocking_ms"]) if n > 1 and r["blocking_ms"] > 0 else None
            )
            rows.append(
                [
                    name,
                    f"{n}{' (oversubscribed)' if n > cores else ''}",
                    f"{r['step_ms']:.2f}",
                    f"{r['comm_ms']:.2f}",
                    "—" if overlap is None else f"{overlap:.0%}",
                    f"{r['bytes'] / 1e6:.3f}",
                ]
            )
    print(
        f"Data-parallel scaling at a fixed global batch, buckets of {args.bucket_mb:g} MB; {cores} cores "
        "on this machine, one thread per process"
    )
    print(text_table(["configuration", "processes", "step ms", "comm ms", "overlap", "MB sent/step"], rows))
    if any(n > cores for n in counts):
        print(
            f"More processes than the {cores} cores are oversubscribed: their step times measure "
            "time-sharing, not speed-up; the bytes sent per step are what carries over to a cluster."
        )
    return results


if __name__ == "__main__":
    main()
