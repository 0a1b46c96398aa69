"""Full Jacobians and Hessians (the suite's W3 and W4) in one process, chainrule's modes side by side.

* the Jacobian of tanh(Wx + b) with x in R^256 — analytically (1 − tanh²)[:, None]·W;
* the Hessian of logsumexp(Ax) with A of shape 128×100 — analytically
  Aᵀ(diag p − ppᵀ)A with p = softmax(Ax), formed as Aᵀ(p ⊙ A) − (Aᵀp)(Aᵀp)ᵀ.

The inputs, the closed forms (hand NumPy) and every library's implementation live in
the suite (``problems.py``, ``libraries/``). This script adds chainrule's three
Jacobian modes (rev: one batched backward pass; fwd: one batched forward pass; auto)
next to torch.func and jax.jit when installed. Every result is first checked against
the closed form, then the median time over ``--repeats`` runs is reported with its
ratio to the closed form's time.

    python -m chainrule.apps.bench.jacobians [--repeats 20]

For the full comparison with every peer in fixed-thread subprocesses, run
``python -m chainrule bench --workloads W3,W4``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.testing import assert_allclose

from chainrule.tables import text_table

from . import problems
from .libraries import chainrule_lib, hand_numpy
from .suite import WORKLOADS

TARGETS = {"jacobian": WORKLOADS["W3"].targets["time"], "hessian": WORKLOADS["W4"].targets["time"]}


def builders() -> dict:
    """(workload, name) → (builder, options, to_numpy) for everything this machine has."""
    found: dict[tuple[str, str], tuple[Callable[..., Any], dict[str, Any], Callable[[Any], np.ndarray]]] = {
        ("jacobian", "analytic NumPy"): (hand_numpy.jacobian, {}, np.asarray),
        ("hessian", "analytic NumPy"): (hand_numpy.hessian, {}, np.asarray),
    }
    for mode in ("rev", "fwd", "auto"):
        found[("jacobian", f"chainrule {mode}")] = (chainrule_lib.jacobian, {"mode": mode}, np.asarray)
    found[("hessian", "chainrule")] = (chainrule_lib.hessian, {}, np.asarray)
    try:
        from .libraries import torch_lib
    except ImportError:
        pass
    else:
        found[("jacobian", "torch.func jacrev")] = (torch_lib.jacobian, {"func": True}, torch_lib.to_numpy)
        found[("hessian", "torch.func")] = (torch_lib.hessian, {"func": True}, torch_lib.to_numpy)
    try:
        from .libraries import jax_lib
    except ImportError:
        pass
    else:
        found[("jacobian", "jax.jit jacrev")] = (jax_lib.jacobian, {"jit": True}, jax_lib.to_numpy)
        found[("hessian", "jax.jit hessian")] = (jax_lib.hessian, {"jit": True}, jax_lib.to_numpy)
    return found


def median_time(fn, repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed runs of each (default 20)")
    parser.add_argument("--n", type=int, default=256, help="size of x in the Jacobian workload")
    args = parser.parse_args(argv)
    inputs = {
        "jacobian": problems.problem("W3", {"n": args.n}),
        "hessian": problems.problem("W4", WORKLOADS["W4"].full[0]),
    }
    fns = {}
    for (work, name), (build, options, to_numpy) in builders().items():
        fn = build(inputs[work], **options)
        fns[(work, name)] = fn
        got = to_numpy(fn()[work])
        want = (hand_numpy.jacobian if work == "jacobian" else hand_numpy.hessian)(inputs[work])()[work]
        assert_allclose(got, want, rtol=1e-8, atol=1e-10, err_msg=f"{name} gives a wrong {work}")
    results = {key: median_time(fn, args.repeats) for key, fn in fns.items()}
    print(
        f"Jacobian of tanh(Wx + b), x in R^{args.n}; Hessian of logsumexp(Ax), A 128x100; float64; "
        f"median of {args.repeats} runs"
    )
    rows = [
        (work, name, seconds * 1e3, seconds / results[(work, "analytic NumPy")])
        for (work, name), seconds in results.items()
    ]
    print(text_table(["workload", "implementation", "ms", "x analytic"], rows, digits=(0, 0, 3, 2)))
    for work, target in TARGETS.items():
        best = min(s for (w, n), s in results.items() if w == work and n.startswith("chainrule"))
        ratio = best / results[(work, "analytic NumPy")]
        print(
            f"target: {work} <= {target:g}x analytic -> {ratio:.2f}x "
            f"({'met' if ratio <= target else 'not met'})"
        )
    return results


if __name__ == "__main__":
    main()
