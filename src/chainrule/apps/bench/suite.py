"""What the suite measures: the workloads and the libraries that run them.

This module uses the standard library only, so the runner and ``python -m chainrule
bench --help`` can list workloads and libraries without importing NumPy or a peer.

A workload is one computation, the same math in every library. ``configs(quick)``
gives its sizes (several for W7, tiny ones under ``--quick``); ``builder`` names the
function that each library module in ``libraries/`` defines for it. A variant (W1-raw,
W5-dense) has the sizes and data of its base workload (W1, W5) and its own builder: the
same step written the other way users write it. Timed workloads
report ``metric`` (seconds per call, or per op for W2); the memory workload reports
the resident-set growth during one forward + backward and the peak.

Targets are chainrule's goals as ratios to the hand-written NumPy limit; the report
prints them next to the measured ratios, for information.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TIME, MEMORY = "time", "memory"


@dataclass(frozen=True)
class Workload:
    key: str
    short: str
    title: str
    builder: str
    dtype: str
    kind: str
    full: tuple[dict, ...]
    quick: tuple[dict, ...]
    metrics: tuple[str, ...] = ("time",)
    targets: dict[str, float] = field(default_factory=dict)
    tolerance: dict[str, float] | None = None  # overrides problems.TOLERANCES[dtype], with a reason

    def configs(self, quick: bool = False) -> tuple[dict, ...]:
        """The size configurations to run (each a dict; ``label`` names it in the table)."""
        return self.quick if quick else self.full


def _scaling(sizes: tuple[int, ...]) -> tuple[dict, ...]:
    return tuple({"label": f"n={n}", "sizes": (784, n, n, 10), "batch": n, "lr": 0.01} for n in sizes)


# W1 and W1-raw, W5 and W5-dense: the same sizes and data, written two ways.
_MLP_FULL = ({"label": "", "sizes": (784, 512, 512, 10), "batch": 128, "lr": 0.01},)
_MLP_QUICK = ({"label": "", "sizes": (20, 16, 16, 5), "batch": 8, "lr": 0.01},)
_WINDOW_TITLE = (
    "window-classifier SGD step: vocabulary 20,000, 50-d embeddings (trained), window 5, "
    "hidden 100 (tanh), 5 classes, batch 256"
)
_WINDOW_FULL = (
    {
        "label": "",
        "vocab": 20_000,
        "dim": 50,
        "window": 5,
        "hidden": 100,
        "classes": 5,
        "batch": 256,
        "lr": 0.01,
    },
)
_WINDOW_QUICK = (
    {
        "label": "",
        "vocab": 40,
        "dim": 4,
        "window": 5,
        "hidden": 6,
        "classes": 3,
        "batch": 8,
        "lr": 0.01,
    },
)

WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        Workload(
            "W1",
            "MLP training step",
            "MLP training step 784-512-512-10, ReLU, softmax cross-entropy, batch 128, SGD update "
            "(nn.Linear layers, the library's SGD optimizer)",
            "mlp_step",
            "float32",
            TIME,
            full=_MLP_FULL,
            quick=_MLP_QUICK,
            targets={"time": 0.95},
        ),
        Workload(
            "W1-raw",
            "MLP training step, raw ops",
            "W1's step as raw ops: x @ W + b with W stored (in, out), relu, cross-entropy on class "
            "indices, the SGD update p -= lr * p.grad written by hand",
            "mlp_step_raw",
            "float32",
            TIME,
            full=_MLP_FULL,
            quick=_MLP_QUICK,
            targets={"time": 1.0},
        ),
        Workload(
            "W2",
            "per-op overhead",
            "per-op overhead: 200-op elementwise chain on 16 floats, forward + backward, time per op",
            "op_chain",
            "float32",
            TIME,
            full=({"label": "", "ops": 200, "size": 16},),
            quick=({"label": "", "ops": 12, "size": 16},),
            metrics=("time per op",),
            targets={"time per op": 3.0},
        ),
        Workload(
            "W3",
            "Jacobian",
            "full Jacobian of tanh(Wx + b), x in R^256",
            "jacobian",
            "float64",
            TIME,
            full=({"label": "", "n": 256},),
            quick=({"label": "", "n": 6},),
            targets={"time": 8.0},
        ),
        Workload(
            "W4",
            "Hessian",
            "Hessian of logsumexp(Ax), A 128x100 (limit: Aᵀ(p ⊙ A) − (Aᵀp)(Aᵀp)ᵀ, p = softmax(Ax))",
            "hessian",
            "float64",
            TIME,
            full=({"label": "", "rows": 128, "cols": 100},),
            quick=({"label": "", "rows": 7, "cols": 5},),
            targets={"time": 2.5},
        ),
        Workload(
            "W5",
            "window classifier step",
            _WINDOW_TITLE + "; the embedding's gradient sparse where the library has one (sparse=True)",
            "window_step",
            "float32",
            TIME,
            full=_WINDOW_FULL,
            quick=_WINDOW_QUICK,
            targets={"time": 0.4},
        ),
        Workload(
            "W5-dense",
            "window classifier step, dense embedding",
            _WINDOW_TITLE + "; the embedding's gradient dense (no sparse=True), all of E updated",
            "window_step_dense",
            "float32",
            TIME,
            full=_WINDOW_FULL,
            quick=_WINDOW_QUICK,
            targets={"time": 0.5},
        ),
        Workload(
            "W6",
            "memory",
            "memory: RSS during one forward + backward of a 20-layer 1024-wide ReLU MLP, batch 256, "
            "loss ½·mean(out²)",
            "deep_mlp",
            "float32",
            MEMORY,
            full=({"label": "", "layers": 20, "width": 1024, "batch": 256},),
            quick=({"label": "", "layers": 3, "width": 16, "batch": 8},),
            metrics=("growth", "peak"),
            targets={"growth": 0.8, "peak": 1.1},
            # Through 20 float32 ReLU layers a different summation order (another BLAS) flips
            # a few ReLU kinks, so single elements differ by up to ~0.2% of the gradient's scale.
            tolerance={"rtol": 2e-3, "atol": 1e-2},
        ),
        Workload(
            "W7",
            "MLP step scaling",
            "scaling: W1's training step as batch size and width double together (784-n-n-10, batch n)",
            "mlp_step",
            "float32",
            TIME,
            full=_scaling((64, 128, 256, 512, 1024)),
            quick=_scaling((8, 16)),
        ),
    )
}


@dataclass(frozen=True)
class Library:
    """One column of the table: ``module`` (in ``libraries/``) called with ``options``.

    ``imports`` is the package whose presence decides whether it runs; ``skip`` names
    the workloads it cannot run, with the reason (shown as n/a).
    """

    name: str
    module: str
    imports: str
    options: dict = field(default_factory=dict)
    skip: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def reason_to_skip(self, workload: str) -> str | None:
        return self.skip.get(workload)


LIMIT = "numpy"

_NOT_TRANSFORMS = "torch.func is run for the Jacobian and Hessian only; eager torch covers the rest"
LIBRARIES: dict[str, Library] = {
    lib.name: lib
    for lib in (
        Library(LIMIT, "hand_numpy", "numpy", note="forward and backward written out by hand: the limit"),
        Library("chainrule", "chainrule_lib", "chainrule"),
        Library("torch", "torch_lib", "torch", note="eager; torch.autograd.functional for W3/W4"),
        Library(
            "torch.func",
            "torch_lib",
            "torch",
            options={"func": True},
            skip={key: _NOT_TRANSFORMS for key in ("W1", "W1-raw", "W2", "W5", "W5-dense", "W6", "W7")},
            note="jacrev; hessian = jacfwd(jacrev)",
        ),
        Library("jax", "jax_lib", "jax", options={"jit": False}, note="op by op, no jit"),
        Library("jax.jit", "jax_lib", "jax", options={"jit": True}, note="the whole step under jax.jit"),
        Library("autograd", "autograd_lib", "autograd", note="HIPS autograd"),
        Library(
            "mygrad",
            "mygrad_lib",
            "mygrad",
            skip={"W4": "mygrad has no second derivatives"},
            note="Jacobian row by row (no Jacobian function)",
        ),
    )
}

PEERS = ("torch", "jax", "autograd", "mygrad")
