"""``t.at[idx].set(v)`` / ``.add(v)`` / ``.get()``: new tensors, JAX's semantics, both gradients."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

INDICES = [1, (slice(None), 0), ([0, 2], [1, 0]), (Ellipsis, slice(1, 3)), np.array([True, False, True])]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_set_and_add_give_numpys_values_and_leave_t_unchanged(index):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    region = a[index].shape
    v = rng.standard_normal(region)
    t = cr.tensor(a, requires_grad=True)
    expected_set, expected_add = a.copy(), a.copy()
    expected_set[index] = v
    np.add.at(expected_add, index, v)
    np.testing.assert_array_equal(t.at[index].set(v).data, expected_set)
    np.testing.assert_array_equal(t.at[index].add(v).data, expected_add)
    np.testing.assert_array_equal(t.at[index].get().data, a[index])
    np.testing.assert_array_equal(t.data, a)


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_gradients_go_to_the_written_positions_and_the_rest(index):
    rng = np.random.default_rng(1)
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    mask = np.zeros((3, 4), dtype=bool)
    mask[index] = True
    t = cr.tensor(a, requires_grad=True)
    v = cr.tensor(rng.standard_normal(a[index].shape), requires_grad=True)
    (t.at[index].set(v) * w).sum().backward()
    np.testing.assert_allclose(t.grad.data, np.where(mask, 0.0, w))
    np.testing.assert_allclose(v.grad.data, w[index])
    t.grad = v.grad = None
    (t.at[index].add(v) * w).sum().backward()
    np.testing.assert_allclose(t.grad.data, w)
    np.testing.assert_allclose(v.grad.data, w[index])


def test_a_repeated_index_adds_each_time_and_set_refuses_it():
    t = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = cr.tensor([10.0, 20.0], requires_grad=True)
    u = t.at[[0, 0]].add(v)
    np.testing.assert_array_equal(u.data, [31.0, 2.0, 3.0])
    (u * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(v.grad.data, [1.0, 1.0])
    with pytest.raises(RuntimeError, match="more than once"):
        t.at[[0, 0]].set(v)


def test_a_scalar_broadcasts_and_its_gradient_sums():
    t = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    v = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    t.at[:, 1:].set(v).sum().backward()
    assert v.grad.item() == 4.0


def test_forward_mode_and_gradcheck_through_set_and_add():
    a = np.arange(6.0).reshape(2, 3)
    v = np.array([0.5, -1.5])

    def f(t, v):
        return cr.sin(t.at[:, 0].set(v * v) + t.at[1, [0, 2]].add(v))

    assert cr.gradcheck(f, [cr.tensor(a, requires_grad=True), cr.tensor(v, requires_grad=True)])
    j_fwd = cr.jacobian(f, argnums=(0, 1), mode="fwd")(a, v)
    j_rev = cr.jacobian(f, argnums=(0, 1), mode="rev")(a, v)
    for x, y in zip(j_fwd, j_rev):
        np.testing.assert_allclose(x.data, y.data, rtol=1e-12)


def test_a_value_of_another_dtype_takes_the_tensors_and_its_gradient_converts_back():
    t = cr.tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    v = cr.tensor(np.float64(1.5), requires_grad=True)
    u = t.at[0].set(v)
    assert u.dtype == np.float32
    u.sum().backward()
    assert v.grad.dtype == np.float64 and v.grad.item() == 1.0


def test_a_value_of_the_wrong_shape_is_refused_naming_the_shapes():
    t = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"at\[\]\.set.*\(4,\).*\(2, 3\)"):
        t.at[:, :].set(np.ones(4))


def test_jax_agrees():
    jnp = pytest.importorskip("jax.numpy")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    a = np.linspace(0.0, 1.0, 6).reshape(2, 3)
    v = np.array([0.3, 0.7])

    def f(lib, t, v):
        return (lib.sin(t.at[:, 1].set(v) * t.at[[1, 1], [0, 0]].add(v))).sum()

    ours = cr.grad(lambda t, v: f(cr, t, v), argnums=(0, 1))(a, v)
    theirs = jax.grad(lambda t, v: f(jnp, t, v), argnums=(0, 1))(a, v)
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.data, np.asarray(y), rtol=1e-12)
