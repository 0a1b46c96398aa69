"""cr.vmap: composition with the other transforms, in_axes/out_axes, chunks, and refusals.

Every expected value is the same function run example by example (a Python loop), or a
closed form; PyTorch's torch.func cross-checks per-example gradients when installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.tensor import BatchedAccess

EXACT = {"rtol": 1e-12, "atol": 1e-12}
rng = np.random.default_rng(0)


def _mlp_params(d=5, h=4, c=3):
    return {
        "W1": cr.tensor(rng.normal(size=(d, h))),
        "b1": cr.tensor(rng.normal(size=h)),
        "W2": cr.tensor(rng.normal(size=(h, c))),
        "b2": cr.tensor(rng.normal(size=c)),
    }


def _loss(p, x, y):
    return F.cross_entropy(cr.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"], y)


def _stack(trees):
    return {k: np.stack([t[k].numpy() for t in trees]) for k in trees[0]}


# ------------------------------------------------------------------ composition
def test_vmap_of_grad_gives_per_example_gradients_of_shared_parameters():
    p, x, y = _mlp_params(), cr.tensor(rng.normal(size=(7, 5))), cr.tensor(rng.integers(0, 3, 7))
    got = cr.vmap(cr.grad(_loss), in_axes=(None, 0, 0))(p, x, y)
    want = _stack([cr.grad(_loss)(p, x[i], y[i]) for i in range(7)])
    assert set(got) == set(want)
    for k in want:
        assert got[k].shape == (7, *p[k].shape)
        assert_allclose(got[k].numpy(), want[k], **EXACT)


def test_per_example_gradients_match_torch_func():
    torch = pytest.importorskip("torch")
    p, x, y = _mlp_params(), rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    got = cr.vmap(cr.grad(_loss), in_axes=(None, 0, 0))(p, cr.tensor(x), cr.tensor(y))

    def loss(p, x, y):
        logits = torch.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
        return torch.nn.functional.cross_entropy(logits, y)

    tp = {k: torch.tensor(v.numpy()) for k, v in p.items()}
    want = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(tp, torch.tensor(x), torch.tensor(y))
    for k in p:
        assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_a_target_per_example(reduction):
    """Each example holds a small batch (N=3) with one ignored target: its own reduction."""
    x = cr.tensor(rng.normal(size=(4, 3, 5)))
    y = np.array([[0, 4, -100], [1, 1, 2], [-100, -100, -100], [3, 0, 2]])
    weight = np.array([1.0, 2.0, 0.5, 1.0, 3.0])

    def f(x, y):
        return F.cross_entropy(x, y, weight=weight, reduction=reduction)

    got = cr.vmap(f)(x, cr.tensor(y))
    want = np.stack([f(x[i], y[i]).numpy() for i in range(4)])
    assert_allclose(got.numpy(), want, **EXACT)  # the all-ignored example: NaN for "mean"
    grads = cr.vmap(cr.grad(lambda x, y: cr.sum(f(x, y))), in_axes=(0, 0))(x, cr.tensor(y))
    expected = np.stack([cr.grad(lambda x, t: cr.sum(f(x, t)))(x[i], y[i]).numpy() for i in range(4)])
    assert_allclose(grads.numpy(), expected, **EXACT)
    assert np.isfinite(grads.numpy()).all()


def test_grad_of_vmap_differentiates_through_the_batch():
    w = cr.tensor(rng.normal(size=3))
    xs = cr.tensor(rng.normal(size=(5, 3)))

    def total(w):
        return cr.sum(cr.vmap(lambda x: cr.sin(cr.dot(w, x)) ** 2)(xs))

    want = sum(cr.grad(lambda w, x: cr.sin(cr.dot(w, x)) ** 2)(w, xs[i]).numpy() for i in range(5))
    assert_allclose(cr.grad(total)(w).numpy(), want, **EXACT)


def test_jacobian_of_vmap_is_block_diagonal_over_examples():
    xs = cr.tensor(rng.normal(size=(3, 2)))
    J = cr.jacobian(cr.vmap(lambda x: cr.exp(x) * x[0]))(xs)
    assert J.shape == (3, 2, 3, 2)
    for i in range(3):
        for j in range(3):
            block = J.numpy()[i, :, j, :]
            want = cr.jacobian(lambda x: cr.exp(x) * x[0])(xs[i]).numpy() if i == j else np.zeros((2, 2))
            assert_allclose(block, want, **EXACT)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_vmap_of_jacobian_and_of_hessian(mode):
    xs = cr.tensor(rng.normal(size=(4, 3)))

    def f(x):
        return cr.tanh(x) * cr.sum(x**2)

    got = cr.vmap(cr.jacobian(f, mode=mode))(xs)
    assert_allclose(got.numpy(), np.stack([cr.jacobian(f)(xs[i]).numpy() for i in range(4)]), **EXACT)
    h = cr.vmap(cr.hessian(lambda x: cr.sum(cr.sin(x)) * cr.sum(x)))(xs)
    want = np.stack([cr.hessian(lambda x: cr.sum(cr.sin(x)) * cr.sum(x))(xs[i]).numpy() for i in range(4)])
    assert_allclose(h.numpy(), want, **EXACT)


def test_vmap_of_jvp_and_of_vjp():
    xs, ts = cr.tensor(rng.normal(size=(4, 3))), cr.tensor(rng.normal(size=(4, 3)))
    out, tangent = cr.vmap(lambda x, t: cr.jvp(cr.sin, (x,), (t,)))(xs, ts)
    assert_allclose(out.numpy(), np.sin(xs.numpy()), **EXACT)
    assert_allclose(tangent.numpy(), np.cos(xs.numpy()) * ts.numpy(), **EXACT)
    (cotangent,) = cr.vmap(lambda x, u: cr.vjp(cr.exp, x)[1](u))(xs, ts)
    assert_allclose(cotangent.numpy(), np.exp(xs.numpy()) * ts.numpy(), **EXACT)


def test_jvp_of_vmap():
    xs, ts = cr.tensor(rng.normal(size=(4, 3))), cr.tensor(rng.normal(size=(4, 3)))
    _, tangent = cr.jvp(cr.vmap(lambda x: x * cr.sum(x)), (xs,), (ts,))
    x, t = xs.numpy(), ts.numpy()
    want = t * x.sum(1, keepdims=True) + x * t.sum(1, keepdims=True)
    assert_allclose(tangent.numpy(), want, **EXACT)


def test_grad_of_vmap_of_grad():
    """d/dw Σᵢ |∇ₓ f(w, xᵢ)|²: a derivative through per-example gradients."""
    w = cr.tensor(rng.normal(size=3))
    xs = cr.tensor(rng.normal(size=(4, 3)))

    def f(w, x):
        return cr.sum(cr.sin(w * x))

    def penalty(w):
        g = cr.vmap(cr.grad(f, argnums=1), in_axes=(None, 0))(w, xs)
        return cr.sum(g**2)

    def looped(w):
        return sum(cr.sum(cr.grad(f, argnums=1)(w, xs[i]) ** 2) for i in range(4))

    assert_allclose(cr.grad(penalty)(w).numpy(), cr.grad(looped)(w).numpy(), **EXACT)


def test_nested_vmap_gives_every_pair():
    a, b = cr.tensor(rng.normal(size=(3, 2))), cr.tensor(rng.normal(size=(4, 2)))
    pairs = cr.vmap(lambda x: cr.vmap(lambda y: cr.dot(x, y) + cr.sum(x))(b))(a)
    assert_allclose(pairs.numpy(), a.numpy() @ b.numpy().T + a.numpy().sum(1, keepdims=True), **EXACT)
    g = cr.vmap(cr.vmap(cr.grad(lambda x, y: cr.sum(x * y) ** 2), in_axes=(None, 0)), in_axes=(0, None))(a, b)
    want = 2 * (a.numpy() @ b.numpy().T)[:, :, None] * b.numpy()[None, :, :]
    assert_allclose(g.numpy(), want, **EXACT)


def test_vmap_runs_a_module_example_by_example():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    xs = cr.tensor(rng.normal(size=(5, 4)))
    assert_allclose(cr.vmap(model)(xs).numpy(), model(xs).numpy(), **EXACT)


def test_ensembles_batched_weights_of_an_affine_layer():
    ws, bs = cr.tensor(rng.normal(size=(3, 2, 4))), cr.tensor(rng.normal(size=(3, 2)))
    x = cr.tensor(rng.normal(size=(5, 4)))
    got = cr.vmap(F.linear, in_axes=(None, 0, 0))(x, ws, bs)
    assert_allclose(
        got.numpy(), np.stack([x.numpy() @ w.T + b for w, b in zip(ws.numpy(), bs.numpy())]), **EXACT
    )


def test_where_and_comparisons_on_batched_values():
    xs = cr.tensor(rng.normal(size=(6, 3)))
    got = cr.vmap(lambda x: cr.where(x > 0, x, -2 * x) + (~(x > 0)).astype(float))(xs)
    x = xs.numpy()
    assert_allclose(got.numpy(), np.where(x > 0, x, -2 * x) + (x <= 0), **EXACT)


# ------------------------------------------------------------------ axes and chunks
def test_in_axes_int_none_tuple_and_pytree():
    W = cr.tensor(rng.normal(size=(2, 3)))
    xs = cr.tensor(rng.normal(size=(3, 5)))  # examples along axis 1
    got = cr.vmap(lambda W, x: W @ x, in_axes=(None, 1))(W, xs)
    assert_allclose(got.numpy(), (W.numpy() @ xs.numpy()).T, **EXACT)
    assert_allclose(cr.vmap(cr.sum, in_axes=-1)(xs).numpy(), xs.numpy().sum(0), **EXACT)
    tree = {"a": cr.tensor(rng.normal(size=(5, 2))), "b": cr.tensor(rng.normal(size=2))}
    got = cr.vmap(lambda t: t["a"] * t["b"], in_axes=({"a": 0, "b": None},))(tree)
    assert_allclose(got.numpy(), tree["a"].numpy() * tree["b"].numpy(), **EXACT)
    pair = [cr.tensor(rng.normal(size=(2, 5))), cr.tensor(rng.normal(size=(5,)))]
    got = cr.vmap(lambda p: p[0] * p[1], in_axes=([1, 0],))(pair)
    assert_allclose(got.numpy(), (pair[0].numpy() * pair[1].numpy()).T, **EXACT)


def test_out_axes_and_pytree_outputs():
    xs = cr.tensor(rng.normal(size=(4, 3)))
    out = cr.vmap(lambda x: {"double": 2 * x, "shared": cr.ones(2)}, out_axes={"double": 1, "shared": None})(
        xs
    )
    assert_allclose(out["double"].numpy(), 2 * xs.numpy().T, **EXACT)
    assert out["shared"].shape == (2,)
    first, second = cr.vmap(lambda x: (x, cr.sum(x)))(xs)
    assert first.shape == (4, 3) and second.shape == (4,)
    const = cr.vmap(lambda x: cr.tensor(7.0))(xs)
    assert_allclose(const.numpy(), np.full(4, 7.0))


def test_chunk_size_gives_the_same_result():
    p, x, y = _mlp_params(), cr.tensor(rng.normal(size=(10, 5))), cr.tensor(rng.integers(0, 3, 10))
    whole = cr.vmap(cr.grad(_loss), in_axes=(None, 0, 0))(p, x, y)
    for chunk in (1, 3, 10, 64):
        chunked = cr.vmap(cr.grad(_loss), in_axes=(None, 0, 0), chunk_size=chunk)(p, x, y)
        for k in whole:
            assert_allclose(chunked[k].numpy(), whole[k].numpy(), **EXACT)


# ------------------------------------------------------------------ fallbacks and refusals
def test_an_op_without_batching_rule_runs_in_a_loop_with_one_warning():
    xs = cr.tensor(rng.normal(size=(3, 4)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = cr.vmap(cr.sort)(xs)
        cr.vmap(cr.sort)(xs)
    assert_allclose(got.numpy(), np.sort(xs.numpy(), axis=-1), **EXACT)
    loops = [w for w in caught if "no batching rule" in str(w.message)]
    assert len(loops) <= 1 and all("sort" in str(w.message) for w in loops)


def test_a_parameter_that_differs_between_examples_gives_values_and_refuses_a_derivative():
    table = cr.tensor(rng.normal(size=(6, 2)))
    idx = cr.tensor(np.array([[0, 5], [2, 2], [4, 1]]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = cr.vmap(lambda i: table[i])(idx)
        assert_allclose(rows.numpy(), table.numpy()[idx.numpy()], **EXACT)
        with pytest.raises(NotImplementedError, match="getitem was given a parameter that differs"):
            cr.vmap(cr.grad(lambda t, i: cr.sum(t[i])), in_axes=(None, 0))(table, idx)


def test_reading_a_batched_value_is_refused():
    xs = cr.tensor(rng.normal(size=(3, 2)))
    for read in (lambda x: bool(x[0] > 0), lambda x: float(cr.sum(x)), lambda x: x.numpy(), np.asarray):
        with pytest.raises(BatchedAccess, match="one value per example"):
            cr.vmap(read)(xs)


def test_bad_axes_and_sizes_are_refused():
    xs, ys = cr.ones((3, 2)), cr.ones((4, 2))
    with pytest.raises(ValueError, match="different sizes"):
        cr.vmap(lambda x, y: x + y)(xs, ys)
    with pytest.raises(ValueError, match="maps no argument"):
        cr.vmap(lambda x: x, in_axes=None)(xs)
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        cr.vmap(lambda x, y: x, in_axes=(0,))(xs, xs)
    with pytest.raises(ValueError, match="axis 2 for an argument of shape"):
        cr.vmap(lambda x: x, in_axes=2)(xs)
    with pytest.raises(ValueError, match="out_axes is None for an output that differs"):
        cr.vmap(lambda x: x, out_axes=None)(xs)
    with pytest.raises(ValueError, match="length 0"):
        cr.vmap(lambda x: x)(cr.ones((0, 2)))
    with pytest.raises(ValueError, match="chunk_size"):
        cr.vmap(lambda x: x, chunk_size=0)


def test_a_batched_tensor_that_escapes_is_refused():
    kept = []
    cr.vmap(lambda x: kept.append(x) or x)(cr.ones((3, 2)))
    with pytest.raises(RuntimeError, match="escaped"):
        kept[0] + 1


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_positions_of_each_example(axis, keepdims):
    xs = cr.tensor(rng.normal(size=(3, 2, 4)))
    got = cr.vmap(lambda x: cr.argmax(x, axis=axis, keepdims=keepdims))(xs).numpy()
    assert_allclose(got, np.stack([np.argmax(v, axis=axis, keepdims=keepdims) for v in xs.numpy()]))
    got = cr.vmap(lambda x: x.argmin(axis, keepdims=keepdims))(xs).numpy()
    assert_allclose(got, np.stack([np.argmin(v, axis=axis, keepdims=keepdims) for v in xs.numpy()]))
    got = cr.vmap(lambda x: cr.argsort(x, axis=axis))(xs).numpy()
    assert_allclose(got, np.stack([np.argsort(v, axis=axis, kind="stable") for v in xs.numpy()]))


def test_functional_updates_custom_rules_and_tapes_inside_vmap():
    xs = cr.tensor(rng.normal(size=(4, 3)))
    x = xs.numpy()
    assert_allclose(cr.vmap(lambda v: v.at[0].add(10.0))(xs).numpy(), x + [10, 0, 0], **EXACT)
    assert_allclose(
        cr.vmap(lambda v: cr.zeros(2, dtype=np.float64).at[1].set(v[2]))(xs).numpy()[:, 1], x[:, 2], **EXACT
    )

    @cr.custom_vjp
    def f(v):
        return cr.sin(v)

    f.defvjp(lambda v: (cr.sin(v), v), lambda v, g: (2 * g * cr.cos(v),))  # a deliberately doubled rule
    got = cr.vmap(cr.grad(lambda v: cr.sum(f(v))))(xs)
    assert_allclose(got.numpy(), 2 * np.cos(x), **EXACT)

    def tape(v):
        with cr.GradientTape() as t:
            t.watch(v)
            y = cr.sum(v**3)
        return t.gradient(y, v)

    assert_allclose(cr.vmap(tape)(xs).numpy(), 3 * x**2, **EXACT)


def test_in_place_updates_of_batched_values_are_refused():
    xs = cr.tensor(rng.normal(size=(3, 2)))
    with pytest.raises(BatchedAccess, match="update in place"):
        cr.vmap(lambda v: v.add_(1.0))(xs)

    def write(v):
        out = cr.zeros(2)
        out[0] = v[1]
        return out

    with pytest.raises(BatchedAccess, match="update in place"):
        cr.vmap(write)(xs)


def test_torch_func_spellings_of_the_axes():
    W, xs = cr.tensor(rng.normal(size=(2, 3))), cr.tensor(rng.normal(size=(3, 5)))
    got = cr.vmap(lambda W, x: W @ x, in_dims=(None, 1), out_dims=1)(W, xs)
    assert_allclose(got.numpy(), W.numpy() @ xs.numpy(), **EXACT)
    with pytest.raises(TypeError, match="not both"):
        cr.vmap(lambda x: x, in_axes=1, in_dims=1)
