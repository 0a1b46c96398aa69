"""chainrule.distributed under a real MPI: ``mpiexec -n 2`` and ``-n 4`` runs of
tests/mpi_runs.py (oversubscribed on a small machine), each with a timeout so that a
deadlock fails instead of hanging; and the pieces that need no second process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist

RUNS = Path(__file__).with_name("mpi_runs.py")
MPIEXEC = Path(sys.executable).with_name("mpiexec")
needs_mpi = pytest.mark.skipif(
    not MPIEXEC.exists(), reason="mpiexec not found beside Python: pip install 'chainrule[distributed]'"
)


def run_mpi(scenario: str, n: int, timeout: float = 120) -> list[dict]:
    """Each rank's RESULT of ``mpiexec -n n python mpi_runs.py scenario``, by rank."""
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root without these
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [str(MPIEXEC), "--oversubscribe", "-n", str(n), sys.executable, str(RUNS), scenario]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    results = [
        json.loads(line[len("RESULT ") :]) for line in done.stdout.splitlines() if line.startswith("RESULT ")
    ]
    assert done.returncode == 0 and len(results) == n, f"{scenario} on {n}:\n{done.stdout}\n{done.stderr}"
    return sorted(results, key=lambda r: r["rank"])


@needs_mpi
@pytest.mark.parametrize(
    ("scenario", "n"),
    [
        ("sgd", 2),
        ("sgd", 4),
        ("adam", 2),
        ("adam", 4),
        ("sparse-sgd", 2),
        ("sparse-adam", 2),
        ("sparse-sgd-gathered", 4),
        ("sparse-adam-gathered", 2),
    ],
)
def test_data_parallel_training_equals_one_process_on_the_global_batch(scenario, n):
    results = run_mpi(scenario, n)
    for r in results:
        assert r["size"] == n
        assert r["gap"] <= 1e-12, r
        assert r["identical"], "the ranks' parameters differ"
        assert r["buckets"] >= 2 and r["stats"]["passes"] == 4
        if scenario.endswith("gathered"):
            assert r["stats"]["rows_gathered"] == 4  # the embedding's rows went as rows, not dense
        elif scenario.startswith("sparse"):
            assert r["stats"]["rows_gathered"] == 0


@needs_mpi
def test_a_parameter_unused_on_some_ranks_completes_with_the_average():
    grads = [r["grad_sum"] for r in run_mpi("unused", 2)]
    assert grads[0] is not None and grads[0] > 0 and grads[0] == grads[1]


@needs_mpi
def test_a_shape_mismatch_raises_the_same_error_on_every_rank():
    errors = [r["error"] for r in run_mpi("mismatch", 2)]
    assert errors[0] is not None and errors[0] == errors[1]
    assert "(2, 3)" in errors[0] and "(3, 3)" in errors[0] and "rank 1" in errors[0]


@needs_mpi
def test_no_sync_accumulation_equals_the_larger_batch():
    assert all(r["gap"] <= 1e-12 for r in run_mpi("no-sync", 2))


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_collectives_differentiate_as_their_closed_forms(n):
    for r in run_mpi("collectives", n):
        assert r["reduce_gap"] <= 1e-12 and r["gather_gap"] <= 1e-12 and r["mean_gap"] <= 1e-12


@needs_mpi
def test_a_pass_that_failed_midway_is_refused_at_the_next_forward():
    for r in run_mpi("failed-pass", 2):
        assert r["error"] is not None and "out of step" in r["error"]


# ------------------------------------------------------------------ in one process
def test_init_without_mpi4py_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"chainrule\[distributed\]"):
        dist.init()


@pytest.mark.parametrize("drop_last", [True, False])
def test_sampler_shards_are_disjoint_and_cover_the_epoch(drop_last):
    n, size = 11, 3
    shards = [
        dist.DistributedSampler(n, seed=4, drop_last=drop_last, group=SimpleNamespace(rank=r, size=size))
        for r in range(size)
    ]
    for s in shards:
        s.set_epoch(2)
    lists = [s.indices() for s in shards]
    assert all(len(x) == len(shards[0]) for x in lists)
    order = shards[0].order()
    assert sorted(order.tolist()) == list(range(n))
    union = np.concatenate(lists)
    if drop_last:
        assert len(union) == 9 and len(set(union.tolist())) == 9
        assert sorted(union.tolist()) == sorted(order[:9].tolist())
    else:
        assert len(union) == 12 and set(union.tolist()) == set(range(n))
    # batch k of b per rank is the global batch of size·b consecutive examples of the order
    b = 1
    for k in range(len(shards[0])):
        together = sorted(int(x[k * b]) for x in lists)
        assert together == sorted(np.resize(order, 12)[k * size : (k + 1) * size].tolist())
    shards[0].set_epoch(3)
    assert not np.array_equal(shards[0].order(), order)


def test_a_process_alone_runs_the_collectives_as_the_identity():
    alone = dist.ProcessGroup.alone()
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = dist.all_gather(dist.all_reduce(x, op="mean", group=alone), group=alone)
    assert y.shape == (1, 3)
    cr.sum(y * 2).backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="op must be 'sum' or 'mean'"):
        dist.all_reduce(x, op="max", group=alone)
