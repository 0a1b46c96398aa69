"""Pytrees: nested dicts, lists and tuples through every transform, as JAX and TensorFlow take them.

Expected values come from closed forms; torch.func (which takes pytrees of tensors) is the
reference where it is installed.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import chainrule as cr

EXACT = {"rtol": 1e-12, "atol": 1e-12}
Pair = namedtuple("Pair", "first second")


def values(t):
    return np.asarray(t.data if isinstance(t, cr.Tensor) else t)


def f64(a):
    return cr.tensor(np.asarray(a, dtype=np.float64))


def params():
    W = f64([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]])
    b = f64([0.2, -0.4])
    return {"W": W, "b": b}


X = np.array([0.5, -1.0, 2.0])


def loss(p, x):
    return cr.sum(cr.tanh(p["W"] @ x + p["b"]) ** 2)


def loss_closed_form_grads(p, x):
    """d/dz Σ tanh(z)² = 2 tanh(z)(1 - tanh²z); dW = δ xᵀ, db = δ."""
    z = p["W"].data @ x + p["b"].data
    delta = 2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
    return {"W": np.outer(delta, x), "b": delta}


# ------------------------------------------------------------------ tree utilities
def test_tree_flatten_orders_dict_leaves_by_sorted_key_and_unflatten_rebuilds_the_same_tree():
    tree = {"b": [1, (2, None)], "a": Pair(3, {"z": 4, "y": 5})}
    leaves, treedef = cr.tree_flatten(tree)
    assert leaves == [3, 5, 4, 1, 2]
    rebuilt = cr.tree_unflatten(treedef, leaves)
    assert rebuilt == tree and list(rebuilt) == ["b", "a"] and isinstance(rebuilt["a"], Pair)


def test_treedef_has_a_readable_repr_and_equality_by_structure():
    _, treedef = cr.tree_flatten({"w": [1.0, 2.0], "b": (3.0,)})
    assert repr(treedef) == "PyTreeDef({'w': [*, *], 'b': (*,)})"
    assert treedef == cr.tree_flatten({"b": ("x",), "w": ["y", "z"]})[1]
    assert treedef != cr.tree_flatten({"w": [1.0], "b": (3.0,)})[1]
    assert cr.tree_flatten((1, 2))[1] != cr.tree_flatten([1, 2])[1]


def test_none_is_a_node_without_leaves_as_in_jax():
    leaves, treedef = cr.tree_flatten([1.0, None, {"a": None}])
    assert leaves == [1.0]
    assert cr.tree_unflatten(treedef, [7.0]) == [7.0, None, {"a": None}]


def test_an_ordered_dict_flattens_in_its_own_order():
    assert cr.tree_flatten(OrderedDict([("z", 1), ("a", 2)]))[0] == [1, 2]


def test_tree_map_applies_f_leaf_by_leaf_over_several_trees():
    out = cr.tree_map(lambda x, y: x * y, {"a": [1, 2], "b": 3}, {"a": [10, 20], "b": 30})
    assert out == {"a": [10, 40], "b": 90}


def test_tree_map_with_mismatched_structures_raises_value_error_naming_both():
    with pytest.raises(ValueError, match=r"PyTreeDef\(\[\*, \*\]\).*PyTreeDef\(\[\*\]\)"):
        cr.tree_map(lambda x, y: x + y, [1, 2], [1])


def test_tree_unflatten_with_the_wrong_number_of_leaves_raises_value_error():
    with pytest.raises(ValueError, match="2 leaves, but 3"):
        cr.tree_unflatten(cr.tree_flatten([0, 0])[1], [1, 2, 3])


# ------------------------------------------------------------------ grad and value_and_grad
def test_grad_of_a_dict_of_parameters_returns_the_dict_of_their_gradients():
    p = params()
    g = cr.grad(loss)(p, X)
    assert list(g) == ["W", "b"]
    expected = loss_closed_form_grads(p, X)
    for k in g:
        np.testing.assert_allclose(values(g[k]), expected[k], **EXACT)


def test_grad_keeps_container_types_namedtuples_and_none():
    a, b = f64(2.0), f64([1.0, 3.0])
    g = cr.grad(lambda t: t[0].first * cr.sum(t[0].second ** 2) + t[1][0])((Pair(a, b), [a, None]))
    assert isinstance(g, tuple) and isinstance(g[0], Pair) and isinstance(g[1], list) and g[1][1] is None
    assert float(g[0].first) == 10.0  # Σb²
    np.testing.assert_allclose(values(g[0].second), 2 * 2.0 * b.data, **EXACT)
    assert float(g[1][0]) == 1.0


def test_grad_with_tuple_argnums_of_pytrees_gives_a_tuple_of_trees():
    p = params()
    gp, gx = cr.grad(loss, argnums=(0, 1))(p, f64(X))
    assert set(gp) == {"W", "b"} and values(gx).shape == (3,)
    z = p["W"].data @ X + p["b"].data
    delta = 2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
    np.testing.assert_allclose(values(gx), p["W"].data.T @ delta, **EXACT)


def test_grad_of_pytree_agrees_with_torch_func_grad():
    torch = pytest.importorskip("torch")
    from torch.func import grad as tgrad

    p = params()
    tp = {k: torch.tensor(v.data) for k, v in p.items()}
    tx = torch.tensor(X)
    expected = tgrad(lambda q: (torch.tanh(q["W"] @ tx + q["b"]) ** 2).sum())(tp)
    got = cr.grad(loss)(p, X)
    for k in p:
        np.testing.assert_allclose(values(got[k]), expected[k].numpy(), rtol=1e-12, atol=1e-12)


def test_grad_accepts_arrays_and_floats_as_leaves():
    g = cr.grad(lambda p: p["a"] * cr.sum(p["v"]))({"a": 2.0, "v": np.array([1.0, 4.0])})
    assert float(g["a"]) == 5.0
    np.testing.assert_allclose(values(g["v"]), [2.0, 2.0], **EXACT)


def test_has_aux_returns_the_auxiliary_value_beside_the_gradient():
    def f(x):
        y = x**2
        return y, {"y": y, "note": "square"}

    g, aux = cr.grad(f, has_aux=True)(3.0)
    assert float(g) == 6.0 and float(aux["y"]) == 9.0 and aux["note"] == "square"
    (value, aux2), g2 = cr.value_and_grad(f, has_aux=True)(3.0)
    assert float(value) == 9.0 and float(g2) == 6.0 and float(aux2["y"]) == 9.0


def test_has_aux_result_is_cut_from_the_graph():
    _, aux = cr.grad(lambda x: (x**2, x**3), has_aux=True)(cr.tensor(2.0))
    assert aux.grad_fn is None and not aux.requires_grad


def test_has_aux_with_a_non_pair_return_raises_type_error():
    with pytest.raises(TypeError, match="has_aux=True.*pair"):
        cr.grad(lambda x: x**2, has_aux=True)(3.0)
    with pytest.raises(TypeError, match="length 3"):
        cr.grad(lambda x: (x, x, x), has_aux=True)(3.0)


def test_grad_of_a_function_returning_a_tuple_suggests_has_aux():
    with pytest.raises(TypeError, match="has_aux=True"):
        cr.grad(lambda x: (x**2, 1))(3.0)


def test_grad_of_a_non_scalar_output_still_raises_type_error():
    with pytest.raises(TypeError, match="scalar"):
        cr.grad(lambda p: p["a"] * 2)({"a": f64([1.0, 2.0])})


# ------------------------------------------------------------------ vjp and jvp
def test_vjp_of_a_pytree_function_takes_a_cotangent_nested_as_the_output():
    a, b = f64([1.0, 2.0]), f64(3.0)
    out, vjp_fn = cr.vjp(lambda p: {"prod": p["a"] * p["b"], "sq": [p["b"] ** 2]}, {"a": a, "b": b})
    assert set(out) == {"prod", "sq"} and isinstance(out["sq"], list)
    u = {"prod": f64([1.0, -1.0]), "sq": [f64(2.0)]}
    (g,) = vjp_fn(u)
    np.testing.assert_allclose(values(g["a"]), [3.0, -3.0], **EXACT)  # u·b
    assert float(g["b"]) == pytest.approx(1.0 * 1 - 1.0 * 2 + 2.0 * 2 * 3)  # u·a + 2b·u_sq


def test_vjp_with_a_cotangent_of_another_structure_raises_value_error():
    _, vjp_fn = cr.vjp(lambda x: (x, x * 2), f64([1.0]))
    with pytest.raises(ValueError, match="cotangent"):
        vjp_fn([f64([1.0]), f64([1.0])])


def test_vjp_agrees_with_torch_func_vjp_on_a_dict():
    torch = pytest.importorskip("torch")
    from torch.func import vjp as tvjp

    p = params()
    tp = {k: torch.tensor(v.data) for k, v in p.items()}
    u = np.array([0.3, -2.0])
    _, tfn = tvjp(lambda q: torch.sin(q["W"] @ torch.tensor(X)) * q["b"], tp)
    _, fn = cr.vjp(lambda q: cr.sin(q["W"] @ X) * q["b"], p)
    (expected,), (got,) = tfn(torch.tensor(u)), fn(u)
    for k in p:
        np.testing.assert_allclose(values(got[k]), expected[k].numpy(), rtol=1e-12, atol=1e-12)


def test_jvp_of_pytree_primals_and_tangents_gives_the_output_structure():
    p = {"x": f64(2.0), "y": f64([1.0, 3.0])}
    t = {"x": f64(1.0), "y": f64([0.5, 0.0])}
    out, tangent = cr.jvp(lambda q: [q["x"] * q["y"], {"s": cr.sum(q["y"] ** 2)}], (p,), (t,))
    assert isinstance(out, list) and isinstance(tangent[1], dict)
    np.testing.assert_allclose(values(tangent[0]), 1.0 * p["y"].data + 2.0 * t["y"].data, **EXACT)
    assert float(tangent[1]["s"]) == pytest.approx(2 * 1.0 * 0.5)


def test_jvp_agrees_with_torch_func_jvp_on_a_dict():
    torch = pytest.importorskip("torch")
    from torch.func import jvp as tjvp

    p = params()
    t = {"W": f64(np.ones((2, 3))), "b": f64([1.0, -1.0])}
    tf = lambda q: torch.tanh(q["W"] @ torch.tensor(X) + q["b"])  # noqa: E731
    _, expected = tjvp(
        tf,
        ({k: torch.tensor(v.data) for k, v in p.items()},),
        ({k: torch.tensor(v.data) for k, v in t.items()},),
    )
    _, got = cr.jvp(lambda q: cr.tanh(q["W"] @ X + q["b"]), (p,), (t,))
    np.testing.assert_allclose(values(got), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_jvp_with_tangents_nested_otherwise_raises_value_error():
    with pytest.raises(ValueError, match="nested as the primals"):
        cr.jvp(lambda q: q["a"], ({"a": f64(1.0)},), ({"b": f64(1.0)},))
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        cr.jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))


# ------------------------------------------------------------------ jacobian, hessian, hvp
@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_jacobian_of_pytrees_nests_outputs_outside_inputs(mode):
    p = {"a": f64([1.0, 2.0]), "b": f64(3.0)}
    J = cr.jacobian(lambda q: {"v": q["a"] * q["b"], "s": cr.sum(q["a"])}, mode=mode)(p)
    assert set(J) == {"v", "s"} and set(J["v"]) == {"a", "b"}
    np.testing.assert_allclose(values(J["v"]["a"]), 3.0 * np.eye(2), **EXACT)
    np.testing.assert_allclose(values(J["v"]["b"]), [1.0, 2.0], **EXACT)
    np.testing.assert_allclose(values(J["s"]["a"]), [1.0, 1.0], **EXACT)
    assert values(J["s"]["b"]).shape == () and float(J["s"]["b"]) == 0.0


def test_jacobian_of_pytrees_agrees_with_torch_func_jacrev():
    torch = pytest.importorskip("torch")
    from torch.func import jacrev as tjacrev

    p = params()
    tp = {k: torch.tensor(v.data) for k, v in p.items()}
    expected = tjacrev(lambda q: torch.tanh(q["W"] @ torch.tensor(X) + q["b"]))(tp)
    for mode in ("rev", "fwd"):
        got = cr.jacobian(lambda q: cr.tanh(q["W"] @ X + q["b"]), mode=mode)(p)
        for k in p:
            np.testing.assert_allclose(values(got[k]), expected[k].numpy(), rtol=1e-12, atol=1e-12)


def test_hessian_of_pytree_agrees_with_torch_func_hessian():
    torch = pytest.importorskip("torch")
    from torch.func import hessian as thessian

    p = params()
    tp = {k: torch.tensor(v.data) for k, v in p.items()}
    expected = thessian(lambda q: (torch.tanh(q["W"] @ torch.tensor(X) + q["b"]) ** 2).sum())(tp)
    got = cr.hessian(lambda q: loss(q, X))(p)
    for k1 in p:
        for k2 in p:
            np.testing.assert_allclose(values(got[k1][k2]), expected[k1][k2].numpy(), rtol=1e-10, atol=1e-12)


def test_hvp_takes_pytree_primals_and_tangents():
    """f = Σ a³ + a·b: H·v = (6a·v_a + v_b, Σ v_a)."""
    p = {"a": f64([1.0, 2.0]), "b": f64(0.5)}
    v = {"a": f64([1.0, -1.0]), "b": f64(2.0)}
    hv = cr.hvp(lambda q: cr.sum(q["a"] ** 3) + cr.sum(q["a"]) * q["b"], (p,), (v,))
    np.testing.assert_allclose(values(hv["a"]), 6 * p["a"].data * v["a"].data + 2.0, **EXACT)
    assert float(hv["b"]) == pytest.approx(0.0)


# ------------------------------------------------------------------ GradientTape
def test_tape_gradient_takes_pytree_targets_and_sources():
    p = params()
    with cr.GradientTape() as tape:
        tape.watch(p)
        target = {"loss": loss(p, X), "extra": [cr.sum(p["b"])]}
    g = tape.gradient(target, p)
    expected = loss_closed_form_grads(p, X)
    np.testing.assert_allclose(values(g["W"]), expected["W"], **EXACT)
    np.testing.assert_allclose(values(g["b"]), expected["b"] + 1, **EXACT)


def test_tape_jacobian_takes_pytree_targets_and_sources_nesting_targets_outside():
    """y = sin x, z = exp y; targets {"v": 2z, "s": [Σz]}: ∂z/∂x = diag(cos x · e^{sin x})."""
    x, c = f64([0.5, -1.0]), f64(3.0)
    with cr.GradientTape() as tape:  # not persistent: every pass but the last keeps the graph
        tape.watch([x, c])
        z = cr.exp(cr.sin(x))
        target = {"v": 2 * z * c, "s": [cr.sum(z)], "const": 1.0}
    J = tape.jacobian(target, {"x": x, "c": c})
    dz = np.cos(x.data) * np.exp(np.sin(x.data))
    assert set(J) == {"v", "s", "const"} and isinstance(J["s"], list) and set(J["s"][0]) == {"x", "c"}
    np.testing.assert_allclose(values(J["v"]["x"]), np.diag(2 * 3.0 * dz), **EXACT)
    np.testing.assert_allclose(values(J["v"]["c"]), 2 * np.exp(np.sin(x.data)), **EXACT)
    np.testing.assert_allclose(values(J["s"][0]["x"]), dz, **EXACT)
    assert J["s"][0]["c"] is None and J["const"] == {"x": None, "c": None}


def test_tape_jacobian_of_pytrees_agrees_with_torch_func_jacrev():
    torch = pytest.importorskip("torch")
    from torch.func import jacrev as tjacrev

    p = params()
    tx = torch.tensor(X)
    expected = tjacrev(lambda q: {"h": torch.tanh(q["W"] @ tx + q["b"]), "n": (q["W"] ** 2).sum()})(
        {k: torch.tensor(v.data) for k, v in p.items()}
    )
    with cr.GradientTape() as tape:
        tape.watch(p)
        target = {"h": cr.tanh(p["W"] @ X + p["b"]), "n": cr.sum(p["W"] ** 2)}
    got = tape.jacobian(target, p)
    assert got["n"]["b"] is None and not expected["n"]["b"].any()  # unconnected: None, as TensorFlow
    for out, k in (("h", "W"), ("h", "b"), ("n", "W")):
        np.testing.assert_allclose(values(got[out][k]), expected[out][k].numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ has_aux beyond grad
def aux_f(p):
    """({"v": a·b, "s": Σa²}, aux) — aux a pytree holding a tensor computed from the inputs."""
    return {"v": p["a"] * p["b"], "s": cr.sum(p["a"] ** 2)}, {"b3": p["b"] ** 3, "tag": "aux"}


AUX_P = {"a": f64([1.0, 2.0]), "b": f64(3.0)}


def test_jvp_has_aux_returns_out_tangent_and_aux_as_jax():
    t = {"a": f64([1.0, -1.0]), "b": f64(0.5)}
    out, tangent, aux = cr.jvp(aux_f, (AUX_P,), (t,), has_aux=True)
    np.testing.assert_allclose(values(out["v"]), [3.0, 6.0], **EXACT)
    np.testing.assert_allclose(values(tangent["v"]), [1.0 * 3 + 1.0 * 0.5, -1.0 * 3 + 2.0 * 0.5], **EXACT)
    assert float(tangent["s"]) == pytest.approx(2 * (1.0 * 1 + 2.0 * -1))
    assert float(aux["b3"]) == 27.0 and aux["tag"] == "aux"
    assert not aux["b3"]._tangents and aux["b3"].grad_fn is None  # not differentiated


def test_jvp_has_aux_agrees_with_torch_func_jvp():
    torch = pytest.importorskip("torch")
    from torch.func import jvp as tjvp

    p, t = params(), {"W": f64(np.ones((2, 3))), "b": f64([1.0, -1.0])}
    h = lambda q: q["W"] @ torch.tensor(X) + q["b"]  # noqa: E731
    out_t, tan_t, aux_t = tjvp(
        lambda q: (torch.tanh(h(q)), torch.sin(h(q))),
        ({k: torch.tensor(v.data) for k, v in p.items()},),
        ({k: torch.tensor(v.data) for k, v in t.items()},),
        has_aux=True,
    )
    z = lambda q: q["W"] @ X + q["b"]  # noqa: E731
    out, tan, aux = cr.jvp(lambda q: (cr.tanh(z(q)), cr.sin(z(q))), (p,), (t,), has_aux=True)
    for got, expected in ((out, out_t), (tan, tan_t), (aux, aux_t)):
        np.testing.assert_allclose(values(got), expected.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
@pytest.mark.parametrize("chunk_size", [None, 1])
def test_jacobian_has_aux_returns_the_jacobian_and_aux_in_every_mode(mode, chunk_size):
    J, aux = cr.jacobian(aux_f, mode=mode, chunk_size=chunk_size, has_aux=True)(AUX_P)
    np.testing.assert_allclose(values(J["v"]["a"]), 3.0 * np.eye(2), **EXACT)
    np.testing.assert_allclose(values(J["v"]["b"]), [1.0, 2.0], **EXACT)
    np.testing.assert_allclose(values(J["s"]["a"]), [2.0, 4.0], **EXACT)
    assert float(J["s"]["b"]) == 0.0
    assert float(aux["b3"]) == 27.0 and aux["tag"] == "aux"
    assert aux["b3"].grad_fn is None and not aux["b3"].requires_grad and not aux["b3"]._tangents


def test_jacobian_has_aux_agrees_with_torch_func_jacrev_and_jacfwd():
    torch = pytest.importorskip("torch")
    from torch.func import jacfwd as tjacfwd
    from torch.func import jacrev as tjacrev

    p = params()
    tp = {k: torch.tensor(v.data) for k, v in p.items()}
    tx = torch.tensor(X)
    for mode, theirs in (("rev", tjacrev), ("fwd", tjacfwd)):
        expected, aux_t = theirs(
            lambda q: (torch.tanh(q["W"] @ tx + q["b"]), (q["b"] ** 2).sum()), has_aux=True
        )(tp)
        got, aux = cr.jacobian(
            lambda q: (cr.tanh(q["W"] @ X + q["b"]), cr.sum(q["b"] ** 2)), mode=mode, has_aux=True
        )(p)
        for k in p:
            np.testing.assert_allclose(values(got[k]), expected[k].numpy(), rtol=1e-12, atol=1e-12)
        assert float(aux) == pytest.approx(float(aux_t), rel=1e-12)


def test_has_aux_without_a_pair_raises_type_error_in_jvp_and_jacobian():
    with pytest.raises(TypeError, match=r"jvp: with has_aux=True f must return a pair \(value, aux\)"):
        cr.jvp(lambda x: x**2, (1.0,), (1.0,), has_aux=True)
    for mode in ("rev", "fwd", "auto"):
        with pytest.raises(TypeError, match="jacobian: with has_aux=True.*pair"):
            cr.jacobian(lambda x: x**2, mode=mode, has_aux=True)(f64([1.0, 2.0]))
        with pytest.raises(TypeError, match="length 3"):
            cr.jacobian(lambda x: (x, x, x), mode=mode, has_aux=True)(f64([1.0, 2.0]))
