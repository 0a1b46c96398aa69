"""The notes' hand-derived gradients, checked on cr.nn's layers and models; every layer and
loss gradchecked in float64; the optimizers against PyTorch's update formulas, computed by
hand in NumPy, over 5 steps."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim
from chainrule.apps.models import relu_neuron, window_ner

RNG = np.random.default_rng(7)


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@contextlib.contextmanager
def float64_default():
    """Models built inside get float64 parameters."""
    before = cr.get_default_dtype()
    cr.set_default_dtype(np.float64)
    try:
        yield
    finally:
        cr.set_default_dtype(before)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ------------------------------------------------------------------ gradcheck in float64
def module_gradcheck(module: nn.Module, *inputs, eps: float = 1e-6) -> None:
    """Every parameter's gradient of L = Σ module(*inputs) ⊙ G against central differences
    (each parameter element nudged by ±eps), and the inputs' through cr.gradcheck."""
    G = RNG.normal(size=module(*inputs).shape)

    def loss() -> float:
        return float((module(*inputs).numpy() * G).sum())

    module.zero_grad()
    (module(*inputs) * G).sum().backward()
    for name, p in module.named_parameters():
        numeric = np.zeros(p.shape)
        for index in np.ndindex(*p.shape):
            saved = p.data[index]
            p.data[index] = saved + eps
            up = loss()
            p.data[index] = saved - eps
            numeric[index] = (up - loss()) / (2 * eps)
            p.data[index] = saved
        assert_allclose(np.asarray(p.grad), numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    floats = [x for x in inputs if isinstance(x, cr.Tensor) and x.requires_grad]
    if floats:
        assert cr.gradcheck(lambda *xs: (module(*xs) * G).sum(), floats)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.Linear(4, 3, seed=0, dtype=np.float64),
        lambda: nn.Linear(4, 3, bias=False, seed=0, dtype=np.float64),
        lambda: nn.ReLU(),
        lambda: nn.Sigmoid(),
        lambda: nn.Tanh(),
        lambda: nn.Sequential(
            nn.Linear(4, 5, seed=1, dtype=np.float64),
            nn.Tanh(),
            nn.Linear(5, 2, seed=2, dtype=np.float64),
            nn.Sigmoid(),
        ),
    ],
    ids=["linear", "linear-no-bias", "relu", "sigmoid", "tanh", "sequential"],
)
def test_layers_pass_gradcheck_in_float64(make):
    x = RNG.normal(size=(3, 4))
    x[np.abs(x) < 0.05] = 0.3  # keep away from relu's kink
    module_gradcheck(make(), leaf(x))


@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_passes_gradcheck_in_float64(sparse):
    E = nn.Embedding.from_pretrained(RNG.normal(size=(6, 3)), freeze=False, sparse=sparse)
    module_gradcheck(E, np.array([[1, 4], [4, 0]]))


def test_dropout_passes_gradcheck_with_a_fixed_mask():
    x = leaf(RNG.normal(size=(4, 5)))
    assert cr.gradcheck(lambda x: (F.dropout(x, 0.4, seed=3) * x).sum(), (x,))


@pytest.mark.parametrize(
    "loss",
    [
        lambda z: F.cross_entropy(z, np.array([2, 0, 1])),
        lambda z: F.cross_entropy(z, np.array([[0.2, 0.3, 0.5, 0], [1, 0, 0, 0], [0, 0, 0.5, 0.5]])),
        lambda z: F.cross_entropy(z, np.array([2, -100, 1]), weight=np.array([1.0, 2.0, 0.5, 3.0])),
        lambda z: F.cross_entropy(z, np.array([2, 0, 3]), reduction="sum"),
        lambda z: F.binary_cross_entropy_with_logits(z, np.eye(4)[[1, 0, 3]], pos_weight=5.0),
        lambda z: F.binary_cross_entropy_with_logits(z, np.eye(4)[[1, 0, 3]], reduction="sum"),
        lambda z: F.mse_loss(z, np.arange(12.0).reshape(3, 4) / 10),
        lambda z: (F.softmax(z) * np.arange(12.0).reshape(3, 4)).sum(),
        lambda z: (F.log_softmax(z, axis=0) * np.arange(12.0).reshape(3, 4)).sum(),
        lambda z: (F.linear(z, np.ones((2, 4)) / 3, np.array([0.5, -1.0])) ** 2).sum(),
    ],
    ids=[
        "ce-indices",
        "ce-probabilities",
        "ce-weight-ignore",
        "ce-sum",
        "bce-pos-weight",
        "bce-sum",
        "mse",
        "softmax",
        "log-softmax",
        "linear",
    ],
)
def test_losses_pass_gradcheck_in_float64(loss):
    assert cr.gradcheck(loss, (leaf(RNG.normal(size=(3, 4))),))


