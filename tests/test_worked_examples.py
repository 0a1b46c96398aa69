"""The worked examples of the lecture notes, each checked against its closed form.

The closed forms are evaluated here in NumPy, independently of ``chainrule.apps.demo``;
the last tests run the demo itself and read its output.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose

import chainrule as cr
from chainrule.apps import demo

RTOL, ATOL = 1e-12, 1e-12


def leaf(value) -> cr.Tensor:
    return cr.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)


def jacobian_by_rows(out: cr.Tensor, x: cr.Tensor) -> np.ndarray:
    """J[i, j] = ∂out_i/∂x_j: row i is the vector-Jacobian product e_iᵀJ, one backward each."""
    rows = []
    for i in range(out.size):
        e_i = np.zeros(out.size)
        e_i[i] = 1.0
        x.grad = None
        out.backward(gradient=e_i.reshape(out.shape), retain_graph=True)
        rows.append(np.zeros(x.shape) if x.grad is None else x.grad.numpy().copy())
    return np.stack(rows).reshape(out.shape + x.shape)


def softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - theta.max())
    return e / e.sum()


def test_gradient_of_5_dot_x_x_is_10x():
    x = leaf([0.0, 1.0, 2.0, 3.0])
    y = 5 * cr.dot(x, x)
    y.backward()
    assert_allclose(y.item(), 70.0, rtol=RTOL)
    assert_allclose(x.grad.numpy(), [0.0, 10.0, 20.0, 30.0], rtol=RTOL, atol=ATOL)


def test_gradient_of_5x0_squared_plus_x0_x1_at_1_2():
    x = leaf([1.0, 2.0])
    z = 5 * x[0] ** 2 + x[0] * x[1]
    z.backward()
    # ∂z/∂x₀ = 10x₀ + x₁ = 12 and ∂z/∂x₁ = x₀ = 1.
    assert_allclose(z.item(), 7.0, rtol=RTOL)
    assert_allclose(x.grad.numpy(), [12.0, 1.0], rtol=RTOL, atol=ATOL)


def test_gradient_of_x2y_plus_xy2z_at_2_1_0_is_4_4_2():
    x, y, z = leaf(2.0), leaf(1.0), leaf(0.0)
    u = x**2 * y + x * y**2 * z
    u.backward()
    assert_allclose(u.item(), 4.0, rtol=RTOL)
    assert_allclose([x.grad.item(), y.grad.item(), z.grad.item()], [4.0, 4.0, 2.0], rtol=RTOL, atol=ATOL)


def test_slope_of_cube_is_3_at_1_and_48_at_4():
    x = leaf([1.0, 4.0])
    (x**3).backward(gradient=np.ones(2))
    assert_allclose(x.grad.numpy(), [3.0, 48.0], rtol=RTOL)


def test_jacobian_of_3x2y_and_2x_plus_y8_is_6xy_3x2_2_8y7():
    v = leaf([1.0, 2.0])
    f = cr.stack([3 * v[0] ** 2 * v[1], 2 * v[0] + v[1] ** 8])
    x, y = 1.0, 2.0
    assert_allclose(f.numpy(), [3 * x**2 * y, 2 * x + y**8], rtol=RTOL)
    assert_allclose(jacobian_by_rows(f, v), [[6 * x * y, 3 * x**2], [2.0, 8 * y**7]], rtol=RTOL)
    assert_allclose(jacobian_by_rows(f, v), [[12.0, 3.0], [2.0, 1024.0]], rtol=RTOL)


@pytest.mark.parametrize("x0", [0.5, 2.0, -1.5])
def test_derivative_of_log_square_and_sine_is_2_over_x_and_3cos3x(x0):
    x = leaf(x0)
    y = cr.stack([cr.log(x**2), cr.sin(3 * x)])
    assert_allclose(y.numpy(), [np.log(x0**2), np.sin(3 * x0)], rtol=RTOL)
    assert_allclose(jacobian_by_rows(y, x), [2 / x0, 3 * np.cos(3 * x0)], rtol=RTOL, atol=ATOL)


def test_branch_sums_and_max_routes_gradient_at_1_2_0():
    x, y, z = leaf(1.0), leaf(2.0), leaf(0.0)
    f = (x + y) * cr.maximum(y, z)
    f.backward()
    assert_allclose(f.item(), 6.0, rtol=RTOL)
    assert_allclose([x.grad.item(), y.grad.item(), z.grad.item()], [2.0, 5.0, 0.0], rtol=RTOL, atol=ATOL)


def test_linear_layer_gradients_are_dY_Wt_xt_dY_and_column_sums():
    rng = np.random.default_rng(10)
    x0, W0, b0, dY = (rng.normal(size=s) for s in ((5, 3), (3, 2), (2,), (5, 2)))
    x, W, b = leaf(x0), leaf(W0), leaf(b0)
    L = cr.sum((x @ W + b) * dY)
    L.backward()
    assert_allclose(L.item(), np.sum((x0 @ W0 + b0) * dY), rtol=RTOL)
    assert_allclose(x.grad.numpy(), dY @ W0.T, rtol=RTOL, atol=ATOL)
    assert_allclose(W.grad.numpy(), x0.T @ dY, rtol=RTOL, atol=ATOL)
    assert_allclose(b.grad.numpy(), dY.sum(axis=0), rtol=RTOL, atol=ATOL)


def test_softmax_then_cross_entropy_has_gradient_prediction_minus_target():
    z0 = np.array([0.3, -1.2, 2.5, 0.0, 1.1])
    y0 = np.array([0.0, 0.0, 0.0, 1.0, 0.0])
    z = leaf(z0)
    y_hat = cr.exp(z - cr.logsumexp(z))
    J = -cr.sum(y0 * cr.log(y_hat))
    J.backward()
    p = np.exp(z0) / np.exp(z0).sum()
    assert_allclose(y_hat.numpy(), p, rtol=RTOL)
    assert_allclose(J.item(), -np.log(p[3]), rtol=RTOL)
    assert_allclose(z.grad.numpy(), p - y0, rtol=RTOL, atol=ATOL)


def test_one_hidden_layer_network_backprop_matches_the_deltas():
    rng = np.random.default_rng(12)
    x0, W0, b10 = rng.normal(size=4), rng.normal(size=(5, 4)), rng.normal(size=5)
    U0, b20 = rng.normal(size=(3, 5)), rng.normal(size=3)
    y0 = np.array([0.0, 1.0, 0.0])
    x, W, b1, U, b2 = (leaf(a) for a in (x0, W0, b10, U0, b20))
    z = W @ x + b1
    theta = U @ cr.relu(z) + b2
    J = -cr.sum(y0 * cr.log(cr.exp(theta - cr.logsumexp(theta))))
    dtheta, dz, dU, db2, dW, db1, dx = cr.autograd.grad(J, [theta, z, U, b2, W, b1, x])

    z_ = W0 @ x0 + b10
    assert (z_ > 0).any() and (z_ < 0).any(), "the ReLU should be active for some units only"
    h_ = np.maximum(z_, 0)
    p = softmax(U0 @ h_ + b20)
    delta1 = p - y0
    dJ_dz = (U0.T @ delta1) * (z_ > 0)
    assert_allclose(J.item(), -np.log(p[1]), rtol=RTOL)
    for got, want in [
        (dtheta, delta1),
        (dU, np.outer(delta1, h_)),
        (db2, delta1),
        (dz, dJ_dz),
        (dW, np.outer(dJ_dz, x0)),
        (db1, dJ_dz),
        (dx, W0.T @ dJ_dz),
    ]:
        assert_allclose(got.numpy(), want, rtol=RTOL, atol=ATOL)


def test_window_classifier_score_gradients():
    rng = np.random.default_rng(17)
    x0, W0, b0, u0 = rng.normal(size=6), rng.normal(size=(4, 6)), rng.normal(size=4), rng.normal(size=4)
    x, W, b, u = (leaf(a) for a in (x0, W0, b0, u0))
    s = cr.dot(u, cr.sigmoid(W @ x + b))
    s.backward()
    f = 1 / (1 + np.exp(-(W0 @ x0 + b0)))
    delta = u0 * f * (1 - f)
    assert_allclose(s.item(), u0 @ f, rtol=RTOL)
    assert_allclose(b.grad.numpy(), delta, rtol=RTOL, atol=ATOL)
    assert_allclose(W.grad.numpy(), np.outer(delta, x0), rtol=RTOL, atol=ATOL)
    assert_allclose(x.grad.numpy(), W0.T @ delta, rtol=RTOL, atol=ATOL)
    assert_allclose(u.grad.numpy(), f, rtol=RTOL, atol=ATOL)


def test_relu_neuron_squared_loss_gradient_sums_over_active_inputs():
    rng = np.random.default_rng(13)
    X0, y0 = rng.normal(size=(8, 3)), rng.normal(size=8)
    w0, b0 = rng.normal(size=3), 0.2
    w, b = leaf(w0), leaf(b0)
    C = cr.mean((cr.relu(X0 @ w + b) - y0) ** 2)
    C.backward()
    z_ = X0 @ w0 + b0
    active = z_ > 0
    assert active.any() and not active.all(), "some inputs should be inactive"
    e = np.maximum(z_, 0) - y0
    n = len(y0)
    assert_allclose(C.item(), np.mean(e**2), rtol=RTOL)
    assert_allclose(w.grad.numpy(), 2 / n * (e[active] @ X0[active]), rtol=RTOL, atol=ATOL)
    assert_allclose(b.grad.item(), 2 / n * e[active].sum(), rtol=RTOL, atol=ATOL)


def test_elementwise_division_has_diagonal_jacobian_minus_w_over_x_squared():
    w0, x0 = np.array([1.0, -2.0, 3.0, 0.5]), np.array([0.5, 1.0, 2.0, -4.0])
    w, x = leaf(w0), leaf(x0)
    q = w / x
    assert_allclose(jacobian_by_rows(q, x), np.diag(-w0 / x0**2), rtol=RTOL, atol=ATOL)
    assert_allclose(jacobian_by_rows(q, w), np.diag(1 / x0), rtol=RTOL, atol=ATOL)


def test_sum_has_jacobian_row_of_ones_and_identity_has_jacobian_eye():
    x = leaf([1.0, -2.0, 3.0, 0.5, 7.0])
    assert_allclose(jacobian_by_rows(cr.sum(x), x), np.ones(5), rtol=RTOL)
    assert_allclose(jacobian_by_rows(x, x), np.eye(5), rtol=RTOL)
    (g,) = cr.autograd.grad(x, x, grad_outputs=np.arange(5.0))
    assert_allclose(g.numpy(), np.arange(5.0), rtol=RTOL)


def test_chain_rule_through_linear_map_then_tanh_is_diag_fprime_times_W():
    rng = np.random.default_rng(14)
    W0, x0 = rng.normal(size=(3, 5)), rng.normal(size=5)
    x = leaf(x0)
    h = cr.tanh(W0 @ x)
    z_ = W0 @ x0
    assert_allclose(h.numpy(), np.tanh(z_), rtol=RTOL)
    assert_allclose(jacobian_by_rows(h, x), np.diag(1 - np.tanh(z_) ** 2) @ W0, rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------ the demo itself
def check_rows(text: str) -> list[str]:
    """The rows of the demo that compare chainrule with a closed form (they start with a mark)."""
    return [line for line in text.splitlines() if line.startswith("    ") and line.strip()[:1] in "✓✗"]


def test_demo_main_prints_every_row_agreeing_and_exits_0(capsys):
    status = demo.main()
    out = capsys.readouterr().out
    rows = check_rows(out)
    assert status == 0
    assert "✗" not in out
    assert rows and all(row.strip().startswith("✓") for row in rows)
    summary = re.search(r"all (\d+) rows agree", out)
    assert summary is not None and int(summary.group(1)) == len(rows)
    assert len(re.findall(r"^\[\d+\] ", out, flags=re.M)) == len(demo.EXAMPLES) == 17


def test_demo_marks_a_disagreeing_row_and_exits_1(capsys, monkeypatch):
    def wrong() -> demo.Example:
        x = leaf([1.0, 2.0])
        (x**2).backward(gradient=np.ones(2))
        return demo.Example(
            "a wrong closed form",
            "y = x²",
            {"x": x.numpy()},
            [
                demo.Check("dy/dx", x.grad, "2x", [2.0, 4.0]),
                demo.Check("dy/dx", x.grad, "x (wrong)", [1.0, 2.0]),
            ],
        )

    monkeypatch.setattr(demo, "EXAMPLES", [wrong])
    status = demo.main()
    rows = check_rows(capsys.readouterr().out)
    assert status == 1
    assert [row.strip()[0] for row in rows] == ["✓", "✗"]


def test_demo_jacobian_helper_matches_rows_of_vector_jacobian_products():
    rng = np.random.default_rng(15)
    A0, x0 = rng.normal(size=(2, 3, 4)), rng.normal(size=4)
    x = leaf(x0)
    (J,) = demo.jacobian(cr.sin(A0 @ x), [x])
    want = np.cos(A0 @ x0)[..., None] * A0  # ∂ sin(Ax)_ij / ∂x_k = cos((Ax)_ij) A_ijk
    assert J.shape == (2, 3, 4)
    assert_allclose(J, want, rtol=RTOL, atol=ATOL)
