"""The worked examples of backpropagation, each next to its closed form.

Every example builds an expression from chainrule ops in float64, lets chainrule
compute its value and its gradient (or Jacobian) by the reverse pass, and evaluates
the closed form from the lecture notes in plain NumPy at the same point. A row is
marked ✓ when the two agree to float64's tolerance, ✗ otherwise::

    python -m chainrule demo        # exit status 0 when every row agrees, 1 otherwise
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import chainrule as cr
from chainrule.tables import text_table

DTYPE = np.float64
# Agreement means |chainrule - closed form| <= TOL + TOL·|closed form|, TOL = 1000 ulp.
TOL = 1000 * np.finfo(DTYPE).eps
DIGITS = 4
OK, BAD = "✓", "✗"


@dataclass
class Check:
    """One quantity: chainrule's number, the notes' formula and that formula evaluated."""

    label: str
    computed: Any  # array-like (a Tensor, a gradient, numbers); an ndarray after __post_init__
    formula: str
    closed_form: Any  # likewise

    def __post_init__(self) -> None:
        self.computed = np.asarray(self.computed, dtype=DTYPE)
        self.closed_form = np.asarray(self.closed_form, dtype=DTYPE)

    @property
    def agrees(self) -> bool:
        return self.computed.shape == self.closed_form.shape and bool(
            np.allclose(self.computed, self.closed_form, rtol=TOL, atol=TOL)
        )


@dataclass
class Example:
    """A worked example: what is computed, at which inputs, and the rows to compare."""

    title: str
    expression: str
    inputs: dict
    checks: list


EXAMPLES: list[Callable[[], Example]] = []


def example(fn: Callable[[], Example]) -> Callable[[], Example]:
    """Register a worked example (they are shown in the order they are defined)."""
    EXAMPLES.append(fn)
    return fn


def leaf(value) -> cr.Tensor:
    """A float64 leaf tensor that requires grad."""
    return cr.tensor(np.asarray(value, dtype=DTYPE), requires_grad=True)


def jacobian(out: cr.Tensor, inputs: Sequence[cr.Tensor]) -> list[np.ndarray]:
    """∂out/∂x for each x in ``inputs``, shaped ``out.shape + x.shape``, one row at a time.

    Seeding the reverse pass with the one-hot cotangent e_k gives e_kᵀJ, the k-th row of
    J (a vector-Jacobian product), so ``out.size`` passes over the retained graph give J.

    >>> x = leaf([1.0, 2.0])
    >>> jacobian(x * x, [x])[0].tolist()          # diag(2x)
    [[2.0, 0.0], [0.0, 4.0]]
    """
    rows: list[list[np.ndarray]] = [[] for _ in inputs]
    for k in range(out.size):
        e_k = np.zeros(out.size, dtype=out.dtype)
        e_k[k] = 1.0
        grads = cr.autograd.grad(
            out, inputs, grad_outputs=e_k.reshape(out.shape), retain_graph=True, allow_unused=True
        )
        for row, g, x in zip(rows, grads, inputs):
            row.append(np.zeros(x.shape, dtype=DTYPE) if g is None else g.numpy())
    return [np.stack(row).reshape(out.shape + x.shape) for row, x in zip(rows, inputs)]


def softmax_np(theta: np.ndarray) -> np.ndarray:
    """softmax(θ)_i = exp(θ_i) / Σ_j exp(θ_j), in NumPy (shifted by max θ, which cancels)."""
    e = np.exp(theta - theta.max())
    return e / e.sum()


def sigmoid_np(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + exp(−z)), in NumPy."""
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------ the worked examples
@example
def dot_square() -> Example:
    x0 = np.array([0.0, 1.0, 2.0, 3.0])
    x = leaf(x0)
    y = 5 * cr.dot(x, x)
    y.backward()
    return Example(
        "the gradient of a dot product with itself",
        "y = 5·dot(x, x)",
        {"x": x0},
        [
            Check("y", y, "5·Σx²", 5 * x0 @ x0),
            Check("dy/dx", x.grad, "10x", 10 * x0),
        ],
    )


@example
def two_variable_gradient() -> Example:
    x0 = np.array([1.0, 2.0])
    x = leaf(x0)
    z = 5 * x[0] ** 2 + x[0] * x[1]
    z.backward()
    a, b = x0
    return Example(
        "a gradient in two variables",
        "z = 5x₀² + x₀x₁",
        {"x": x0},
        [
            Check("z", z, "5x₀² + x₀x₁", 5 * a**2 + a * b),
            Check("∇z", x.grad, "(10x₀ + x₁, x₀)", [10 * a + b, a]),
        ],
    )


