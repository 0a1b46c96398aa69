"""Gradients of small compositions cross-checked against PyTorch (run with ``-m reference``).

Each case is one function written twice over the same float64 inputs, once on
chainrule and once on torch; values and gradients must agree.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import chainrule as cr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.reference

TARGETS = np.array([2, 0, 1, 2])
INDEX = np.array([0, 2, 0, 3, 3])


def mlp(lib, x, w1, b1, w2):
    h = lib.tanh(x @ w1 + b1)
    return (lib.sigmoid(h @ w2) ** 2).sum()


def softmax_cross_entropy(lib, logits):
    if lib is torch:
        return torch.nn.functional.cross_entropy(logits, torch.from_numpy(TARGETS))
    rows = np.arange(len(TARGETS))
    return (cr.logsumexp(logits, axis=1) - logits[rows, TARGETS]).mean()


def layers_and_losses(lib, x, w1, b1, w2, b2):
    """Two linear layers, then cross-entropy with class weights and an ignored example,
    plus nll_loss of log_softmax with reduction "sum"."""
    F = torch.nn.functional if lib is torch else cr.nn.functional
    targets = np.array([1, -100, 0, 1])
    if lib is torch:
        targets = torch.from_numpy(targets)
    weight = torch.tensor([0.5, 2.0], dtype=torch.float64) if lib is torch else np.array([0.5, 2.0])
    logits = F.linear(lib.tanh(F.linear(x, w1, b1)), w2, b2)
    return F.cross_entropy(logits, targets, weight=weight) + F.nll_loss(
        F.log_softmax(logits, 1), targets, reduction="sum"
    )


def broadcasting(lib, a, b, c):
    return (lib.exp(a * b + c) / (1.0 + b * b)).sum()


def indexing(lib, x, w):
    picked = x[INDEX] if lib is cr else x[torch.from_numpy(INDEX)]
    return (picked * w).sum() + (x[1:, ::2] ** 2).sum() + x[-1, 0] * 3.0


def reductions(lib, x):
    if lib is torch:
        return (
            x.amax(dim=1).sum()
            + x.amin(dim=0).sum()
            + x.mean()
            + x.var(dim=0, correction=0).sum()
            + x.std(dim=1, correction=0).sum()
            + x.prod(dim=1).sum()
            + torch.logsumexp(x, dim=0).sum()
        )
    return (
        cr.max(x, axis=1).sum()
        + cr.min(x, axis=0).sum()
        + cr.mean(x)
        + cr.var(x, axis=0).sum()
        + cr.std(x, axis=1).sum()
        + cr.prod(x, axis=1).sum()
        + cr.logsumexp(x, axis=0).sum()
    )


def elementwise(lib, x):
    softplus = cr.softplus if lib is cr else torch.nn.functional.softplus
    return (lib.log(lib.abs(x) + 1.0) * lib.sin(x) + lib.sqrt(x * x + 1.0) + softplus(x)).sum()


def shapes(lib, x, y):
    if lib is torch:
        joined = torch.cat([x.reshape(3, 4).T, y], dim=1)
    else:
        joined = cr.concatenate([x.reshape(3, 4).T, y], axis=1)
    return (joined @ joined.T).sum() + lib.maximum(x, 0.2 * x).sum()


CASES = {
    "mlp": (mlp, [(4, 3), (3, 5), (5,), (5, 2)]),
    "softmax_cross_entropy": (softmax_cross_entropy, [(4, 3)]),
    "layers_and_losses": (layers_and_losses, [(4, 3), (5, 3), (5,), (2, 5), (2,)]),
    "broadcasting": (broadcasting, [(3, 1), (1, 4), (2, 3, 4)]),
    "indexing": (indexing, [(4, 3), (5, 3)]),
    "reductions": (reductions, [(3, 4)]),
    "elementwise": (elementwise, [(2, 5)]),
    "shapes": (shapes, [(12,), (4, 2)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_agree_with_torch(name):
    fn, input_shapes = CASES[name]
    rng = np.random.default_rng(sorted(CASES).index(name))
    arrays = [rng.uniform(0.2, 1.5, s) * rng.choice([-1.0, 1.0], s) for s in input_shapes]

    ours = [cr.tensor(a, requires_grad=True) for a in arrays]
    value = fn(cr, *ours)
    value.backward()

    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    expected = fn(torch, *theirs)
    expected.backward()

    assert_allclose(value.item(), expected.item(), rtol=1e-10)
    for mine, ref in zip(ours, theirs):
        assert mine.grad.shape == tuple(ref.shape)
        assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_hessian_vector_product_agrees_with_torch():
    rng = np.random.default_rng(99)
    a, v = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))

    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.autograd.grad((cr.tanh(x) ** 3).sum() * cr.sum(x * x), x, create_graph=True)
    (hv,) = cr.autograd.grad((g * v).sum(), x)

    t = torch.tensor(a, requires_grad=True)
    (tg,) = torch.autograd.grad((torch.tanh(t) ** 3).sum() * (t * t).sum(), t, create_graph=True)
    (thv,) = torch.autograd.grad((tg * torch.from_numpy(v)).sum(), t)

    assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-10)
    assert_allclose(hv.numpy(), thv.numpy(), rtol=1e-9, atol=1e-12)
