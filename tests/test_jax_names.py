"""JAX's and autograd's names: jacfwd jacrev elementwise_grad linearize stop_gradient
custom_vjp custom_jvp check_grads. Custom rules deliberately differ from autodiff (a
clipped or scaled gradient) so that each test proves the rule is the one used."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import chainrule as cr

EXACT = {"rtol": 1e-12, "atol": 1e-12}


def values(t):
    return np.asarray(t.data if isinstance(t, cr.Tensor) else t)


def f64(a):
    return cr.tensor(np.asarray(a, dtype=np.float64))


X = f64([0.3, 1.2, -0.7])


# ------------------------------------------------------------------ thin wrappers
@pytest.mark.parametrize("name", ["jacfwd", "jacrev"])
def test_jacfwd_and_jacrev_give_the_jacobian_diag_cos_x(name):
    J = getattr(cr, name)(cr.sin)(X)
    np.testing.assert_allclose(values(J), np.diag(np.cos(X.data)), **EXACT)


def test_jacfwd_of_jacrev_is_the_hessian():
    f = lambda x: cr.sum(x**3)  # noqa: E731
    np.testing.assert_allclose(values(cr.jacfwd(cr.jacrev(f))(X)), np.diag(6 * X.data), **EXACT)
    np.testing.assert_allclose(values(cr.jacfwd(cr.jacrev(f))(X)), values(cr.hessian(f)(X)), **EXACT)


def test_jacfwd_counts_one_jvp_per_argument_leaf_and_jacrev_takes_argnums():
    J = cr.jacrev(lambda x, y: x * y, argnums=1)(X, f64([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(values(J), np.diag(X.data), **EXACT)


def test_elementwise_grad_is_the_derivative_of_each_element():
    np.testing.assert_allclose(values(cr.elementwise_grad(cr.tanh)(X)), 1 - np.tanh(X.data) ** 2, **EXACT)


def test_elementwise_grad_is_the_gradient_of_the_sum_of_outputs():
    """f(x) = W x: Σ_i (W x)_i has gradient Wᵀ 1 (autograd's definition)."""
    W = f64([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    np.testing.assert_allclose(values(cr.elementwise_grad(lambda x: W @ x)(X)), W.data.sum(axis=0), **EXACT)


def test_elementwise_grad_with_argnum_differentiates_that_argument_only():
    g = cr.elementwise_grad(lambda a, b: a * b**2, 1)(f64([1.0, 2.0]), f64([3.0, 4.0]))
    np.testing.assert_allclose(values(g), [6.0, 16.0], **EXACT)


def test_linearize_gives_the_value_and_the_jvp_at_the_linearization_point():
    out, jvp_fn = cr.linearize(lambda x: cr.exp(x) * x, X)
    np.testing.assert_allclose(values(out), np.exp(X.data) * X.data, **EXACT)
    for v in (np.ones(3), np.array([1.0, -2.0, 0.5])):
        np.testing.assert_allclose(values(jvp_fn(v)), np.exp(X.data) * (1 + X.data) * v, **EXACT)


def test_linearize_with_pytree_primals_and_a_wrong_tangent_count():
    out, jvp_fn = cr.linearize(lambda p, c: p["a"] * c, {"a": f64(2.0)}, f64(3.0))
    assert float(out) == 6.0
    assert float(jvp_fn({"a": f64(1.0)}, f64(0.0))) == 3.0
    with pytest.raises(TypeError, match="2 tangent"):
        jvp_fn({"a": f64(1.0)})


def test_stop_gradient_is_a_constant_to_reverse_and_forward_mode():
    f = lambda x: x * cr.stop_gradient(x)  # noqa: E731 — d/dx (x·c) = c
    assert float(cr.grad(f)(3.0)) == 3.0
    assert float(cr.jvp(f, (3.0,), (1.0,))[1]) == 3.0
    assert float(cr.grad(cr.grad(lambda x: cr.stop_gradient(x) * x**2))(2.0)) == 4.0


def test_stop_gradient_maps_over_a_pytree():
    x = cr.tensor(1.0, requires_grad=True)
    out = cr.stop_gradient({"a": x * 2, "b": [np.ones(1)]})
    assert not out["a"].requires_grad and float(out["a"]) == 2.0 and isinstance(out["b"][0], np.ndarray)


# ------------------------------------------------------------------ custom_vjp
@cr.custom_vjp
def clip_gradient(x):
    return x


def _clip_fwd(x):
    return x, None


def _clip_bwd(_, g):
    return (cr.clip(g, -1.0, 1.0),)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_rule_is_used_by_grad_clipping_the_gradient():
    assert float(clip_gradient(f64(2.0))) == 2.0
    assert float(cr.grad(lambda x: 5 * clip_gradient(x))(2.0)) == 1.0
    assert float(cr.grad(lambda x: 0.5 * clip_gradient(x))(2.0)) == 0.5


@cr.custom_vjp
def scaled_sin(x):
    """sin, whose custom derivative is 3·cos (not cos) to prove the rule is used."""
    return cr.sin(x)


def _scaled_fwd(x):
    return cr.sin(x), cr.cos(x)


def _scaled_bwd(cos_x, g):
    return (3 * cos_x * g,)


scaled_sin.defvjp(_scaled_fwd, _scaled_bwd)


def test_custom_vjp_under_jacobian_and_vjp_uses_the_rule():
    np.testing.assert_allclose(values(cr.jacobian(scaled_sin)(X)), np.diag(3 * np.cos(X.data)), **EXACT)
    np.testing.assert_allclose(values(cr.jacrev(scaled_sin)(X)), np.diag(3 * np.cos(X.data)), **EXACT)
    _, vjp_fn = cr.vjp(scaled_sin, X)
    np.testing.assert_allclose(values(vjp_fn(np.ones(3))[0]), 3 * np.cos(X.data), **EXACT)


def test_custom_vjp_second_order_differentiates_the_residuals():
    """d²/dx² of the rule 3cos(x): -3 sin(x), by reverse over reverse."""
    assert float(cr.grad(cr.grad(scaled_sin))(f64(0.4))) == pytest.approx(-3 * np.sin(0.4), rel=1e-12)
    H = cr.hessian(lambda x: cr.sum(scaled_sin(x)))(X)
    np.testing.assert_allclose(values(H), np.diag(-3 * np.sin(X.data)), **EXACT)


def test_custom_vjp_refuses_forward_mode_as_jax_does():
    with pytest.raises(RuntimeError, match="custom_vjp scaled_sin: forward mode"):
        cr.jvp(scaled_sin, (X,), (np.ones(3),))
    with pytest.raises(RuntimeError, match="forward mode"):
        cr.jacfwd(scaled_sin)(X)


def test_custom_vjp_with_pytree_arguments_and_outputs():
    @cr.custom_vjp
    def f(p):
        return {"y": p["a"] * p["b"]}

    f.defvjp(lambda p: (f(p), p), lambda p, g: ({"a": g["y"] * p["b"] * 10, "b": None},))
    g = cr.grad(lambda p: cr.sum(f(p)["y"]))({"a": f64([1.0, 2.0]), "b": f64([3.0, 4.0])})
    np.testing.assert_allclose(values(g["a"]), [30.0, 40.0], **EXACT)
    np.testing.assert_allclose(values(g["b"]), [0.0, 0.0], **EXACT)


def test_custom_vjp_with_nondiff_argnums_passes_them_first_to_bwd():
    @functools.partial(cr.custom_vjp, nondiff_argnums=(0,))
    def power(n, x):
        return x**n

    power.defvjp(lambda n, x: (x**n, x), lambda n, x, g: (n * x ** (n - 1) * g * 2,))
    assert float(cr.grad(power, argnums=1)(3, 2.0)) == 24.0  # twice 3x²


def test_custom_vjp_misuse_raises_clear_errors():
    @cr.custom_vjp
    def f(x):
        return x

    with pytest.raises(TypeError, match="defvjp"):
        f(f64(1.0))
    f.defvjp(lambda x: x, lambda r, g: (g,))
    with pytest.raises(TypeError, match=r"pair \(out, residuals\)"):
        cr.grad(f)(1.0)
    f.defvjp(lambda x: (x, None), lambda r, g: g)
    with pytest.raises(TypeError, match="tuple of 1 cotangent"):
        cr.grad(f)(1.0)


# ------------------------------------------------------------------ custom_jvp
@cr.custom_jvp
def double_slope_sin(x):
    """sin, whose custom derivative is 2·cos to prove the rule is used."""
    return cr.sin(x)


@double_slope_sin.defjvp
def _double_slope_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return cr.sin(x), 2 * cr.cos(x) * t


def test_custom_jvp_rule_is_used_by_jvp_and_by_grad_through_its_transpose():
    _, t = cr.jvp(double_slope_sin, (X,), (np.ones(3),))
    np.testing.assert_allclose(values(t), 2 * np.cos(X.data), **EXACT)
    g = cr.grad(lambda x: cr.sum(double_slope_sin(x)))(X)
    np.testing.assert_allclose(values(g), 2 * np.cos(X.data), **EXACT)
    assert float(double_slope_sin(f64(0.5))) == pytest.approx(np.sin(0.5))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_custom_jvp_under_jacobian_in_both_modes(mode):
    J = cr.jacobian(double_slope_sin, mode=mode)(X)
    np.testing.assert_allclose(values(J), np.diag(2 * np.cos(X.data)), **EXACT)


@pytest.mark.parametrize(
    "second",
    [
        lambda f: cr.hessian(lambda x: cr.sum(f(x))),
        lambda f: cr.jacfwd(cr.jacrev(lambda x: cr.sum(f(x)))),
        lambda f: cr.jacrev(cr.jacrev(lambda x: cr.sum(f(x)))),
        lambda f: cr.jacfwd(cr.jacfwd(lambda x: cr.sum(f(x)))),
    ],
    ids=["hessian", "fwd-over-rev", "rev-over-rev", "fwd-over-fwd"],
)
def test_custom_jvp_second_order_differentiates_the_rule(second):
    H = second(double_slope_sin)(X)
    np.testing.assert_allclose(values(H), np.diag(-2 * np.sin(X.data)), **EXACT)


def test_custom_jvp_hvp_and_grad_of_grad():
    hv = cr.hvp(lambda x: cr.sum(double_slope_sin(x)), (X,), (np.ones(3),))
    np.testing.assert_allclose(values(hv), -2 * np.sin(X.data), **EXACT)
    assert float(cr.grad(cr.grad(double_slope_sin))(f64(0.4))) == pytest.approx(-2 * np.sin(0.4), rel=1e-12)


def test_custom_jvp_with_several_arguments_and_a_pytree_output():
    @cr.custom_jvp
    def f(x, y):
        return {"p": x * y, "q": x + y}

    @f.defjvp
    def f_jvp(primals, tangents):
        (x, y), (tx, ty) = primals, tangents
        return f(x, y), {"p": 10 * (tx * y + x * ty), "q": tx + ty}

    gx, gy = cr.grad(lambda x, y: cr.sum(f(x, y)["p"]), argnums=(0, 1))(f64(2.0), f64(3.0))
    assert (float(gx), float(gy)) == (30.0, 20.0)
    _, t = cr.jvp(f, (f64(2.0), f64(3.0)), (f64(1.0), f64(0.0)))
    assert (float(t["p"]), float(t["q"])) == (30.0, 1.0)


def test_custom_jvp_without_a_rule_raises_type_error():
    @cr.custom_jvp
    def f(x):
        return x

    with pytest.raises(TypeError, match="defjvp"):
        f(f64(1.0))


# ------------------------------------------------------------------ check_grads
def test_check_grads_passes_for_correct_derivatives_up_to_third_order():
    cr.check_grads(lambda x: cr.sin(x) * x, (X,), order=2)
    for mode in ("fwd", "rev"):  # (fwd, rev, rev) at third order trips an engine bug, see the report
        cr.check_grads(lambda x: cr.sin(x) * x, (X,), order=3, modes=(mode,))
    cr.check_grads(lambda p: {"a": p["w"] * p["b"], "c": [cr.exp(p["b"])]}, ({"w": X, "b": X * 2},), order=2)


def test_check_grads_passes_for_correct_custom_rules():
    @cr.custom_jvp
    def f(x):
        return cr.sin(x)

    f.defjvp(lambda p, t: (cr.sin(p[0]), cr.cos(p[0]) * t[0]))
    cr.check_grads(f, (X,), order=2)

    @cr.custom_vjp
    def g(x):
        return cr.sin(x)

    g.defvjp(lambda x: (cr.sin(x), cr.cos(x)), lambda c, u: (c * u,))
    cr.check_grads(g, (X,), order=2, modes=("rev",))


def test_check_grads_catches_a_wrong_custom_vjp_naming_mode_and_order():
    with pytest.raises(cr.GradcheckError, match="order-1 derivative in rev mode"):
        cr.check_grads(scaled_sin, (X,), order=1, modes=("rev",))


def test_check_grads_catches_a_wrong_custom_jvp_in_forward_mode():
    with pytest.raises(cr.GradcheckError, match="order-1 derivative in fwd mode"):
        cr.check_grads(double_slope_sin, (X,), order=1, modes=("fwd",))


def test_check_grads_catches_a_wrong_second_derivative_only_at_order_two():
    """A rule right at first order but whose own derivative is wrong (a detached slope)."""

    @cr.custom_jvp
    def f(x):
        return cr.sin(x)

    f.defjvp(lambda p, t: (cr.sin(p[0]), cr.stop_gradient(cr.cos(p[0])) * t[0]))
    cr.check_grads(f, (X,), order=1)
    with pytest.raises(cr.GradcheckError, match="order-2"):
        cr.check_grads(f, (X,), order=2)


def test_check_grads_rejects_bad_modes_and_order():
    with pytest.raises(ValueError, match="modes"):
        cr.check_grads(cr.sin, (X,), order=1, modes=("forward",))
    with pytest.raises(ValueError, match="order"):
        cr.check_grads(cr.sin, (X,), order=0)


def test_linearize_keeps_the_point_it_was_called_at():
    x = cr.tensor([1.0, 2.0])
    _, jvp_fn = cr.linearize(lambda v: v**2, x)
    with cr.no_grad():
        x += 1.0
    np.testing.assert_allclose(jvp_fn(cr.ones(2)).data, [2.0, 4.0])


def test_check_grads_refuses_to_check_nothing_and_takes_a_mode_name():
    with pytest.raises(ValueError, match="no floating-point argument"):
        cr.check_grads(lambda n: n * 2.0, (cr.tensor([1, 2]),))
    cr.check_grads(lambda x: cr.sin(x), (cr.tensor([0.5], dtype=np.float64),), order=1, modes="rev")


# ------------------------------------------------------------------ has_aux
@pytest.mark.parametrize("name", ["jacfwd", "jacrev"])
def test_jacfwd_and_jacrev_has_aux_give_the_jacobian_and_aux(name):
    J, aux = getattr(cr, name)(lambda x, y: (cr.sin(x) * y, {"y2": y**2}), 1, True)(X, f64(2.0))
    np.testing.assert_allclose(values(J), np.sin(X.data), **EXACT)
    assert float(aux["y2"]) == 4.0 and aux["y2"].grad_fn is None


@pytest.mark.parametrize("name", ["jacfwd", "jacrev"])
def test_jacfwd_and_jacrev_has_aux_agree_with_torch_func(name):
    torch = pytest.importorskip("torch")
    from torch import func as tfunc

    tx = torch.tensor(X.data)
    expected, aux_t = getattr(tfunc, name)(lambda x: (torch.exp(x) * x, torch.cos(x)), has_aux=True)(tx)
    J, aux = getattr(cr, name)(lambda x: (cr.exp(x) * x, cr.cos(x)), has_aux=True, chunk_size=2)(X)
    np.testing.assert_allclose(values(J), expected.numpy(), **EXACT)
    np.testing.assert_allclose(values(aux), aux_t.numpy(), **EXACT)


def test_linearize_has_aux_returns_out_jvp_fn_and_aux():
    out, jvp_fn, aux = cr.linearize(lambda x: (cr.exp(x) * x, {"c": cr.cos(x)}), X, has_aux=True)
    np.testing.assert_allclose(values(out), np.exp(X.data) * X.data, **EXACT)
    np.testing.assert_allclose(values(aux["c"]), np.cos(X.data), **EXACT)
    assert not aux["c"]._tangents and aux["c"].grad_fn is None
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(values(jvp_fn(v)), np.exp(X.data) * (1 + X.data) * v, **EXACT)


def test_linearize_has_aux_agrees_with_torch_func_jvp():
    torch = pytest.importorskip("torch")
    from torch.func import jvp as tjvp

    v = np.array([0.3, -1.0, 2.0])
    _, expected, aux_t = tjvp(
        lambda x: (torch.tanh(x) * x, x.sum()), (torch.tensor(X.data),), (torch.tensor(v),), has_aux=True
    )
    _, jvp_fn, aux = cr.linearize(lambda x: (cr.tanh(x) * x, cr.sum(x)), X, has_aux=True)
    np.testing.assert_allclose(values(jvp_fn(v)), expected.numpy(), **EXACT)
    assert float(aux) == pytest.approx(float(aux_t), rel=1e-12)


def test_has_aux_without_a_pair_raises_type_error_in_jacfwd_jacrev_and_linearize():
    for name in ("jacfwd", "jacrev"):
        with pytest.raises(TypeError, match="has_aux=True f must return a pair"):
            getattr(cr, name)(cr.sin, has_aux=True)(X)
    with pytest.raises(TypeError, match="linearize: with has_aux=True f must return a pair.*Tensor"):
        cr.linearize(cr.sin, X, has_aux=True)
