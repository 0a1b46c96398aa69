"""The inputs of each workload, made from one seed, and the gradient check.

Every library gets the same arrays (copies of them), so every library's gradients
can be compared element by element with the hand-written NumPy reference before
anything is timed. ``problem(workload, config, seed)`` returns a dict of NumPy arrays
and sizes; the builders in ``libraries/`` read it.
"""

from __future__ import annotations

import numpy as np

from .suite import WORKLOADS

# |got − want| ≤ atol · max|want| + rtol · |want|, elementwise, for every output.
# atol is relative to the output's largest element, so it scales with the gradient.
TOLERANCES = {
    "float32": {"rtol": 2e-3, "atol": 1e-5},
    "float64": {"rtol": 1e-7, "atol": 1e-10},
}

# One cycle of the W2 chain. Values stay bounded: after "tenth" x is in [0.05, 0.2], and
# adding x0 in [-1, 1] back in keeps every later value in a small range.
PATTERN = ("add_input", "half", "sin", "tanh", "exp", "tenth")


def schedule(n_ops: int) -> list[str]:
    """The first ``n_ops`` ops of the repeating W2 pattern."""
    return [PATTERN[i % len(PATTERN)] for i in range(n_ops)]


def make_input(size: int, seed: int = 0) -> np.ndarray:
    """W2's input vector: float32, uniform in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size).astype(np.float32)


def run_chain(x0, ops: list[str], sin, tanh, exp):
    """The W2 chain written once for any library: pass its sin, tanh and exp."""
    x = x0
    for op in ops:
        if op == "add_input":
            x = x + x0
        elif op == "half":
            x = x * 0.5
        elif op == "sin":
            x = sin(x)
        elif op == "tanh":
            x = tanh(x)
        elif op == "exp":
            x = exp(x)
        else:
            x = x * 0.1
    return x


def raw_logits(params, x, relu):
    """W1-raw's forward written once for any library: ``x @ W + b`` with each W stored
    (in, out) and the library's ``relu`` between layers; the logits."""
    for W, b in params[:-1]:
        x = relu(x @ W + b)
    W, b = params[-1]
    return x @ W + b


def layer_outputs(params, grads) -> dict:
    """The named outputs of an MLP step, the same in every library: W1, b1, dW1, db1, ...

    ``params`` and ``grads`` are sequences of (weight, bias) pairs, first layer first.
    """
    out = {}
    for i, ((W, b), (dW, db)) in enumerate(zip(params, grads), 1):
        out.update({f"dW{i}": dW, f"db{i}": db, f"W{i}": W, f"b{i}": b})
    return out


def _uniform(rng, shape, fan_in, dtype):
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


def mlp(config: dict, seed: int) -> dict:
    """W1/W7: weights (out, in) and biases as PyTorch's Linear initialises them, a batch, labels."""
    rng = np.random.default_rng(seed)
    sizes, batch = config["sizes"], config["batch"]
    layers = [
        (_uniform(rng, (b, a), a, np.float32), _uniform(rng, (b,), a, np.float32))
        for a, b in zip(sizes, sizes[1:])
    ]
    return {
        "layers": layers,
        "x": rng.standard_normal((batch, sizes[0])).astype(np.float32),
        "y": rng.integers(0, sizes[-1], batch),
        "lr": config["lr"],
    }


def mlp_in_out(config: dict, seed: int) -> dict:
    """W1-raw: W1's problem with each weight stored (in, out), as ``x @ W + b`` reads it."""
    problem = mlp(config, seed)
    problem["layers"] = [(np.ascontiguousarray(W.T), b) for W, b in problem["layers"]]
    return problem


def chain(config: dict, seed: int) -> dict:
    return {"x0": make_input(config["size"], seed), "ops": schedule(config["ops"])}