@example
def three_variable_gradient() -> Example:
    p = {"x": 2.0, "y": 1.0, "z": 0.0}
    x, y, z = (leaf(v) for v in p.values())
    u = x**2 * y + x * y**2 * z
    u.backward()
    a, b, c = p.values()
    return Example(
        "a gradient in three variables",
        "u = x²y + xy²z",
        p,
        [
            Check("u", u, "x²y + xy²z", a**2 * b + a * b**2 * c),
            Check(
                "∇u",
                [x.grad, y.grad, z.grad],
                "(2xy + y²z, x² + 2xyz, xy²)",
                [2 * a * b + b**2 * c, a**2 + 2 * a * b * c, a * b**2],
            ),
        ],
    )


@example
def cube_slopes() -> Example:
    x0 = np.array([1.0, 4.0])
    x = leaf(x0)
    f = x**3
    f.backward(gradient=np.ones_like(x0))  # elementwise, so 1ᵀ·diag(3x²) is the slopes
    return Example(
        "the slope of x³ at two points",
        "f(x) = x³",
        {"x": x0},
        [
            Check("f", f, "x³", x0**3),
            Check("df/dx", x.grad, "3x²", 3 * x0**2),
        ],
    )


@example
def vector_function_jacobian() -> Example:
    v0 = np.array([1.0, 2.0])
    v = leaf(v0)
    x, y = v[0], v[1]
    f = cr.stack([3 * x**2 * y, 2 * x + y**8])
    (J,) = jacobian(f, [v])
    a, b = v0
    return Example(
        "the Jacobian of a vector function",
        "f(x, y) = [3x²y, 2x + y⁸]",
        {"(x, y)": v0},
        [
            Check("f", f, "[3x²y, 2x + y⁸]", [3 * a**2 * b, 2 * a + b**8]),
            Check("∂f/∂(x, y)", J, "[[6xy, 3x²], [2, 8y⁷]]", [[6 * a * b, 3 * a**2], [2, 8 * b**7]]),
        ],
    )


@example
def log_sin_derivative() -> Example:
    x0 = 0.5
    x = leaf(x0)
    y = cr.stack([cr.log(x**2), cr.sin(3 * x)])
    (J,) = jacobian(y, [x])
    return Example(
        "a vector of functions of one variable",
        "y = [ln(x²), sin(3x)]",
        {"x": x0},
        [
            Check("y", y, "[ln(x²), sin(3x)]", [np.log(x0**2), np.sin(3 * x0)]),
            Check("dy/dx", J, "[2/x, 3cos(3x)]", [2 / x0, 3 * np.cos(3 * x0)]),
        ],
    )


@example
def branch_and_max() -> Example:
    p = {"x": 1.0, "y": 2.0, "z": 0.0}
    x, y, z = (leaf(v) for v in p.values())
    f = (x + y) * cr.maximum(y, z)
    f.backward()
    a, b, c = p.values()
    # y feeds both factors, so its gradient is the sum of both paths; max routes to y only.
    return Example(
        "a branch (gradients add) and max (gradient routed)",
        "f = (x + y)·max(y, z)",
        p,
        [
            Check("f", f, "(x + y)·max(y, z)", (a + b) * max(b, c)),
            Check(
                "∇f",
                [x.grad, y.grad, z.grad],
                "(max, max + (x + y), 0)",
                [max(b, c), max(b, c) + (a + b), 0.0],
            ),
        ],
    )


@example
def linear_layer() -> Example:
    rng = np.random.default_rng(0)
    x0, W0, b0 = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    dY = rng.normal(size=(2, 4))
    x, W, b = leaf(x0), leaf(W0), leaf(b0)
    Y = x @ W + b
    L = cr.sum(Y * dY)  # so that dL/dY = dY
    L.backward()
    return Example(
        "a linear layer",
        "Y = xW + b,  L = Σ Y ⊙ dY",
        {"x": x0, "W": W0, "b": b0, "dY": dY},
        [
            Check("L", L, "Σ (xW + b) ⊙ dY", np.sum((x0 @ W0 + b0) * dY)),
            Check("dL/dx", x.grad, "dY·Wᵀ", dY @ W0.T),
            Check("dL/dW", W.grad, "xᵀ·dY", x0.T @ dY),
            Check("dL/db", b.grad, "column sums of dY", dY.sum(axis=0)),
        ],
    )


