"""Optimizers: trajectories worked out by hand on f(x) = x², and row-sparse updates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr
from chainrule import nn, optim


def run(make_optimizer, x0, steps, loss=lambda x: (x * x).sum()):
    """Minimise ``loss`` from x0 for ``steps`` steps; the iterates after each step."""
    x = cr.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    opt = make_optimizer([x])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss(x).backward()
        opt.step()
        path.append(x.numpy().copy())
    return np.array(path)


def test_plain_sgd_contracts_by_one_minus_two_lr_each_step():
    path = run(lambda p: optim.SGD(p, lr=0.1), [1.0, -3.0], 5)
    assert_allclose(path, [[0.8**k, -3 * 0.8**k] for k in range(1, 6)], rtol=1e-14)


def test_sgd_momentum_trajectory_by_hand():
    # g = 2x; b₁ = g₁ = 2, x₁ = 0.8; b₂ = 0.9·2 + 1.6 = 3.4, x₂ = 0.46;
    # b₃ = 0.9·3.4 + 0.92 = 3.98, x₃ = 0.46 − 0.398 = 0.062
    path = run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), [1.0], 3)
    assert_allclose(path[:, 0], [0.8, 0.46, 0.062], rtol=1e-12)


def test_sgd_nesterov_trajectory_by_hand():
    # b₁ = 2, step g + 0.9b = 3.8, x₁ = 0.62; g₂ = 1.24, b₂ = 1.8 + 1.24 = 3.04,
    # step 1.24 + 2.736 = 3.976, x₂ = 0.62 − 0.3976 = 0.2224
    path = run(lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), [1.0], 2)
    assert_allclose(path[:, 0], [0.62, 0.2224], rtol=1e-12)


def test_sgd_weight_decay_adds_lambda_x_to_the_gradient():
    # g = 2x + 0.5x = 2.5x, so x ← (1 − 0.25) x
    path = run(lambda p: optim.SGD(p, lr=0.1, weight_decay=0.5), [2.0], 2)
    assert_allclose(path[:, 0], [1.5, 1.125], rtol=1e-14)


def test_adam_first_step_moves_each_coordinate_by_lr():
    path = run(lambda p: optim.Adam(p, lr=0.1), [1.0, -5.0, 0.01], 1)
    g = np.array([2.0, -10.0, 0.02])
    assert_allclose(path[0], [1.0, -5.0, 0.01] - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


def test_adam_second_step_by_hand():
    # g₁ = 2: m₁ = 0.2, v₁ = 0.004, x₁ = 1 − 0.1·2/(2 + ε)
    x1 = 1 - 0.1 * 2 / (2 + 1e-8)
    g2 = 2 * x1
    m2 = 0.9 * 0.2 + 0.1 * g2
    v2 = 0.999 * 0.004 + 0.001 * g2**2
    x2 = x1 - 0.1 / (1 - 0.9**2) * m2 / (math.sqrt(v2) / math.sqrt(1 - 0.999**2) + 1e-8)
    path = run(lambda p: optim.Adam(p, lr=0.1), [1.0], 2)
    assert_allclose(path[:, 0], [x1, x2], rtol=1e-14)


def test_adam_with_zero_betas_is_sign_descent():
    path = run(lambda p: optim.Adam(p, lr=0.25, betas=(0.0, 0.0), eps=0.0), [1.0, -2.0], 3)
    assert_allclose(path, [[0.75, -1.75], [0.5, -1.5], [0.25, -1.25]], rtol=1e-15)


def test_adam_weight_decay_is_l2_and_adamw_decays_x_directly():
    # Adam, λ = 1: g = 2x + x = 3x. With betas 0 the step is lr·sign(g), as without decay.
    adam = run(lambda p: optim.Adam(p, lr=0.1, betas=(0.0, 0.0), eps=0.0, weight_decay=1.0), [1.0], 1)
    assert_allclose(adam[0], [0.9], rtol=1e-15)
    # AdamW, λ = 0.5: x ← x(1 − 0.1·0.5) − 0.1·sign(g) = 0.95 − 0.1
    adamw = run(lambda p: optim.AdamW(p, lr=0.1, betas=(0.0, 0.0), eps=0.0, weight_decay=0.5), [1.0], 1)
    assert_allclose(adamw[0], [0.85], rtol=1e-15)
    # In Adam the decay changes the moments: g₁ = 3, g₂ = 3·x₁, with β = (0.5, 0.5).
    x1 = 1 - 0.1 * 3 / 3
    m2, v2 = 0.5 * 0.5 * 3 + 0.5 * 3 * x1, 0.5 * 0.5 * 9 + 0.5 * 9 * x1**2
    x2 = x1 - 0.1 / 0.75 * m2 / math.sqrt(v2 / 0.75)
    path = run(lambda p: optim.Adam(p, lr=0.1, betas=(0.5, 0.5), eps=0.0, weight_decay=1.0), [1.0], 2)
    assert_allclose(path[:, 0], [x1, x2], rtol=1e-14)


def test_adamw_default_weight_decay_is_0_01():
    assert optim.AdamW([cr.zeros(1, requires_grad=True)]).weight_decay == 0.01
    assert optim.Adam([cr.zeros(1, requires_grad=True)]).weight_decay == 0.0


def test_step_skips_parameters_without_gradient_and_zero_grad_sets_none():
    a = cr.tensor([1.0], requires_grad=True)
    b = cr.tensor([1.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    assert a.item() == 0.0 and b.item() == 1.0 and b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_updates_are_in_place_on_the_parameter_data():
    layer = nn.Linear(3, 2, seed=0)
    data = layer.weight.data
    layer(cr.ones(1, 3)).sum().backward()
    optim.Adam(layer.parameters(), lr=0.1).step()
    assert layer.weight.data is data
    assert layer.weight.dtype == np.float32


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: optim.SGD(p, lr=-0.1), "invalid lr -0.1"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum"),
        (lambda p: optim.Adam(p, lr=-1.0), "invalid lr"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "betas"),
        (lambda p: optim.AdamW(p, eps=-1e-8), "eps"),
        (lambda p: optim.SGD([], lr=0.1), "empty"),
    ],
)
def test_bad_settings_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make([cr.zeros(1, requires_grad=True)])


def test_non_tensor_parameters_raise_type_error():
    with pytest.raises(TypeError, match="parameter 0"):
        optim.SGD([np.zeros(2)], lr=0.1)


# ------------------------------------------------------------------ row-sparse updates
def embedding_pair(seed=0):
    """A sparse and a dense embedding with the same initial weights."""
    weights = np.random.default_rng(seed).normal(size=(50, 4))
    sparse = nn.Embedding.from_pretrained(weights, freeze=False, sparse=True)
    dense = nn.Embedding.from_pretrained(weights, freeze=False, sparse=False)
    return weights, sparse, dense


@pytest.mark.parametrize(
    "make",
    [
        lambda p: optim.SGD(p, lr=0.1),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda p: optim.Adam(p, lr=0.05),
        lambda p: optim.Adam(p, lr=0.05, weight_decay=0.1),
        lambda p: optim.AdamW(p, lr=0.05, weight_decay=0.1),
    ],
    ids=["sgd", "momentum", "nesterov-decay", "adam", "adam-decay", "adamw"],
)
def test_sparse_update_moves_only_the_rows_used_as_the_dense_update_does(make):
    weights, sparse, dense = embedding_pair()
    opt_sparse, opt_dense = make(sparse.parameters()), make(dense.parameters())
    rows = np.array([[3, 17, 3], [17, 42, 3]])  # the same rows every step
    target = np.random.default_rng(1).normal(size=(2, 3, 4))
    for _ in range(4):
        for module, opt in ((sparse, opt_sparse), (dense, opt_dense)):
            opt.zero_grad()
            ((module(rows) - target) ** 2).sum().backward()
            opt.step()
    used = [3, 17, 42]
    untouched = np.setdiff1d(np.arange(50), used)
    assert_array_equal(sparse.weight.numpy()[untouched], weights[untouched])  # bit-identical
    assert_allclose(sparse.weight.numpy()[used], dense.weight.numpy()[used], rtol=1e-12)
    assert not np.allclose(sparse.weight.numpy()[used], weights[used])


def test_sparse_momentum_waits_for_a_row_to_be_used_again():
    weights, sparse, _ = embedding_pair()
    opt = optim.SGD(sparse.parameters(), lr=0.1, momentum=0.9)
    sparse(np.array([5])).sum().backward()
    opt.step()
    after_first = sparse.weight.numpy().copy()
    assert_allclose(after_first[5], weights[5] - 0.1)
    opt.zero_grad()
    sparse(np.array([6])).sum().backward()
    opt.step()
    assert_array_equal(sparse.weight.numpy()[5], after_first[5])  # no gradient: row 5 stays
    assert_allclose(sparse.weight.numpy()[6], weights[6] - 0.1)
    opt.zero_grad()
    sparse(np.array([5])).sum().backward()
    opt.step()
    assert_allclose(sparse.weight.numpy()[5], after_first[5] - 0.1 * (0.9 * 1 + 1))


# ------------------------------------------------------------------ against PyTorch
@pytest.mark.reference
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1}),
        ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
        ("Adam", {"lr": 0.02, "betas": (0.8, 0.95), "weight_decay": 0.2}),
        ("AdamW", {"lr": 0.02, "weight_decay": 0.3}),
    ],
)
def test_trajectories_match_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    A, x0 = rng.normal(size=(4, 4)), rng.normal(size=4)

    def loss(x, lib, A):
        return lib.sum((A @ x) ** 2) + lib.sum(x**3)

    ours = run(lambda p: getattr(optim, name)(p, **kwargs), x0, 6, loss=lambda x: loss(x, cr, A))
    xt = torch.tensor(x0, requires_grad=True)
    opt = getattr(torch.optim, name)([xt], **kwargs)
    theirs = []
    for _ in range(6):
        opt.zero_grad()
        loss(xt, torch, torch.tensor(A)).backward()
        opt.step()
        theirs.append(xt.detach().numpy().copy())
    assert_allclose(ours, np.array(theirs), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("blas", [True, False], ids=["blas", "numpy"])
def test_axpy_adds_in_place_for_every_layout_and_dtype(blas, monkeypatch):
    from chainrule.optim import axpy as module

    if blas:
        pytest.importorskip("scipy")
    else:
        monkeypatch.setattr(module, "_BLAS", {})
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64, np.int64):
        base = (rng.standard_normal((6, 4)) * 10).astype(dtype)
        for x, y in [
            (base.copy(), base.copy()),  # both C
            (np.asfortranarray(base), np.asfortranarray(base)),  # both F
            (base.copy(), np.asfortranarray(base)),  # mixed
            (base.copy()[:, ::2], base.copy()[:, 1::2]),  # strided views
            (np.array(base[0, 0]), np.array(base[1, 1])),
        ]:  # 0-d
            a = -2 if dtype is np.int64 else -0.25
            expected = x + a * y
            target = x
            out = module.axpy(a, y, x)
            assert out is target
            assert_allclose(x, expected, rtol=1e-6)


def test_sgd_update_equals_the_formula_with_or_without_blas(monkeypatch):
    from chainrule.optim import axpy as module

    rng = np.random.default_rng(1)
    w0, g = rng.standard_normal((5, 3)).astype(np.float32), rng.standard_normal((5, 3)).astype(np.float32)
    results = []
    for routines in (None, {}):
        monkeypatch.setattr(module, "_BLAS", routines)
        w = cr.tensor(w0.copy(), requires_grad=True)
        (w * cr.tensor(g)).sum().backward()
        cr.optim.SGD([w], lr=0.1).step()
        results.append(w.numpy())
    assert_allclose(results[0], w0 - np.float32(0.1) * g, rtol=1e-6)
    assert_allclose(results[1], w0 - np.float32(0.1) * g, rtol=1e-6)