def jacobian(config: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n = config["n"]
    return {
        "W": rng.standard_normal((n, n)) / np.sqrt(n),
        "b": rng.standard_normal(n),
        "x": rng.standard_normal(n),
    }


def hessian(config: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    rows, cols = config["rows"], config["cols"]
    return {"A": rng.standard_normal((rows, cols)) / np.sqrt(cols), "x": rng.standard_normal(cols)}


def window(config: dict, seed: int) -> dict:
    """W5: an embedding table E (vocab, dim), h = tanh(W x + b), logits = U h + c."""
    rng = np.random.default_rng(seed)
    vocab, dim, width = config["vocab"], config["dim"], config["window"] * config["dim"]
    hidden, classes, batch = config["hidden"], config["classes"], config["batch"]
    return {
        "E": (0.1 * rng.standard_normal((vocab, dim))).astype(np.float32),
        "W": _uniform(rng, (hidden, width), width, np.float32),
        "b": _uniform(rng, (hidden,), width, np.float32),
        "U": _uniform(rng, (classes, hidden), hidden, np.float32),
        "c": _uniform(rng, (classes,), hidden, np.float32),
        "words": rng.integers(0, vocab, (batch, config["window"])),
        "y": rng.integers(0, classes, batch),
        "lr": config["lr"],
    }


def deep(config: dict, seed: int) -> dict:
    """W6: ``layers`` square layers (He-scaled, so activations keep their size), loss ½·mean(out²)."""
    rng = np.random.default_rng(seed)
    width = config["width"]
    scale = np.sqrt(2 / width)
    layers = [
        ((scale * rng.standard_normal((width, width))).astype(np.float32), np.zeros(width, np.float32))
        for _ in range(config["layers"])
    ]
    return {"layers": layers, "x": rng.standard_normal((config["batch"], width)).astype(np.float32)}


_MAKERS = {
    "W1": mlp,
    "W1-raw": mlp_in_out,
    "W2": chain,
    "W3": jacobian,
    "W4": hessian,
    "W5": window,
    "W5-dense": window,
    "W6": deep,
    "W7": mlp,
}


def problem(workload: str, config: dict, seed: int = 0) -> dict:
    """The inputs of ``workload`` at ``config`` (one of ``WORKLOADS[workload].configs()``)."""
    if workload not in WORKLOADS:
        raise KeyError(f"no workload {workload!r}; the workloads are {', '.join(WORKLOADS)}")
    return _MAKERS[workload](config, seed)


def compare(outputs: dict, reference: dict, dtype: str, tolerance: dict | None = None) -> dict:
    """Check every reference output against ``outputs`` (both dicts of name → ndarray).

    The tolerance is ``TOLERANCES[dtype]`` unless the workload gives its own. Returns
    ``{"passed", "rtol", "atol", "worst", "failures"}``: ``worst`` is the element
    furthest outside (or nearest to the edge of) what the tolerance allows, with its
    output's relative error in norm, and ``failures`` says, for each output that is
    missing, has the wrong shape, or is off, what went wrong.
    """
    tol = tolerance or TOLERANCES[dtype]
    failures, worst = [], None
    for name, want in reference.items():
        want = np.asarray(want, dtype=np.float64)
        if name not in outputs:
            failures.append(f"{name}: missing")
            continue
        got = np.asarray(outputs[name], dtype=np.float64)
        if got.shape != want.shape:
            failures.append(f"{name}: shape {got.shape}, expected {want.shape}")
            continue
        if want.size == 0:
            continue
        shape, got, want = want.shape, got.reshape(-1), want.reshape(-1)
        scale = float(np.max(np.abs(want)))
        error = np.abs(got - want)
        error[~np.isfinite(error)] = np.inf
        allowed = np.maximum(tol["atol"] * scale + tol["rtol"] * np.abs(want), np.finfo(np.float64).tiny)
        at = int(np.argmax(error / allowed))
        excess = float(error[at] / allowed[at])
        index = [int(i) for i in np.unravel_index(at, shape)]
        element = {
            "output": name,
            "index": index,
            "got": float(got[at]),
            "expected": float(want[at]),
            "max_abs_error": float(np.max(error)),
            "scale": scale,
            "error_over_tolerance": excess,
            "relative_norm_error": float(np.linalg.norm(got - want) / (np.linalg.norm(want) or 1)),
        }
        if worst is None or excess > worst["error_over_tolerance"]:
            worst = element
        if excess > 1:
            failures.append(
                f"{name}{index}: got {element['got']:.7g}, expected {element['expected']:.7g} "
                f"(max |error| {element['max_abs_error']:.3g} on a scale of {scale:.3g})"
            )
    return {"passed": not failures, **tol, "worst": worst, "failures": failures}