@example
def softmax_cross_entropy() -> Example:
    z0, y0 = np.array([1.0, 2.0, 0.5, -1.0]), np.array([0.0, 1.0, 0.0, 0.0])
    z = leaf(z0)
    y_hat = cr.exp(z - cr.logsumexp(z))
    J = -cr.sum(y0 * cr.log(y_hat))
    J.backward()
    p = softmax_np(z0)
    return Example(
        "softmax, then cross-entropy",
        "ŷ = softmax(z),  J = −Σ y log ŷ",
        {"z": z0, "y": y0},
        [
            Check("ŷ", y_hat, "exp(z) / Σ exp(z)", p),
            Check("J", J, "−log ŷ[class]", -np.log(p[1])),
            Check("dJ/dz", z.grad, "ŷ − y", p - y0),
        ],
    )


@example
def one_hidden_layer_net() -> Example:
    rng = np.random.default_rng(3)
    x0, W0, b10 = rng.normal(size=3), rng.normal(size=(4, 3)), rng.normal(size=4)
    U0, b20, y0 = rng.normal(size=(3, 4)), rng.normal(size=3), np.array([0.0, 0.0, 1.0])
    x, W, b1, U, b2 = (leaf(a) for a in (x0, W0, b10, U0, b20))
    z = W @ x + b1
    h = cr.relu(z)
    theta = U @ h + b2
    y_hat = cr.exp(theta - cr.logsumexp(theta))
    J = -cr.sum(y0 * cr.log(y_hat))
    dtheta, dU, db2, dz, dW, db1, dx = cr.autograd.grad(J, [theta, U, b2, z, W, b1, x])
    z_ = W0 @ x0 + b10
    h_ = np.maximum(z_, 0)
    p = softmax_np(U0 @ h_ + b20)
    delta1 = p - y0
    delta2 = (U0.T @ delta1) * (z_ > 0)
    return Example(
        "a network with one hidden layer",
        "z = Wx + b₁, h = ReLU(z), θ = Uh + b₂, ŷ = softmax(θ), J = CE(y, ŷ)\n"
        "δ₁ = ŷ − y,  δ₂ = (Uᵀδ₁) ⊙ 1[z > 0]",
        {"x": x0, "W": W0, "b₁": b10, "U": U0, "b₂": b20, "y": y0},
        [
            Check("J", J, "−Σ y log ŷ", -np.sum(y0 * np.log(p))),
            Check("dJ/dθ", dtheta, "δ₁", delta1),
            Check("dJ/dU", dU, "δ₁hᵀ", np.outer(delta1, h_)),
            Check("dJ/db₂", db2, "δ₁", delta1),
            Check("dJ/dz", dz, "δ₂", delta2),
            Check("dJ/dW", dW, "δ₂xᵀ", np.outer(delta2, x0)),
            Check("dJ/db₁", db1, "δ₂", delta2),
            Check("dJ/dx", dx, "Wᵀδ₂", W0.T @ delta2),
        ],
    )


@example
def window_classifier() -> Example:
    rng = np.random.default_rng(1)
    # x is a window of word vectors laid end to end (here 2 words of 2 dimensions).
    x0, W0, b0, u0 = rng.normal(size=4), rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=3)
    x, W, b, u = (leaf(a) for a in (x0, W0, b0, u0))
    s = cr.dot(u, cr.sigmoid(W @ x + b))
    s.backward()
    f = sigmoid_np(W0 @ x0 + b0)
    delta = u0 * f * (1 - f)  # f'(z) = f(z)(1 − f(z)) for the sigmoid
    return Example(
        "a window classifier's score",
        "s = uᵀf(z),  z = Wx + b,  f = sigmoid\nδ = u ⊙ f'(z)",
        {"x": x0, "W": W0, "b": b0, "u": u0},
        [
            Check("s", s, "uᵀf(z)", u0 @ f),
            Check("ds/du", u.grad, "f(z)", f),
            Check("ds/db", b.grad, "δ", delta),
            Check("ds/dW", W.grad, "δxᵀ", np.outer(delta, x0)),
            Check("ds/dx", x.grad, "Wᵀδ", W0.T @ delta),
        ],
    )


