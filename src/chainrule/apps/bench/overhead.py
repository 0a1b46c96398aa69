"""Per-op overhead of chainrule (the suite's W2) in one process, with file:line capture on and off.

The workload — a chain of small elementwise ops, forward + backward — and its three
implementations (chainrule, hand-written NumPy, PyTorch when installed) live in the
suite (``problems.py``, ``libraries/``); this script adds what one process can show
and separate workers cannot: chainrule with ``cr.capture_sites()`` (the mode explain
and detect_anomaly use), and runs interleaved so drift hits every implementation
alike. It checks every gradient against the hand-written one, then reports the
median µs per op after warm-up and each implementation's ratio to hand NumPy.

    python -m chainrule.apps.bench.overhead [--ops 200] [--repeats 30]

For the full comparison with every peer in fixed-thread subprocesses, run
``python -m chainrule bench --workloads W2``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from numpy.testing import assert_allclose

import chainrule as cr
from chainrule.tables import text_table

from .libraries import chainrule_lib, hand_numpy
from .problems import make_input, schedule
from .suite import WORKLOADS

TARGET_RATIO = WORKLOADS["W2"].targets["time per op"]

__all__ = ["chainrule_gradient", "main", "make_input", "numpy_gradient", "schedule"]


def numpy_gradient(x0: np.ndarray, ops: list[str]) -> np.ndarray:
    """d/dx0 of sum(chain(x0)), written out by hand (the suite's limit)."""
    return hand_numpy.op_chain({"x0": x0, "ops": ops})()["grad"]


def chainrule_gradient(x0: np.ndarray, ops: list[str]) -> np.ndarray:
    """The same gradient with chainrule, as the suite runs it."""
    return chainrule_lib.op_chain({"x0": x0, "ops": ops})()["grad"].numpy()


def _with_sites(fn):
    def gradient():
        with cr.capture_sites():
            return fn()

    return gradient


def implementations(x0: np.ndarray, ops: list[str]) -> dict:
    """Name → function of no arguments returning the gradient as an ndarray."""
    problem = {"x0": x0, "ops": ops}
    chain = chainrule_lib.op_chain(problem)
    found = {
        "hand NumPy": hand_numpy.op_chain(problem),
        "chainrule": chain,
        "chainrule+sites": _with_sites(chain),
    }
    try:
        from .libraries import torch_lib
    except ImportError:
        return {name: _as_array(fn, np.asarray) for name, fn in found.items()}
    found["torch"] = torch_lib.op_chain(problem)
    return {
        name: _as_array(fn, torch_lib.to_numpy if name == "torch" else np.asarray)
        for name, fn in found.items()
    }


def _as_array(fn, to_numpy):
    return lambda: to_numpy(fn()["grad"])


def time_per_op(impls: dict, n_ops: int, repeats: int, warmup: int) -> dict[str, float]:
    """Median µs per op of each implementation; runs are interleaved so drift hits all alike."""
    for fn in impls.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(repeats):
        for name, fn in impls.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) / n_ops * 1e6 for name, s in samples.items()}


def table(results: dict[str, float], baseline: str) -> str:
    """µs per op of each implementation, and its ratio to ``baseline``'s."""
    rows = [(name, us, us / results[baseline]) for name, us in results.items()]
    return text_table(["implementation", "us/op", f"x {baseline}"], rows, digits=2)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200, help="length of the chain (default 200)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=30,
        help="timed runs per implementation; the median is reported (default 30)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--size", type=int, default=16, help="elements in the vector (default 16)")
    args = parser.parse_args(argv)
    if args.ops < 1 or args.repeats < 1:
        parser.error("--ops and --repeats must be at least 1")

    ops = schedule(args.ops)
    impls = implementations(make_input(args.size), ops)
    reference = impls["hand NumPy"]()
    assert np.isfinite(reference).all()
    for name, fn in impls.items():
        assert_allclose(
            fn(),
            reference,
            rtol=1e-5,
            atol=1e-6,
            err_msg=f"{name}'s gradient differs from the hand-written NumPy one",
        )

    results = time_per_op(impls, args.ops, args.repeats, args.warmup)
    print(
        f"per-op overhead: chain of {args.ops} elementwise ops on float32[{args.size}], "
        f"forward + backward, median of {args.repeats} runs after {args.warmup} warm-up"
    )
    print(table(results, "hand NumPy"))
    if "torch" not in results:
        print("torch: not installed, skipped")
    ratio = results["chainrule"] / results["hand NumPy"]
    print(
        f"file:line capture (off by default) costs "
        f"{results['chainrule+sites'] - results['chainrule']:.2f} us/op when on"
    )
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    print(f"target: chainrule <= {TARGET_RATIO:g}x hand NumPy -> {ratio:.2f}x ({verdict})")
    return results


if __name__ == "__main__":
    main()
