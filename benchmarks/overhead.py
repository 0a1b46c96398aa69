"""Per-op overhead of chainrule: a chain of small elementwise ops, forward + backward.

The same computation is written three ways and run in one process (chainrule also
with file:line capture on, the mode explain and detect_anomaly use):

* chainrule, as a user writes it (Tensors, ``.backward()``);
* by hand in NumPy: a forward pass that keeps what the backward needs and a
  backward pass written out op by op — the floor any autodiff library pays;
* PyTorch, when it is installed.

On a 16-element float32 vector the arithmetic is almost free, so the time per op
is the library's bookkeeping: making tensors and nodes, ordering the graph, and
applying each rule. First the script checks that chainrule's gradient equals the
hand-written one, then it reports the median over ``--repeats`` timed runs (after
warm-up) in microseconds per op, and each implementation's ratio to hand NumPy.

    python benchmarks/overhead.py [--ops 200] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from numpy.testing import assert_allclose

import chainrule as cr

TARGET_RATIO = 3.0

# One cycle of the chain. Values stay bounded: after "tenth" x is in [0.05, 0.2], and
# adding x0 in [-1, 1] back in keeps every later value in a small range.
PATTERN = ("add_input", "half", "sin", "tanh", "exp", "tenth")


def schedule(n_ops: int) -> list[str]:
    return [PATTERN[i % len(PATTERN)] for i in range(n_ops)]


def make_input(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size).astype(np.float32)


# ------------------------------------------------------------------ the three implementations

def chainrule_gradient(x0_data: np.ndarray, ops: list[str]) -> np.ndarray:
    """d/dx0 of sum(chain(x0)) with chainrule."""
    x0 = cr.tensor(x0_data, requires_grad=True)
    x = x0
    for op in ops:
        if op == "add_input":
            x = x + x0
        elif op == "half":
            x = x * 0.5
        elif op == "sin":
            x = cr.sin(x)
        elif op == "tanh":
            x = cr.tanh(x)
        elif op == "exp":
            x = cr.exp(x)
        else:
            x = x * 0.1
    x.sum().backward()
    return x0.grad.numpy()


def numpy_gradient(x0: np.ndarray, ops: list[str]) -> np.ndarray:
    """The same gradient by hand: keep what each derivative needs, then walk back."""
    saved = []
    x = x0
    for op in ops:
        if op == "add_input":
            x = x + x0
            saved.append(None)
        elif op == "half":
            x = x * 0.5
            saved.append(None)
        elif op == "sin":
            saved.append(x)  # sin' = cos(input)
            x = np.sin(x)
        elif op == "tanh":
            x = np.tanh(x)
            saved.append(x)  # tanh' = 1 - output²
        elif op == "exp":
            x = np.exp(x)
            saved.append(x)  # exp' = output
        else:
            x = x * 0.1
            saved.append(None)
    g = np.ones_like(x)
    g_x0 = np.zeros_like(x0)
    for op, s in zip(reversed(ops), reversed(saved)):
        if op == "add_input":
            g_x0 = g_x0 + g
        elif op == "half":
            g = g * 0.5
        elif op == "sin":
            g = g * np.cos(s)
        elif op == "tanh":
            g = g * (1 - s * s)
        elif op == "exp":
            g = g * s
        else:
            g = g * 0.1
    return g_x0 + g


def chainrule_with_sites(x0_data: np.ndarray, ops: list[str]) -> np.ndarray:
    """The same, recording each op's file:line (what explain and detect_anomaly show)."""
    with cr.capture_sites():
        return chainrule_gradient(x0_data, ops)


def torch_gradient_fn():
    """The same computation in PyTorch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None

    def gradient(x0_data: np.ndarray, ops: list[str]) -> np.ndarray:
        x0 = torch.tensor(x0_data, requires_grad=True)
        x = x0
        for op in ops:
            if op == "add_input":
                x = x + x0
            elif op == "half":
                x = x * 0.5
            elif op == "sin":
                x = torch.sin(x)
            elif op == "tanh":
                x = torch.tanh(x)
            elif op == "exp":
                x = torch.exp(x)
            else:
                x = x * 0.1
        x.sum().backward()
        return x0.grad.numpy()

    return gradient


# ------------------------------------------------------------------ timing

def time_per_op(implementations: dict, x0: np.ndarray, ops: list[str], repeats: int,
                warmup: int) -> dict[str, float]:
    """Median µs per op of each implementation; runs are interleaved so drift hits all alike."""
    for fn in implementations.values():
        for _ in range(warmup):
            fn(x0, ops)
    samples: dict[str, list[float]] = {name: [] for name in implementations}
    for _ in range(repeats):
        for name, fn in implementations.items():
            start = time.perf_counter()
            fn(x0, ops)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) / len(ops) * 1e6 for name, s in samples.items()}


def table(results: dict[str, float], baseline: str) -> str:
    lines = [f"{'implementation':<16}{'us/op':>10}{'x hand NumPy':>15}"]
    for name, us in results.items():
        lines.append(f"{name:<16}{us:>10.2f}{us / results[baseline]:>15.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200, help="length of the chain (default 200)")
    parser.add_argument("--repeats", type=int, default=30,
                        help="timed runs per implementation; the median is reported (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--size", type=int, default=16, help="elements in the vector (default 16)")
    args = parser.parse_args(argv)
    if args.ops < 1 or args.repeats < 1:
        parser.error("--ops and --repeats must be at least 1")

    ops = schedule(args.ops)
    x0 = make_input(args.size)
    implementations = {"hand NumPy": numpy_gradient, "chainrule": chainrule_gradient,
                       "chainrule+sites": chainrule_with_sites}
    torch_fn = torch_gradient_fn()
    if torch_fn is not None:
        implementations["torch"] = torch_fn

    reference = numpy_gradient(x0, ops)
    assert np.isfinite(reference).all()
    for name, fn in implementations.items():
        assert_allclose(fn(x0, ops), reference, rtol=1e-5, atol=1e-6,
                        err_msg=f"{name}'s gradient differs from the hand-written NumPy one")

    results = time_per_op(implementations, x0, ops, args.repeats, args.warmup)
    print(f"per-op overhead: chain of {args.ops} elementwise ops on float32[{args.size}], "
          f"forward + backward, median of {args.repeats} runs after {args.warmup} warm-up")
    print(table(results, "hand NumPy"))
    if torch_fn is None:
        print("torch: not installed, skipped")
    ratio = results["chainrule"] / results["hand NumPy"]
    print(f"file:line capture (off by default) costs "
          f"{results['chainrule+sites'] - results['chainrule']:.2f} us/op when on")
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    print(f"target: chainrule <= {TARGET_RATIO:g}x hand NumPy -> {ratio:.2f}x ({verdict})")
    return results


if __name__ == "__main__":
    main()
