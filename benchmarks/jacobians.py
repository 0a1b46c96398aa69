"""Full Jacobians and Hessians: chainrule against the analytic formula (and peers).

Two workloads, float64, each timed side by side in one process:

* the Jacobian of tanh(Wx + b) with x in R^256 — analytically (1 − tanh²)[:, None]·W;
* the Hessian of logsumexp(Ax) with A of shape 128×100 — analytically
  Aᵀ(diag p − ppᵀ)A with p = softmax(Ax).

chainrule computes them with ``jacobian`` (rev: one batched backward pass; fwd: one
batched forward pass; auto) and ``hessian`` (forward over reverse); torch.func and
jax are run too when installed. Every result is first checked against the formula,
then the median time over ``--repeats`` runs is reported with its ratio to the
formula's time.

    python benchmarks/jacobians.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from numpy.testing import assert_allclose

import chainrule as cr

TARGETS = {"jacobian": 8.0, "hessian": 3.0}


def problem(seed: int = 0, n: int = 256, rows: int = 128, cols: int = 100) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "W": rng.standard_normal((n, n)) / np.sqrt(n), "b": rng.standard_normal(n),
        "x": rng.standard_normal(n), "A": rng.standard_normal((rows, cols)) / np.sqrt(cols),
        "v": rng.standard_normal(cols),
    }


def analytic_jacobian(p: dict) -> np.ndarray:
    y = np.tanh(p["W"] @ p["x"] + p["b"])
    return (1 - y * y)[:, None] * p["W"]


def analytic_hessian(p: dict) -> np.ndarray:
    z = p["A"] @ p["v"]
    q = np.exp(z - z.max())
    q /= q.sum()
    return p["A"].T @ (np.diag(q) - np.outer(q, q)) @ p["A"]


def chainrule_implementations(p: dict) -> dict:
    W, b, A = cr.tensor(p["W"]), cr.tensor(p["b"]), cr.tensor(p["A"])

    def layer(x):
        return cr.tanh(W @ x + b)

    def lse(v):
        return cr.logsumexp(A @ v)

    out = {}
    for mode in ("rev", "fwd", "auto"):
        jac = cr.jacobian(layer, mode=mode)
        out[("jacobian", f"chainrule {mode}")] = lambda jac=jac: jac(p["x"]).numpy()
    hess = cr.hessian(lse)
    out[("hessian", "chainrule")] = lambda: hess(p["v"]).numpy()
    return out


def torch_implementations(p: dict) -> dict:
    try:
        import torch
        from torch.func import hessian, jacfwd, jacrev
    except ImportError:
        return {}
    W, b, A = (torch.tensor(p[k]) for k in ("W", "b", "A"))
    x, v = torch.tensor(p["x"]), torch.tensor(p["v"])

    def layer(x):
        return torch.tanh(W @ x + b)

    def lse(v):
        return torch.logsumexp(A @ v, dim=0)

    return {
        ("jacobian", "torch.func jacrev"): lambda: jacrev(layer)(x).numpy(),
        ("jacobian", "torch.func jacfwd"): lambda: jacfwd(layer)(x).numpy(),
        ("hessian", "torch.func"): lambda: hessian(lse)(v).numpy(),
    }


def jax_implementations(p: dict) -> dict:
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    W, b, A = (jnp.asarray(p[k]) for k in ("W", "b", "A"))
    x, v = jnp.asarray(p["x"]), jnp.asarray(p["v"])

    def layer(x):
        return jnp.tanh(W @ x + b)

    def lse(v):
        return jax.scipy.special.logsumexp(A @ v)

    jac = jax.jit(jax.jacrev(layer))
    hess = jax.jit(jax.hessian(lse))
    return {
        ("jacobian", "jax.jit jacrev"): lambda: np.asarray(jac(x).block_until_ready()),
        ("hessian", "jax.jit hessian"): lambda: np.asarray(hess(v).block_until_ready()),
    }


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
    p = problem(n=args.n)
    expected = {"jacobian": analytic_jacobian(p), "hessian": analytic_hessian(p)}
    impls = {**chainrule_implementations(p), **torch_implementations(p), **jax_implementations(p)}
    for (work, name), fn in impls.items():
        assert_allclose(fn(), expected[work], rtol=1e-8, atol=1e-10,
                        err_msg=f"{name} gives a wrong {work}")
    results = {}
    for work in ("jacobian", "hessian"):
        base = median_time(lambda work=work: (analytic_jacobian if work == "jacobian"
                                              else analytic_hessian)(p), args.repeats)
        results[(work, "analytic NumPy")] = base
        for (w, name), fn in impls.items():
            if w == work:
                results[(work, name)] = median_time(fn, args.repeats)
    print(f"Jacobian of tanh(Wx + b), x in R^{args.n}; Hessian of logsumexp(Ax), A 128x100; float64; "
          f"median of {args.repeats} runs")
    print(f"{'workload':<10}{'implementation':<22}{'ms':>10}{'x analytic':>12}")
    for (work, name), seconds in results.items():
        ratio = seconds / results[(work, "analytic NumPy")]
        print(f"{work:<10}{name:<22}{seconds * 1e3:>10.3f}{ratio:>12.2f}")
    for work, target in TARGETS.items():
        best = min(s for (w, n), s in results.items() if w == work and n.startswith("chainrule"))
        ratio = best / results[(work, "analytic NumPy")]
        print(f"target: {work} <= {target:g}x analytic -> {ratio:.2f}x "
              f"({'met' if ratio <= target else 'not met'})")
    return results


if __name__ == "__main__":
    main()
