"""Losses and layer functions: closed-form values, closed-form gradients, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.nn.functional as F

RNG = np.random.default_rng(0)


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def softmax_np(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_rows_sum_to_one_and_match_the_closed_form():
    z = RNG.normal(size=(4, 5))
    p = F.softmax(cr.tensor(z))
    assert_allclose(p.numpy(), softmax_np(z), rtol=1e-12)
    assert_allclose(F.softmax(cr.tensor(z), axis=0).numpy(), softmax_np(z, axis=0), rtol=1e-12)


def test_log_softmax_is_finite_and_exact_for_huge_logits_in_float32():
    z = cr.tensor([1000.0, 1000.0, -1000.0])
    out = F.log_softmax(z).numpy()
    assert out.dtype == np.float32
    assert_allclose(out[:2], [-np.log(2)] * 2, rtol=1e-6)
    assert out[2] == pytest.approx(-2000 - np.log(2), rel=1e-6)


def test_log_softmax_gradient_passes_gradcheck_along_each_axis():
    z = leaf(RNG.normal(size=(3, 4)))
    w = RNG.normal(size=(3, 4))
    assert cr.gradcheck(lambda z: (F.log_softmax(z) * w).sum(), (z,))
    assert cr.gradcheck(lambda z: (F.log_softmax(z, axis=0) * w).sum(), (z,))
    assert cr.gradcheck(lambda z: (F.softmax(z) * w).sum(), (z,))


def test_cross_entropy_value_is_mean_negative_log_likelihood():
    z = RNG.normal(size=(5, 3))
    y = np.array([0, 2, 1, 1, 0])
    loss = F.cross_entropy(cr.tensor(z), y)
    expected = -np.mean(np.log(softmax_np(z))[np.arange(5), y])
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_gradient_is_prediction_minus_one_hot_over_batch():
    z0 = RNG.normal(size=(6, 4))
    y = np.array([3, 0, 1, 1, 2, 0])
    z = leaf(z0)
    F.cross_entropy(z, y).backward()
    assert_allclose(z.grad.numpy(), (softmax_np(z0) - np.eye(4)[y]) / 6, atol=1e-14)


def test_cross_entropy_with_probability_targets_has_gradient_p_minus_target():
    z0 = RNG.normal(size=(3, 4))
    target = softmax_np(RNG.normal(size=(3, 4)))
    z = leaf(z0)
    loss = F.cross_entropy(z, target)
    loss.backward()
    assert loss.item() == pytest.approx(-np.mean(np.sum(target * np.log(softmax_np(z0)), axis=1)))
    assert_allclose(z.grad.numpy(), (softmax_np(z0) - target) / 3, atol=1e-14)


def test_cross_entropy_class_weights_and_ignore_index_follow_pytorch_mean():
    z0 = RNG.normal(size=(4, 3))
    y = np.array([0, 2, -100, 2])
    w = np.array([1.0, 2.0, 0.5])
    logp = np.log(softmax_np(z0))
    kept = [0, 1, 3]
    expected = -sum(w[y[i]] * logp[i, y[i]] for i in kept) / sum(w[y[i]] for i in kept)
    z = leaf(z0)
    loss = F.cross_entropy(z, y, weight=w)
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    loss.backward()
    assert_allclose(z.grad.numpy()[2], 0.0)  # the ignored example gets no gradient
    assert cr.gradcheck(lambda z: F.cross_entropy(z, y, weight=w), (z,))


def test_cross_entropy_reductions_and_a_single_example():
    z0 = RNG.normal(size=(4, 3))
    y = np.array([0, 1, 2, 1])
    per_example = -np.log(softmax_np(z0))[np.arange(4), y]
    assert_allclose(F.cross_entropy(cr.tensor(z0), y, reduction="none").numpy(), per_example)
    assert F.cross_entropy(cr.tensor(z0), y, reduction="sum").item() == pytest.approx(per_example.sum())
    single = F.cross_entropy(cr.tensor(z0[1]), np.array(1))
    assert single.item() == pytest.approx(per_example[1])


def test_cross_entropy_classes_on_axis_1_of_a_sequence_batch():
    z0 = RNG.normal(size=(2, 3, 5))  # (N, C, length), as PyTorch lays it out
    y = RNG.integers(0, 3, size=(2, 5))
    logp = np.log(softmax_np(z0, axis=1))
    expected = -np.mean(np.take_along_axis(logp, y[:, None, :], axis=1))
    assert F.cross_entropy(cr.tensor(z0), y).item() == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_is_twice_differentiable():
    z = leaf(RNG.normal(size=(2, 3)))
    y = np.array([1, 2])
    (g,) = cr.autograd.grad(F.cross_entropy(z, y), z, create_graph=True)
    v = RNG.normal(size=(2, 3))
    (hv,) = cr.autograd.grad((g * v).sum(), z)
    # The Hessian of mean CE is blockdiag(diag(p) − ppᵀ)/N.
    p = softmax_np(z.numpy())
    expected = np.stack([(np.diag(p[i]) - np.outer(p[i], p[i])) @ v[i] for i in range(2)]) / 2
    assert_allclose(hv.numpy(), expected, atol=1e-12)


def test_cross_entropy_rejects_bad_targets():
    z = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="outside the 3 classes"):
        F.cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        F.cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, np.array([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(z, np.array([0, 1]), weight=np.ones(2))


def test_nll_loss_is_minus_the_weighted_log_probability_of_each_target():
    logp0 = np.log(softmax_np(RNG.normal(size=(5, 4))))
    y = np.array([3, -100, 1, 1, 0])
    w = np.array([0.5, 2.0, 1.0, 3.0])
    kept = [0, 2, 3, 4]
    per_example = np.array([-w[y[i]] * logp0[i, y[i]] if i in kept else 0.0 for i in range(5)])
    assert_allclose(F.nll_loss(cr.tensor(logp0), y, w, reduction="none").numpy(), per_example, rtol=1e-12)
    assert F.nll_loss(cr.tensor(logp0), y, w, reduction="sum").item() == pytest.approx(per_example.sum())
    logp = leaf(logp0)
    loss = F.nll_loss(logp, y, w)
    assert loss.item() == pytest.approx(per_example.sum() / sum(w[y[i]] for i in kept), rel=1e-12)
    loss.backward()
    expected = np.zeros((5, 4))
    for i in kept:
        expected[i, y[i]] = -w[y[i]] / sum(w[y[j]] for j in kept)
    assert_allclose(logp.grad.numpy(), expected, rtol=1e-12)


def test_nll_loss_of_log_softmax_is_cross_entropy_and_keeps_float32():
    z = RNG.normal(size=(6, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 2, 1, 0])
    loss = F.nll_loss(F.log_softmax(cr.tensor(z)), y)
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(F.cross_entropy(cr.tensor(z), y).item(), rel=1e-6)


def test_nll_loss_rejects_bad_targets_naming_the_function_called():
    logp = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(IndexError, match="nll_loss: a target is outside the 3 classes"):
        F.nll_loss(logp, np.array([0, -1]))
    with pytest.raises(ValueError, match=r"nll_loss: class-index targets must be integers of shape \(2,\)"):
        F.nll_loss(logp, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="cross_entropy: reduction"):
        F.cross_entropy(logp, np.array([0, 1]), reduction="avg")


def test_binary_cross_entropy_with_logits_is_stable_and_matches_the_formula():
    x0 = np.array([-30.0, -1.0, 0.0, 2.0, 40.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    pw = 3.0
    s = 1 / (1 + np.exp(-x0))
    # −log σ(x) = log(1 + e⁻ˣ) and −log(1 − σ(x)) = log(1 + eˣ), evaluated without overflow
    expected = pw * y * np.logaddexp(0, -x0) + (1 - y) * np.logaddexp(0, x0)
    x = leaf(x0)
    loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="none")
    assert_allclose(loss.numpy(), expected, rtol=1e-9)
    F.binary_cross_entropy_with_logits(x, y).backward()
    assert_allclose(x.grad.numpy(), (s - y) / 5, atol=1e-15)  # gradient σ(x) − y, mean over 5


def test_binary_cross_entropy_weight_and_pos_weight_pass_gradcheck():
    x = leaf(RNG.normal(size=(3, 2)))
    y = RNG.integers(0, 2, size=(3, 2)).astype(float)
    assert cr.gradcheck(
        lambda x: F.binary_cross_entropy_with_logits(
            x, y, weight=np.array([0.5, 2.0]), pos_weight=np.array([1.5, 0.25])
        ),
        (x,),
    )


def test_mse_loss_reductions_and_gradient():
    a0, b0 = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    a = leaf(a0)
    F.mse_loss(a, b0).backward()
    assert_allclose(a.grad.numpy(), 2 * (a0 - b0) / 6)
    assert F.mse_loss(cr.tensor(a0), b0, reduction="sum").item() == pytest.approx(np.sum((a0 - b0) ** 2))
    assert_allclose(F.mse_loss(cr.tensor(a0), b0, reduction="none").numpy(), (a0 - b0) ** 2)


def test_linear_is_x_times_w_transposed_plus_b():
    x0, W0, b0 = RNG.normal(size=(4, 3)), RNG.normal(size=(2, 3)), RNG.normal(size=2)
    x, W, b = leaf(x0), leaf(W0), leaf(b0)
    out = F.linear(x, W, b)
    assert_allclose(out.numpy(), x0 @ W0.T + b0)
    g = RNG.normal(size=(4, 2))
    out.backward(gradient=g)
    assert_allclose(W.grad.numpy(), g.T @ x0)
    assert_allclose(x.grad.numpy(), g @ W0)
    assert_allclose(b.grad.numpy(), g.sum(axis=0))
    assert_allclose(F.linear(x0, W0).numpy(), x0 @ W0.T)


def test_a_linear_layer_is_one_node_whose_rules_pass_gradcheck_for_any_leading_axes():
    W, b = leaf(RNG.normal(size=(2, 3))), leaf(RNG.normal(size=2))
    assert F.linear(leaf(RNG.normal(size=(4, 3))), W, b).grad_fn.name == "AffineBackward"
    for shape in [(3,), (4, 3), (2, 4, 3)]:
        x = leaf(RNG.normal(size=shape))
        assert cr.gradcheck(lambda x, W, b: F.linear(x, W, b), (x, W, b))


def test_linear_promotes_like_x_times_w_transposed_plus_b():
    x, W = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)
    assert F.linear(cr.tensor(x), cr.tensor(W), cr.tensor(np.ones(4))).dtype == np.float64
    assert F.linear(cr.tensor(x), cr.tensor(W), cr.tensor(np.ones(4, np.float32))).dtype == np.float32
    with pytest.raises(ValueError, match=r"affine: .* got x \(2, 3\), W \(4, 3\), b \(3,\)"):
        F.linear(cr.tensor(x), cr.tensor(W), cr.tensor(np.ones(3, np.float32)))


@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_gradient_sums_repeated_rows_and_is_zero_elsewhere(sparse):
    E0 = RNG.normal(size=(6, 3))
    idx = np.array([[1, 4], [4, 4]])
    E = leaf(E0)
    out = F.embedding(idx, E, sparse=sparse)
    assert_allclose(out.numpy(), E0[idx])
    g = RNG.normal(size=(2, 2, 3))
    out.backward(gradient=g)
    expected = np.zeros((6, 3))
    expected[1] = g[0, 0]
    expected[4] = g[0, 1] + g[1, 0] + g[1, 1]
    assert_allclose(np.asarray(E.grad), expected)


def test_dense_embedding_is_a_plain_integer_getitem():
    E = leaf(RNG.normal(size=(5, 2)))
    assert F.embedding(np.array([0, 3]), E).grad_fn.name == "GetitemBackward"
    assert F.embedding(np.array([0, 3]), E, sparse=True).grad_fn.name == "GatherRowsBackward"


def test_embedding_rejects_float_indices_and_rows_out_of_range():
    E = leaf(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="integers"):
        F.embedding(np.array([0.5]), E)
    with pytest.raises(IndexError, match="out of range"):
        F.embedding(np.array([3]), E, sparse=True)


def test_dropout_keeps_expectation_and_is_identity_when_not_training():
    x = cr.ones(20000, dtype=np.float64)
    y = F.dropout(x, p=0.3, seed=1).numpy()
    assert set(np.unique(y)) <= {0.0, 1 / 0.7}
    assert abs(np.mean(y == 0) - 0.3) < 0.02
    assert F.dropout(x, p=0.3, training=False) is x
    assert_allclose(F.dropout(x, p=1.0, seed=0).numpy(), 0.0)
    assert_allclose(F.dropout(x, p=0.3, seed=5).numpy(), F.dropout(x, p=0.3, seed=5).numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, p=1.5)


def test_dropout_gradient_is_the_mask():
    x = leaf(np.ones(50))
    y = F.dropout(x, p=0.5, seed=3)
    y.sum().backward()
    assert_allclose(x.grad.numpy(), y.numpy())