@example
def relu_neuron() -> Example:
    X0 = np.array([[1.0, 2.0], [-1.0, 0.5], [2.0, -1.0], [-2.0, -1.0], [0.5, 0.5], [3.0, 1.0]])
    y0 = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 1.0])
    w0, b0 = np.array([0.5, -0.25]), 0.1
    w, b = leaf(w0), leaf(b0)
    y_hat = cr.relu(X0 @ w + b)
    C = cr.mean((y_hat - y0) ** 2)
    C.backward()
    z_ = X0 @ w0 + b0
    active = z_ > 0
    e = np.maximum(z_, 0) - y0
    n = len(y0)
    return Example(
        "a ReLU neuron with squared loss",
        "ŷᵢ = relu(w·xᵢ + b),  C = (1/N) Σ (ŷᵢ − yᵢ)²",
        {"x (rows)": X0, "y": y0, "w": w0, "b": b0},
        [
            Check("C", C, "(1/N) Σ eᵢ²", np.mean(e**2)),
            Check("dC/dw", w.grad, "(2/N) Σ_active eᵢxᵢ", 2 / n * (e[active] @ X0[active])),
            Check("dC/db", b.grad, "(2/N) Σ_active eᵢ", 2 / n * e[active].sum()),
        ],
    )


@example
def elementwise_division() -> Example:
    w0, x0 = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, 2.0])
    w, x = leaf(w0), leaf(x0)
    q = w / x
    Jw, Jx = jacobian(q, [w, x])
    return Example(
        "an elementwise binary op has diagonal Jacobians",
        "q = w ⊘ x",
        {"w": w0, "x": x0},
        [
            Check("q", q, "w ⊘ x", w0 / x0),
            Check("∂q/∂x", Jx, "diag(−w/x²)", np.diag(-w0 / x0**2)),
            Check("∂q/∂w", Jw, "diag(1/x)", np.diag(1 / x0)),
        ],
    )


@example
def sum_and_identity() -> Example:
    x0 = np.array([1.0, -2.0, 3.0, 0.5])
    x = leaf(x0)
    s = cr.sum(x)
    (J_sum,) = jacobian(s, [x])
    (J_identity,) = jacobian(x, [x])
    return Example(
        "sum and the identity",
        "s = Σ x,  y = x",
        {"x": x0},
        [
            Check("s", s, "Σ x", x0.sum()),
            Check("ds/dx", J_sum, "1ᵀ", np.ones(4)),
            Check("dy/dx", J_identity, "I", np.eye(4)),
        ],
    )


@example
def chain_rule_through_linear_map() -> Example:
    rng = np.random.default_rng(2)
    W0, x0 = rng.normal(size=(3, 4)), rng.normal(size=4)
    x = leaf(x0)
    h = cr.tanh(W0 @ x)
    (J,) = jacobian(h, [x])
    z_ = W0 @ x0
    return Example(
        "the chain rule through z = Wx, then f = tanh elementwise",
        "h = tanh(Wx)",
        {"W": W0, "x": x0},
        [
            Check("h", h, "tanh(Wx)", np.tanh(z_)),
            Check("dh/dx", J, "diag(f'(z))·W", np.diag(1 - np.tanh(z_) ** 2) @ W0),
        ],
    )


@example
def jacobians_in_one_pass() -> Example:
    rng = np.random.default_rng(3)
    W0, x0, z0 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=4)
    v0 = np.array([1.0, 2.0])
    a, b = v0
    p = softmax_np(z0)
    checks = []
    for mode in ("rev", "fwd"):
        checks += [
            Check(
                f"∂f/∂(x, y) [{mode}]",
                cr.jacobian(lambda v: cr.stack([3 * v[0] ** 2 * v[1], 2 * v[0] + v[1] ** 8]), mode=mode)(v0),
                "[[6xy, 3x²], [2, 8y⁷]]",
                [[6 * a * b, 3 * a**2], [2, 8 * b**7]],
            ),
            Check(
                f"∂(xW)/∂x [{mode}]",
                cr.jacobian(lambda x: x @ W0, mode=mode)(x0),
                "z = xW has Jacobian Wᵀ",
                W0.T,
            ),
            Check(
                f"∂ŷ/∂z [{mode}]",
                cr.jacobian(lambda z: cr.exp(z - cr.logsumexp(z)), mode=mode)(z0),
                "diag(ŷ) − ŷŷᵀ",
                np.diag(p) - np.outer(p, p),
            ),
        ]
    return Example(
        "Jacobians in one batched pass: cr.jacobian, reverse and forward mode",
        "rev pushes all rows of I back at once; fwd pushes all columns forward",
        {"(x, y)": v0, "W": W0, "x": x0, "z": z0},
        checks,
    )