# ------------------------------------------------------------------ the notes' formulas
def test_linear_layer_gradients_are_the_notes_formulas():
    # z = Wx + b for each example (a row of X): with δ = ∂J/∂z, ∂J/∂W = Σᵢ δᵢ xᵢᵀ = Δᵀ X,
    # ∂J/∂b = Σᵢ δᵢ and ∂J/∂x = Wᵀ δ.
    layer = nn.Linear(4, 3, seed=5, dtype=np.float64)
    X = leaf(RNG.normal(size=(6, 4)))
    delta = RNG.normal(size=(6, 3))
    layer(X).backward(gradient=delta)
    W = layer.weight.numpy()
    assert_allclose(layer.weight.grad.numpy(), delta.T @ X.numpy(), rtol=1e-12)
    assert_allclose(layer.bias.grad.numpy(), delta.sum(axis=0), rtol=1e-12)
    assert_allclose(X.grad.numpy(), delta @ W, rtol=1e-12)
    one = leaf(X.numpy()[0])  # a single column vector x: ∂J/∂W = δ xᵀ, an outer product
    layer.zero_grad()
    layer(one).backward(gradient=delta[0])
    assert_allclose(layer.weight.grad.numpy(), np.outer(delta[0], one.numpy()), rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_gradient_is_the_windows_gradient_split_by_word(sparse):
    # x = [x_{w-2}; x_{w-1}; x_w; x_{w+1}; x_{w+2}]: the gradient of word vector v is the sum
    # of the 50-d (here 3-d) blocks of ∂J/∂x at the positions where v's word stands.
    E = nn.Embedding.from_pretrained(RNG.normal(size=(8, 3)), freeze=False, sparse=sparse)
    windows = np.array([[0, 2, 5, 2, 7], [2, 5, 7, 0, 0]])
    x = E(windows).reshape(2, -1)
    dx = RNG.normal(size=(2, 15))
    x.backward(gradient=dx)
    expected = np.zeros((8, 3))
    for window, g in zip(windows, dx):
        for position, word in enumerate(window):
            expected[word] += g[3 * position : 3 * position + 3]
    assert_allclose(np.asarray(E.weight.grad), expected, rtol=1e-12)
    assert_array_equal(np.asarray(E.weight.grad)[[1, 3, 4, 6]], 0.0)  # words not in any window


def test_relu_and_sigmoid_layers_pass_the_gradient_times_their_slope():
    z = leaf(RNG.normal(size=(4, 5)))
    g = RNG.normal(size=(4, 5))
    nn.ReLU()(z).backward(gradient=g)
    assert_allclose(z.grad.numpy(), g * (z.numpy() > 0))  # ∂J/∂z = ∂J/∂h ⊙ 1[z > 0]
    z.grad = None
    nn.Sigmoid()(z).backward(gradient=g)
    s = sigmoid(z.numpy())
    assert_allclose(z.grad.numpy(), g * s * (1 - s), rtol=1e-12)  # σ' = σ(1 − σ)


def test_single_hidden_layer_classifier_gradients_are_the_notes_formulas():
    # h = relu(W x + b₁), θ = U h + b₂, J = CE(softmax(θ), y) averaged over N examples:
    # δ₂ = (ŷ − y)/N, ∂J/∂U = δ₂ᵀ h, ∂J/∂b₂ = Σ δ₂, δ₁ = (δ₂ U) ⊙ 1[z > 0], ∂J/∂W = δ₁ᵀ x.
    net = nn.Sequential(
        nn.Linear(6, 5, seed=3, dtype=np.float64), nn.ReLU(), nn.Linear(5, 4, seed=4, dtype=np.float64)
    )
    x, y = RNG.normal(size=(8, 6)), RNG.integers(0, 4, 8)
    F.cross_entropy(net(x), y).backward()
    W, b1, U, b2 = (p.numpy() for p in net.parameters())
    z = x @ W.T + b1
    h = np.maximum(z, 0)
    theta = h @ U.T + b2
    y_hat = np.exp(theta - theta.max(axis=1, keepdims=True))
    y_hat /= y_hat.sum(axis=1, keepdims=True)
    delta2 = (y_hat - np.eye(4)[y]) / 8
    delta1 = (delta2 @ U) * (z > 0)
    grads = [p.grad.numpy() for p in net.parameters()]
    for got, want in zip(grads, [delta1.T @ x, delta1.sum(0), delta2.T @ h, delta2.sum(0)]):
        assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_window_classifier_score_gradients_are_the_notes_formulas():
    # s = uᵀ tanh(W x + b): ∂s/∂u = h, δ = u ⊙ (1 − h²), ∂s/∂b = δ, ∂s/∂W = δ xᵀ, ∂s/∂x = Wᵀδ,
    # and each word vector of the window gets its block of ∂s/∂x.
    vectors = RNG.normal(size=(10, 50))
    with float64_default():
        model = window_ner.WindowClassifier(vectors, hidden=7, outputs=1, rng=np.random.default_rng(0))
    model.eval()  # no dropout
    window = np.array([[0, 3, 9, 3, 1]])
    model(window).sum().backward()
    W, b, u = model.hidden.weight.numpy(), model.hidden.bias.numpy(), model.score.weight.numpy()[0]
    x = vectors[window[0]].reshape(-1)
    h = np.tanh(W @ x + b)
    delta = u * (1 - h**2)
    assert_allclose(model.score.weight.grad.numpy(), [h], rtol=1e-10)
    assert_allclose(model.hidden.bias.grad.numpy(), delta, rtol=1e-10)
    assert_allclose(model.hidden.weight.grad.numpy(), np.outer(delta, x), rtol=1e-10)
    dx = (W.T @ delta).reshape(5, 50)
    grad = np.asarray(model.words.weight.grad)
    assert_allclose(grad[3], dx[1] + dx[3], rtol=1e-10)  # word 3 stands twice in the window
    assert_allclose(grad[[0, 9, 1]], dx[[0, 2, 4]], rtol=1e-10)


def test_relu_neuron_gradient_is_two_over_n_sum_of_errors_times_inputs():
    # C = (1/N) Σ (relu(w·xᵢ + b) − yᵢ)²: dC/dw = (2/N) Σ_active eᵢ xᵢ, dC/db = (2/N) Σ_active eᵢ.
    with float64_default():
        neuron = relu_neuron.Neuron(3, np.random.default_rng(1))
    x, y = RNG.normal(size=(20, 3)), RNG.normal(size=20)
    F.mse_loss(neuron(x), y).backward()
    w, b = neuron.linear.weight.numpy()[0], neuron.linear.bias.numpy()[0]
    z = x @ w + b
    active = z > 0
    e = np.maximum(z, 0) - y
    assert 0 < active.sum() < 20
    assert_allclose(neuron.linear.weight.grad.numpy()[0], 2 / 20 * (e[active] @ x[active]), rtol=1e-10)
    assert_allclose(neuron.linear.bias.grad.numpy()[0], 2 / 20 * e[active].sum(), rtol=1e-10)


# ------------------------------------------------------------------ optimizers, 5 steps by hand
A = RNG.normal(size=(5, 4))
C = RNG.normal(size=5)
X0 = RNG.normal(size=4)


def objective(x):
    """f(x) = ‖Ax − c‖² + Σ x³/3, whose gradient 2Aᵀ(Ax − c) + x² changes every step."""
    return ((A @ x - C) ** 2).sum() + (x**3).sum() / 3


def gradient(x: np.ndarray) -> np.ndarray:
    return 2 * A.T @ (A @ x - C) + x**2


def sgd_by_hand(lr, momentum=0.0, weight_decay=0.0, nesterov=False, steps=5):
    """PyTorch's SGD: g ← ∇f + λx; b ← g on the first step, then μb + g; the step is
    g + μb (Nesterov) or b, and x ← x − lr·step."""
    x, b, path = X0.copy(), None, []
    for _ in range(steps):
        g = gradient(x) + weight_decay * x
        if momentum:
            b = g if b is None else momentum * b + g
            g = g + momentum * b if nesterov else b
        x = x - lr * g
        path.append(x)
    return np.array(path)


def adam_by_hand(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False, steps=5):
    """PyTorch's Adam (g ← ∇f + λx) and AdamW (x ← x − lr·λ·x first, g = ∇f):
    m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², x ← x − lr·m̂ / (√v̂ + ε) with
    m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)."""
    (b1, b2), x, path = betas, X0.copy(), []
    m, v = np.zeros_like(x), np.zeros_like(x)
    for t in range(1, steps + 1):
        g = gradient(x)
        if decoupled:
            x = x - lr * weight_decay * x
        else:
            g = g + weight_decay * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        path.append(x)
    return np.array(path)


def chainrule_path(make, steps=5):
    x = leaf(X0)
    opt = make([x])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        objective(x).backward()
        opt.step()
        path.append(x.numpy().copy())
    return np.array(path)


@pytest.mark.parametrize(
    ("make", "by_hand"),
    [
        (lambda p: optim.SGD(p, lr=0.01), lambda: sgd_by_hand(0.01)),
        (lambda p: optim.SGD(p, lr=0.01, momentum=0.9), lambda: sgd_by_hand(0.01, 0.9)),
        (
            lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
            lambda: sgd_by_hand(0.01, 0.9, nesterov=True),
        ),
        (
            lambda p: optim.SGD(p, lr=0.01, momentum=0.5, weight_decay=0.1),
            lambda: sgd_by_hand(0.01, 0.5, weight_decay=0.1),
        ),
        (lambda p: optim.Adam(p, lr=0.05), lambda: adam_by_hand(0.05)),
        (
            lambda p: optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.2),
            lambda: adam_by_hand(0.05, (0.8, 0.99), 1e-6, weight_decay=0.2),
        ),
        (lambda p: optim.AdamW(p, lr=0.05), lambda: adam_by_hand(0.05, weight_decay=0.01, decoupled=True)),
        (
            lambda p: optim.AdamW(p, lr=0.05, betas=(0.5, 0.9), weight_decay=0.3),
            lambda: adam_by_hand(0.05, (0.5, 0.9), weight_decay=0.3, decoupled=True),
        ),
    ],
    ids=["sgd", "momentum", "nesterov", "momentum-decay", "adam", "adam-decay", "adamw", "adamw-betas"],
)
def test_five_steps_follow_pytorchs_update_formulas(make, by_hand):
    ours, theirs = chainrule_path(make), by_hand()
    assert not np.allclose(ours[0], ours[-1])  # it moved
    assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
