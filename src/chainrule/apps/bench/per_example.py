"""Per-example gradients of an MLP: ``vmap(grad(loss))`` against a Python loop of ``grad`` calls.

The model is a one-hidden-layer classifier, relu(x W₁ + b₁) W₂ + b₂ with softmax
cross-entropy, on a batch of ``--batch`` examples (default 256, 64 features, 32 hidden
units, 10 classes: the digits data set's sizes). Each library computes the gradient of
every example's own loss with respect to all four parameters:

* chainrule: ``cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))`` — one batched pass — and
  the loop ``[cr.grad(loss)(params, x[i], y[i]) for i in range(batch)]``;
* torch (when installed): ``torch.func.vmap(torch.func.grad(loss))`` and the same loop;
* jax (when installed): ``jax.jit(jax.vmap(jax.grad(loss)))``.

Every result is first checked against chainrule's loop, then the median time over
``--repeats`` runs is printed with the loop-to-vmap speedup.

    python -m chainrule.apps.bench.per_example [--batch 256] [--repeats 10]
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.tables import text_table

from .jacobians import median_time

SIZES = {"features": 64, "hidden": 32, "classes": 10}


def problem(batch: int, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters (float64), inputs (batch, features) and integer labels (batch,)."""
    rng = np.random.default_rng(seed)
    d, h, c = SIZES["features"], SIZES["hidden"], SIZES["classes"]
    params = {
        "W1": rng.normal(size=(d, h)) / np.sqrt(d),
        "b1": rng.normal(size=h) * 0.1,
        "W2": rng.normal(size=(h, c)) / np.sqrt(h),
        "b2": rng.normal(size=c) * 0.1,
    }
    return params, rng.normal(size=(batch, d)), rng.integers(0, c, size=batch)


def chainrule_loss(p: dict[str, cr.Tensor], x: cr.Tensor, y: Any) -> cr.Tensor:
    hidden = cr.relu(x @ p["W1"] + p["b1"])
    return F.cross_entropy(hidden @ p["W2"] + p["b2"], y)


def chainrule_runs(params: dict, x: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], dict]]:
    p = {k: cr.tensor(v) for k, v in params.items()}
    xs, ys = cr.tensor(x), cr.tensor(y)
    per_example = cr.vmap(cr.grad(chainrule_loss), in_axes=(None, 0, 0))
    gradient = cr.grad(chainrule_loss)

    def looped() -> dict:
        grads = [gradient(p, xs[i], ys[i]) for i in range(len(x))]
        return {k: np.stack([g[k].numpy() for g in grads]) for k in params}

    return {
        "chainrule vmap(grad)": lambda: {k: v.numpy() for k, v in per_example(p, xs, ys).items()},
        "chainrule loop of grad": looped,
    }


def torch_runs(params: dict, x: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], dict]]:
    import torch

    p = {k: torch.tensor(v) for k, v in params.items()}
    xs, ys = torch.tensor(x), torch.tensor(y)

    def loss(p: dict, x: Any, y: Any) -> Any:
        hidden = torch.relu(x @ p["W1"] + p["b1"])
        return torch.nn.functional.cross_entropy(hidden @ p["W2"] + p["b2"], y)

    per_example = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
    gradient = torch.func.grad(loss)

    def looped() -> dict:
        grads = [gradient(p, xs[i], ys[i]) for i in range(len(x))]
        return {k: np.stack([g[k].numpy() for g in grads]) for k in params}

    return {
        "torch.func vmap(grad)": lambda: {k: v.numpy() for k, v in per_example(p, xs, ys).items()},
        "torch.func loop of grad": looped,
    }


def jax_runs(params: dict, x: np.ndarray, y: np.ndarray) -> dict[str, Callable[[], dict]]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    p = {k: jnp.asarray(v) for k, v in params.items()}
    xs, ys = jnp.asarray(x), jnp.asarray(y)

    def loss(p: dict, x: Any, y: Any) -> Any:
        logits = jax.nn.relu(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return -jax.nn.log_softmax(logits)[y]

    per_example = jax.jit(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))

    def run() -> dict:
        return {k: np.asarray(v) for k, v in jax.block_until_ready(per_example(p, xs, ys)).items()}

    return {"jax.jit vmap(grad)": run}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=256, help="examples in the batch (default 256)")
    parser.add_argument("--repeats", type=int, default=10, help="timed runs of each (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    args = parser.parse_args(argv)
    params, x, y = problem(args.batch)
    runs = chainrule_runs(params, x, y)
    for peer in (torch_runs, jax_runs):
        with contextlib.suppress(ImportError):  # a peer that is not installed
            runs.update(peer(params, x, y))
    reference = runs["chainrule loop of grad"]()
    times = {}
    for name, run in runs.items():
        result = run()
        for k in params:  # every library's per-example gradients, against chainrule's loop
            assert_allclose(result[k], reference[k], rtol=1e-9, atol=1e-12, err_msg=f"{name}: {k}")
        times[name] = median_time(run, args.repeats, args.warmup)
    loop = times["chainrule loop of grad"]
    rows = [[name, f"{t * 1e3:.2f}", f"{loop / t:.1f}×"] for name, t in times.items()]
    print(f"Per-example gradients of an MLP {SIZES} on a batch of {args.batch} (median of {args.repeats})")
    print(text_table(["implementation", "ms", "speedup over chainrule's loop"], rows))
    speedup = loop / times["chainrule vmap(grad)"]
    print(
        f"chainrule vmap(grad) is {speedup:.1f}× faster than a loop of {args.batch} grad calls (target ≥ 10×)"
    )
    return times


if __name__ == "__main__":
    main()