@example
def higher_derivatives() -> Example:
    A0 = np.array([[2.0, 1.0], [0.0, 3.0]])
    x0 = np.array([0.5, -1.0])
    t = 0.5
    return Example(
        "higher derivatives by composing transforms",
        "hessian = jacobian(grad) in forward mode; grad(grad(grad(sin)))",
        {"A": A0, "x": x0, "t": t},
        [
            Check("∇²(xᵀAx)", cr.hessian(lambda x: x @ (A0 @ x))(x0), "A + Aᵀ", A0 + A0.T),
            Check("d³sin/dt³", cr.grad(cr.grad(cr.grad(cr.sin)))(np.float64(t)), "−cos t", -np.cos(t)),
            Check("d²(x³)/dx² at 3", cr.grad(cr.grad(lambda x: x**3))(np.float64(3.0)), "6x", 18.0),
        ],
    )


# ------------------------------------------------------------------ printing
def array_text(a: np.ndarray) -> str:
    """``a`` rounded to DIGITS decimals: one line, or one per row of a matrix."""
    a = np.round(np.asarray(a, dtype=DTYPE), DIGITS) + 0.0  # + 0.0 turns -0 into 0
    if a.ndim == 0:
        return np.format_float_positional(a.item(), precision=DIGITS, trim="-")
    return np.array2string(
        a,
        precision=DIGITS,
        floatmode="maxprec_equal",
        suppress_small=True,
        separator=", ",
        max_line_width=10**4,
    )


def render(number: int, ex: Example) -> list[str]:
    """The lines printed for one example: title, expression, inputs, then one row per check,
    its mark before the quantity (under the header's indent), an array on a line per row."""
    inputs = text_table(None, [(name, "=", array_text(value)) for name, value in ex.inputs.items()], gap=1)
    rows = [
        (f"{OK if c.agrees else BAD} {c.label}", c.formula, array_text(c.computed), array_text(c.closed_form))
        for c in ex.checks
    ]
    checks = text_table(["  quantity", "notes' formula", "chainrule", "formula evaluated"], rows, rule=False)
    return (
        [f"[{number}] {ex.title}"]
        + [f"    {line}" for line in ex.expression.splitlines()]
        + [f"      {line}" for line in inputs.splitlines()]
        + [f"    {line}" for line in checks.splitlines()]
    )


def main() -> int:
    """Print every worked example; return 0 when all rows agree, 1 otherwise."""
    out = sys.stdout
    print("chainrule: worked examples of backpropagation, computed in float64.", file=out)
    print(
        f"{OK} marks a row where chainrule agrees with the closed form from the notes to "
        f"|Δ| <= {TOL:.1e}·(1 + |closed form|).",
        file=out,
    )
    total = failed = 0
    for number, make in enumerate(EXAMPLES, start=1):
        ex = make()
        print(file=out)
        print("\n".join(render(number, ex)), file=out)
        total += len(ex.checks)
        failed += sum(not c.agrees for c in ex.checks)
    print(file=out)
    if failed:
        print(f"{BAD} {failed} of {total} rows disagree with the closed form.", file=out)
    else:
        print(f"{OK} all {total} rows agree with the closed forms.", file=out)
    print(file=out)
    print(explained_example(), file=out)
    return 1 if failed else 0


def explained_example() -> str:
    """The notes' f = (x + y)·max(y, z) at (1, 2, 0), its reverse pass step by step."""
    x, y, z = (leaf(v) for v in (1.0, 2.0, 0.0))
    with cr.capture_sites():
        f = (x + y) * cr.maximum(y, z)
    trace = cr.explain(f, names={x: "x", y: "y", z: "z", f: "f"})
    return (
        "Backpropagation step by step (cr.explain) for f = (x + y)·max(y, z) at (1, 2, 0): "
        "add distributes, max routes,\nmultiply switches, and the two paths into y are summed.\n" + str(trace)
    )


if __name__ == "__main__":
    raise SystemExit(main())
