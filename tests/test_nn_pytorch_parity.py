"""The nn pieces every PyTorch tutorial uses give PyTorch's numbers (float64): values and
gradients of each function and module, state dicts that load into the torch model and
back, hooks called with PyTorch's arguments, and misuse refused naming what is wrong."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.reference

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 5)) * 2
Y = RNG.normal(size=(4, 5))
PROBS = RNG.uniform(0.05, 0.95, size=(4, 5))
TARGETS01 = RNG.uniform(0, 1, size=(4, 5))
LABELS = np.array([0, 3, 4, 1])
LABELS_IGNORED = np.array([0, -100, 4, 1])
CLASS_WEIGHT = np.array([1.0, 2.0, 0.5, 1.5, 3.0])
SOFT = np.exp(Y) / np.exp(Y).sum(axis=1, keepdims=True)


def _ours(fn, arrays, differentiable):
    xs = [
        cr.tensor(a, requires_grad=(i in differentiable)) if a.dtype.kind == "f" else a
        for i, a in enumerate(arrays)
    ]
    out = fn(*xs)
    g = RNG.normal(size=out.shape) if out.ndim else np.array(1.0)
    out.backward(cr.tensor(g))
    return out.numpy(), [xs[i].grad.numpy() for i in differentiable], g


def _theirs(fn, arrays, differentiable, g):
    xs = [
        torch.tensor(a, requires_grad=(i in differentiable)) if a.dtype.kind == "f" else torch.tensor(a)
        for i, a in enumerate(arrays)
    ]
    out = fn(*xs)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), [xs[i].grad.numpy() for i in differentiable]


# name -> (ours, theirs, arrays, indices of the arrays differentiated)
FUNCTIONS = {
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda x: TF.leaky_relu(x, 0.1), [X], [0]),
    "elu": (lambda x: F.elu(x, alpha=0.7), lambda x: TF.elu(x, alpha=0.7), [X], [0]),
    "gelu": (F.gelu, TF.gelu, [X], [0]),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        [X],
        [0],
    ),
    "silu": (F.silu, TF.silu, [X], [0]),
    "softplus": (F.softplus, TF.softplus, [X], [0]),
    "softplus_beta_threshold": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: TF.softplus(x, beta=2.0, threshold=3.0),
        [X],
        [0],
    ),
    "softmax_dim0": (lambda x: F.softmax(x, dim=0), lambda x: TF.softmax(x, dim=0), [X], [0]),
    "log_softmax_dim1": (lambda x: F.log_softmax(x, dim=1), lambda x: TF.log_softmax(x, dim=1), [X], [0]),
    "layer_norm": (
        lambda x, w, b: F.layer_norm(x, (5,), w, b, eps=1e-3),
        lambda x, w, b: TF.layer_norm(x, (5,), w, b, eps=1e-3),
        [X, Y[0], Y[1]],
        [0, 1, 2],
    ),
    "layer_norm_2d": (
        lambda x: F.layer_norm(x, (4, 5)),
        lambda x: TF.layer_norm(x, (4, 5)),
        [X[None] * np.arange(1, 4)[:, None, None]],
        [0],
    ),
    "flatten": (
        lambda x: F.flatten(x, 1),
        lambda x: torch.flatten(x, 1),
        [RNG.normal(size=(2, 3, 4))],
        [0],
    ),
    "dropout_eval": (
        lambda x: F.dropout(x, 0.3, training=False),
        lambda x: TF.dropout(x, 0.3, False),
        [X],
        [0],
    ),
    "mse_loss": (F.mse_loss, TF.mse_loss, [X, Y], [0, 1]),
    "mse_loss_sum": (
        lambda x, y: F.mse_loss(x, y, reduction="sum"),
        lambda x, y: TF.mse_loss(x, y, reduction="sum"),
        [X, Y],
        [0, 1],
    ),
    "mse_loss_weight": (
        lambda x, y, w: F.mse_loss(x, y, weight=w),
        lambda x, y, w: TF.mse_loss(x, y, weight=w),
        [X, Y, PROBS],
        [0, 1],
    ),
    "l1_loss": (F.l1_loss, TF.l1_loss, [X, Y], [0, 1]),
    "l1_loss_none": (
        lambda x, y: F.l1_loss(x, y, reduction="none"),
        lambda x, y: TF.l1_loss(x, y, reduction="none"),
        [X, Y],
        [0, 1],
    ),
    "l1_loss_weight": (
        lambda x, y, w: F.l1_loss(x, y, weight=w),
        lambda x, y, w: TF.l1_loss(x, y, weight=w),
        [X, Y, PROBS],
        [0, 1],
    ),
    "huber_loss": (
        lambda x, y: F.huber_loss(x, y, delta=0.7),
        lambda x, y: TF.huber_loss(x, y, delta=0.7),
        [X, Y],
        [0, 1],
    ),
    "huber_loss_weight": (
        lambda x, y, w: F.huber_loss(x, y, delta=0.7, weight=w),
        lambda x, y, w: TF.huber_loss(x, y, delta=0.7, weight=w),
        [X, Y, PROBS],
        [0, 1],
    ),
    "smooth_l1_loss": (
        lambda x, y: F.smooth_l1_loss(x, y, beta=0.5, reduction="sum"),
        lambda x, y: TF.smooth_l1_loss(x, y, beta=0.5, reduction="sum"),
        [X, Y],
        [0, 1],
    ),
    "smooth_l1_loss_beta0": (
        lambda x, y: F.smooth_l1_loss(x, y, beta=0.0),
        lambda x, y: TF.smooth_l1_loss(x, y, beta=0.0),
        [X, Y],
        [0, 1],
    ),
    "binary_cross_entropy": (
        lambda x, y, w: F.binary_cross_entropy(x, y, w),
        lambda x, y, w: TF.binary_cross_entropy(x, y, w),
        [PROBS, TARGETS01, CLASS_WEIGHT],
        [0, 1],
    ),
    "binary_cross_entropy_with_logits": (
        lambda x, y, p: F.binary_cross_entropy_with_logits(x, y, pos_weight=p, reduction="sum"),
        lambda x, y, p: TF.binary_cross_entropy_with_logits(x, y, pos_weight=p, reduction="sum"),
        [X, TARGETS01, CLASS_WEIGHT],
        [0, 1],
    ),
    "kl_div_batchmean": (
        lambda x, y: F.kl_div(F.log_softmax(x, dim=1), y, reduction="batchmean"),
        lambda x, y: TF.kl_div(TF.log_softmax(x, dim=1), y, reduction="batchmean"),
        [X, np.where(SOFT > 0.3, 0.0, SOFT)],
        [0],  # at a target of 0 PyTorch's target gradient is NaN, chainrule's 0
    ),
    "kl_div_sum": (
        lambda x, y: F.kl_div(F.log_softmax(x, dim=1), y, reduction="sum"),
        lambda x, y: TF.kl_div(TF.log_softmax(x, dim=1), y, reduction="sum"),
        [X, SOFT],
        [0, 1],
    ),
    "kl_div_log_target": (
        lambda x, y: F.kl_div(x, y, reduction="sum", log_target=True),
        lambda x, y: TF.kl_div(x, y, reduction="sum", log_target=True),
        [X, Y],
        [0, 1],
    ),
    "nll_loss_weight_ignore": (
        lambda x: F.nll_loss(x, LABELS_IGNORED, CLASS_WEIGHT),
        lambda x: TF.nll_loss(x, torch.tensor(LABELS_IGNORED), torch.tensor(CLASS_WEIGHT)),
        [X],
        [0],
    ),
    "cross_entropy": (
        lambda x: F.cross_entropy(x, LABELS),
        lambda x: TF.cross_entropy(x, torch.tensor(LABELS)),
        [X],
        [0],
    ),
    "cross_entropy_label_smoothing": (
        lambda x: F.cross_entropy(x, LABELS, label_smoothing=0.2),
        lambda x: TF.cross_entropy(x, torch.tensor(LABELS), label_smoothing=0.2),
        [X],
        [0],
    ),
    "cross_entropy_smoothing_weight_ignore": (
        lambda x: F.cross_entropy(x, LABELS_IGNORED, CLASS_WEIGHT, label_smoothing=0.3),
        lambda x: TF.cross_entropy(
            x, torch.tensor(LABELS_IGNORED), torch.tensor(CLASS_WEIGHT), label_smoothing=0.3
        ),
        [X],
        [0],
    ),
    "cross_entropy_smoothing_none": (
        lambda x: F.cross_entropy(x, LABELS_IGNORED, CLASS_WEIGHT, reduction="none", label_smoothing=0.3),
        lambda x: TF.cross_entropy(
            x, torch.tensor(LABELS_IGNORED), torch.tensor(CLASS_WEIGHT), reduction="none", label_smoothing=0.3
        ),
        [X],
        [0],
    ),
    "cross_entropy_probabilities_smoothing": (
        lambda x, p: F.cross_entropy(x, p, label_smoothing=0.25),
        lambda x, p: TF.cross_entropy(x, p, label_smoothing=0.25),
        [X, SOFT],
        [0, 1],
    ),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_values_and_gradients_match_pytorch(name):
    ours, theirs, arrays, differentiable = FUNCTIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads, g = _ours(ours, arrays, differentiable)
        want, want_grads = _theirs(theirs, arrays, differentiable, g)
    assert value.shape == want.shape
    assert_allclose(value, want, rtol=1e-10, atol=1e-12)
    for got, expected in zip(grads, want_grads):
        assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "dropout_eval"])
def test_function_passes_gradcheck(name):
    ours, _, arrays, differentiable = FUNCTIONS[name]
    if name == "smooth_l1_loss_beta0" or name.startswith("l1_loss"):
        arrays = [arrays[0] + 0.5 * np.sign(arrays[0] - arrays[1]), *arrays[1:]]  # away from the kink
    xs = [
        cr.tensor(a, requires_grad=i in differentiable) if a.dtype.kind == "f" else a
        for i, a in enumerate(arrays)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cr.gradcheck(ours, xs)


@pytest.mark.parametrize("x", [-30.0, -8.0, -3.0, -1e-3, 0.0, 1e-3, 2.9, 5.0, 40.0])
def test_exact_gelu_matches_pytorch_far_into_both_tails(x):
    """Φ comes from an expansion per range; the far left keeps its relative precision
    (closer to x Φ(x) there than PyTorch's ½x(1 + erf(x/√2)), which cancels to 0)."""
    got = F.gelu(cr.tensor(np.array([x]))).numpy()
    want = TF.gelu(torch.tensor([x], dtype=torch.float64)).numpy()
    assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    exact = x * 0.5 * math.erfc(-x / math.sqrt(2))
    assert_allclose(got, exact, rtol=1e-12, atol=0)


@pytest.mark.parametrize("x", [-1.0, 0.0, 1.0])
def test_slopes_at_the_kink_are_pytorchs(x):
    for ours, theirs in [
        (lambda t: F.leaky_relu(t, 0.2), lambda t: TF.leaky_relu(t, 0.2)),
        (lambda t: F.elu(t, 0.5), lambda t: TF.elu(t, 0.5)),
    ]:
        a = cr.tensor(np.array(x), requires_grad=True)
        ours(a).backward()
        b = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        theirs(b).backward()
        assert a.grad.item() == pytest.approx(b.grad.item(), rel=1e-12)


def test_activations_have_second_derivatives_of_pytorch():
    x = X[0]
    for name in ("gelu", "silu", "elu"):
        ours = getattr(F, name)
        theirs = getattr(TF, name)
        h = cr.hessian(lambda t, f=ours: f(t).sum())(cr.tensor(x)).numpy()
        want = torch.autograd.functional.hessian(lambda t, f=theirs: f(t).sum(), torch.tensor(x)).numpy()
        assert_allclose(h, want, rtol=1e-9, atol=1e-12, err_msg=name)


# ------------------------------------------------------------------ modules
def _copy_into_torch(ours, theirs):
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})


MODULES = {
    "LeakyReLU": (lambda m: m.LeakyReLU(0.2), [X]),
    "ELU": (lambda m: m.ELU(alpha=0.5), [X]),
    "GELU": (lambda m: m.GELU(approximate="tanh"), [X]),
    "SiLU": (lambda m: m.SiLU(), [X]),
    "Softplus": (lambda m: m.Softplus(beta=0.5, threshold=2.0), [X]),
    "Softmax": (lambda m: m.Softmax(dim=1), [X]),
    "LogSoftmax": (lambda m: m.LogSoftmax(dim=0), [X]),
    "Identity": (lambda m: m.Identity(3, unused=True), [X]),
    "Flatten": (lambda m: m.Flatten(), [RNG.normal(size=(2, 3, 4))]),
    "Unflatten": (lambda m: m.Unflatten(1, (2, 2)), [RNG.normal(size=(3, 4))]),
    "LayerNorm": (lambda m: m.LayerNorm(5, dtype=DT[m]), [X]),
    "LayerNorm_no_bias": (lambda m: m.LayerNorm([5], elementwise_affine=True, bias=False, dtype=DT[m]), [X]),
    "MSELoss": (lambda m: m.MSELoss(reduction="sum"), [X, Y]),
    "L1Loss": (lambda m: m.L1Loss(), [X, Y]),
    "HuberLoss": (lambda m: m.HuberLoss(delta=2.0), [X, Y]),
    "SmoothL1Loss": (lambda m: m.SmoothL1Loss(beta=0.3), [X, Y]),
    "BCELoss": (lambda m: m.BCELoss(reduction="none"), [PROBS, TARGETS01]),
    "BCEWithLogitsLoss": (lambda m: m.BCEWithLogitsLoss(pos_weight=POS[m]), [X, TARGETS01]),
    "KLDivLoss": (lambda m: m.KLDivLoss(reduction="batchmean", log_target=True), [X, Y]),
    "NLLLoss": (lambda m: m.NLLLoss(weight=CW[m], ignore_index=1), [X, LABELS]),
    "CrossEntropyLoss": (lambda m: m.CrossEntropyLoss(label_smoothing=0.1, reduction="sum"), [X, LABELS]),
}
DT = {nn: np.float64, torch.nn: torch.float64}
POS = {nn: CLASS_WEIGHT, torch.nn: torch.tensor(CLASS_WEIGHT)}
CW = {nn: CLASS_WEIGHT, torch.nn: torch.tensor(CLASS_WEIGHT)}


@pytest.mark.parametrize("name", MODULES)
def test_module_matches_pytorch(name):
    make, arrays = MODULES[name]
    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if ours.state_dict():
        for p in ours.parameters():
            with cr.no_grad():
                p.copy_(RNG.normal(size=p.shape))
        _copy_into_torch(ours, theirs)
    value, grads, g = _ours(ours, arrays, [0])
    want, want_grads = _theirs(theirs, arrays, [0], g)
    assert_allclose(value, want, rtol=1e-10, atol=1e-12)
    assert_allclose(grads[0], want_grads[0], rtol=1e-9, atol=1e-12)
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == tn
        assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_softmax_without_dim_guesses_pytorchs_axis_with_its_warning():
    x3 = RNG.normal(size=(2, 3, 4))
    for data in (X, x3):
        with pytest.warns(UserWarning, match="Implicit dimension"):
            got = nn.Softmax()(cr.tensor(data)).numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = torch.nn.Softmax()(torch.tensor(data)).numpy()
        assert_allclose(got, want, rtol=1e-12)


def test_dropout_module_takes_pytorchs_arguments_and_passes_through_in_eval():
    ours, theirs = nn.Dropout(0.4, inplace=True), torch.nn.Dropout(0.4, inplace=False)
    ours.eval(), theirs.eval()
    assert_allclose(ours(cr.tensor(X)).numpy(), theirs(torch.tensor(X)).numpy())
    assert repr(ours) == repr(theirs).replace("inplace=False", "inplace=True")


# ------------------------------------------------------------------ state dicts
class Ours(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Linear(5, 8, dtype=np.float64), nn.LayerNorm(8, dtype=np.float64), nn.GELU(), nn.Dropout(0.1)
        )
        self.blocks = nn.ModuleList([nn.Linear(8, 8, dtype=np.float64) for _ in range(2)])
        self.heads = nn.ModuleDict(
            {"a": nn.Linear(8, 3, dtype=np.float64), "b": nn.Linear(8, 1, bias=False, dtype=np.float64)}
        )
        self.scales = nn.ParameterList([nn.Parameter(np.ones(3)), nn.Parameter(np.full(1, 2.0))])
        self.embed = nn.Embedding(7, 5, dtype=np.float64)

    def forward(self, idx):
        h = self.features(self.embed(idx))
        for block in self.blocks:
            h = F.silu(block(h))
        return self.heads["a"](h) * self.scales[0], self.heads["b"](h) * self.scales[1]


class Theirs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        t = torch.nn
        self.features = t.Sequential(t.Linear(5, 8), t.LayerNorm(8), t.GELU(), t.Dropout(0.1))
        self.blocks = t.ModuleList([t.Linear(8, 8) for _ in range(2)])
        self.heads = t.ModuleDict({"a": t.Linear(8, 3), "b": t.Linear(8, 1, bias=False)})
        self.scales = t.ParameterList([t.Parameter(torch.ones(3)), t.Parameter(torch.full((1,), 2.0))])
        self.embed = t.Embedding(7, 5)

    def forward(self, idx):
        h = self.features(self.embed(idx))
        for block in self.blocks:
            h = TF.silu(block(h))
        return self.heads["a"](h) * self.scales[0], self.heads["b"](h) * self.scales[1]


def test_state_dict_keys_are_pytorchs_and_load_into_the_torch_model_and_back():
    ours, theirs = Ours().eval(), Theirs().double().eval()
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    idx = np.array([[0, 3, 6], [2, 2, 1]])
    for a, b in zip(ours(idx), theirs(torch.tensor(idx))):
        assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)
    # and back: torch's values into a fresh chainrule model
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    again = Ours().eval()
    assert again.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}) == ([], [])
    for a, b in zip(again(idx), theirs(torch.tensor(idx))):
        assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12)


def test_a_module_registered_twice_is_saved_under_both_names_as_in_pytorch():
    shared = nn.Linear(2, 2)
    ours = nn.Sequential(shared, nn.ReLU(), shared)
    t_shared = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(t_shared, torch.nn.ReLU(), t_shared)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 2
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == [
        n for n, _ in theirs.named_modules(remove_duplicate=False)
    ]
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})


def test_state_dict_prefix_and_keep_vars():
    layer = nn.Linear(2, 1)
    assert list(layer.state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight


# ------------------------------------------------------------------ the module API
def test_tree_walks_match_pytorch():
    ours, theirs = Ours(), Theirs()
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    names = [type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.modules()] == ["Ours", *names[1:]]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert ours.get_submodule("heads.a") is ours.heads["a"]


def test_apply_visits_children_first_as_pytorch_does():
    seen_ours, seen_theirs = [], []
    assert Ours().apply(lambda m: seen_ours.append(type(m).__name__)).__class__ is Ours
    Theirs().apply(lambda m: seen_theirs.append(type(m).__name__))
    assert seen_ours == [n.replace("Theirs", "Ours") for n in seen_theirs]


def test_apply_initializes_weights():
    def init(m):
        if isinstance(m, nn.Linear):
            with cr.no_grad():
                m.weight.fill_(0.5)

    model = Ours().apply(init)
    assert all((m.weight.numpy() == 0.5).all() for m in model.modules() if isinstance(m, nn.Linear))


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    model = Ours()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.features.requires_grad_()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "features.0.weight",
        "features.0.bias",
        "features.1.weight",
        "features.1.bias",
    ]


def test_containers_index_slice_and_mutate_as_pytorch():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[-1], nn.Linear) and isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    assert list(seq[1:]._modules) == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and seq(cr.ones(5, 2)).shape == (5, 1)
    layers = nn.ModuleList([nn.ReLU()])
    layers += [nn.Tanh()]
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "ReLU", "Tanh"]
    del layers[1]
    assert list(layers._modules) == ["0", "1"] and isinstance(layers[1], nn.Tanh)
    heads = nn.ModuleDict([("x", nn.ReLU())])
    heads["y"] = nn.Tanh()
    assert list(heads) == ["x", "y"] and "y" in heads and heads.pop("x").__class__ is nn.ReLU
    params = nn.ParameterList([np.zeros(2)])
    params.append(cr.ones(3))
    assert [type(p) for p in params] == [nn.Parameter, nn.Parameter] and list(params.state_dict()) == [
        "0",
        "1",
    ]
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]


# ------------------------------------------------------------------ hooks
def test_forward_hooks_see_and_replace_what_pytorch_hooks_do():
    log = []
    layer = nn.Linear(3, 2)
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = layer.register_forward_hook(
        lambda m, args, out: log.append((m, args[0].shape, out.shape)) or out + 1
    )
    x = cr.ones(4, 3)
    out = layer(x)
    expected = F.linear(x * 2, layer.weight, layer.bias) + 1
    assert_allclose(out.numpy(), expected.numpy())
    assert log == [(layer, (4, 3), (4, 2))]
    pre.remove(), post.remove()
    assert_allclose(layer(x).numpy(), F.linear(x, layer.weight, layer.bias).numpy())
    assert len(log) == 1


def test_hooks_with_kwargs_and_prepend():
    order = []
    m = nn.Identity()
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
    assert m(cr.tensor(1.0)).item() == 2.0 and order == ["first", "second"]


def test_full_backward_hook_gets_pytorchs_grad_input_and_grad_output():
    ours, theirs = nn.Linear(3, 2, dtype=np.float64), torch.nn.Linear(3, 2).double()
    _copy_into_torch(ours, theirs)
    got, want = [], []
    ours.register_full_backward_hook(lambda m, gi, go: got.append((m, gi, go)))
    theirs.register_full_backward_hook(lambda m, gi, go: want.append((m, gi, go)))
    x = RNG.normal(size=(4, 3))
    g = RNG.normal(size=(4, 2))
    (ours(cr.tensor(x, requires_grad=True)) * 1.0).backward(cr.tensor(g))
    (theirs(torch.tensor(x, requires_grad=True)) * 1.0).backward(torch.tensor(g))
    assert len(got) == len(want) == 1
    (m, gi, go), (_, tgi, tgo) = got[0], want[0]
    assert m is ours and len(gi) == len(tgi) == 1 and len(go) == len(tgo) == 1
    assert_allclose(go[0].numpy(), tgo[0].numpy())
    assert_allclose(gi[0].numpy(), tgi[0].numpy())


def test_full_backward_hook_can_replace_grad_input():
    layer = nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = cr.ones(1, 3, requires_grad=True)
    layer(x).sum().backward()
    assert_allclose(x.grad.numpy(), 0.0)
    assert layer.weight.grad is not None and np.abs(layer.weight.grad.numpy()).sum() > 0


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_full_backward_hook_without_input_grad_gets_none_as_pytorch():
    ours, theirs = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    got, want = [], []
    ours.register_full_backward_hook(lambda m, gi, go: got.append(gi))
    theirs.register_full_backward_hook(lambda m, gi, go: want.append(gi))
    ours(cr.ones(2, 3)).sum().backward()
    theirs(torch.ones(2, 3)).sum().backward()
    assert got == [(None,)] and want == [(None,)]


def test_removed_backward_hook_is_not_called_and_handles_are_context_managers():
    calls = []
    layer = nn.Linear(2, 2)
    with layer.register_full_backward_hook(lambda *a: calls.append(1)):
        layer(cr.ones(1, 2, requires_grad=True)).sum().backward()
    layer(cr.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == [1]


# ------------------------------------------------------------------ parameters as one vector
def test_parameters_to_vector_and_back_match_pytorch():
    ours, theirs = Ours(), Theirs().double()
    _copy_into_torch(ours, theirs)
    vec = nn.utils.parameters_to_vector(ours.parameters())
    want = torch.nn.utils.parameters_to_vector(theirs.parameters())
    assert_allclose(vec.numpy(), want.detach().numpy())
    new = RNG.normal(size=vec.shape)
    nn.utils.vector_to_parameters(cr.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_allclose(p.numpy(), tp.detach().numpy(), err_msg=n)


def test_parameters_to_vector_is_differentiable():
    layer = nn.Linear(2, 2)
    (nn.utils.parameters_to_vector(layer.parameters()) ** 2).sum().backward()
    assert_allclose(layer.weight.grad.numpy(), 2 * layer.weight.numpy())


# ------------------------------------------------------------------ misuse
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: nn.MSELoss(reduction="avg"), ValueError, "MSELoss: reduction must be one of"),
        (lambda: nn.KLDivLoss(reduction="batchsum"), ValueError, "KLDivLoss: reduction"),
        (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError, "label_smoothing must be between"),
        (lambda: nn.GELU("fast"), ValueError, "GELU: approximate must be 'none' or 'tanh'"),
        (lambda: F.gelu(cr.ones(2), approximate="exact"), ValueError, "gelu: approximate"),
        (lambda: F.leaky_relu(cr.ones(2), "0.1"), TypeError, "leaky_relu: negative_slope must be a real"),
        (lambda: nn.HuberLoss(delta=0), ValueError, "HuberLoss: delta must be positive"),
        (lambda: nn.SmoothL1Loss(beta=-1), ValueError, "SmoothL1Loss: beta must be >= 0"),
        (
            lambda: F.binary_cross_entropy(cr.tensor([0.5, 1.5]), cr.tensor([0.0, 1.0])),
            ValueError,
            "between 0 and 1",
        ),
        (
            lambda: F.binary_cross_entropy(cr.tensor([0.5, 0.5]), cr.tensor([[0.0, 1.0]])),
            ValueError,
            r"target size \(1, 2\) that is different to the input size \(2,\)",
        ),
        (
            lambda: nn.LayerNorm(4)(cr.ones(3, 5)),
            ValueError,
            r"normalized_shape \[4\] must be the last axes of the input, got input of shape \(3, 5\)",
        ),
        (
            lambda: nn.Unflatten(1, (2, 3))(cr.ones(2, 4)),
            ValueError,
            r"Unflatten: cannot split axis 1 of size 4",
        ),
        (lambda: nn.Flatten(3)(cr.ones(2, 4)), IndexError, "flatten: Dimension out of range"),
        (
            lambda: F.mse_loss(cr.ones(2), cr.ones(2), weight=np.ones(3)),
            ValueError,
            r"mse_loss: weight has shape",
        ),
        (lambda: nn.ModuleList([nn.ReLU])[0], TypeError, "ModuleList: the appended value is the class ReLU"),
        (lambda: nn.ModuleDict({"a": 3}), TypeError, "ModuleDict: the value for 'a' is int"),
        (lambda: nn.ModuleDict()["missing"], KeyError, "ModuleDict has no key 'missing'"),
        (
            lambda: nn.Sequential(nn.ReLU())[3],
            IndexError,
            "Sequential: index 3 is out of range for 1 members",
        ),
        (
            lambda: nn.utils.vector_to_parameters(cr.ones(5), nn.Linear(2, 1).parameters()),
            ValueError,
            "vec has 5 elements but the parameters hold 3",
        ),
        (lambda: nn.utils.vector_to_parameters(np.ones(3), []), TypeError, "expected vec to be a Tensor"),
        (lambda: nn.Linear(2, 1).register_forward_hook(3), TypeError, "the hook must be callable"),
        (lambda: F.softmax(cr.ones(2, 3), axis=0, dim=1), TypeError, "softmax: give axis= or dim="),
    ],
)
def test_misuse_is_refused_naming_the_module_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_backward_hook_returning_the_wrong_number_of_gradients_is_refused():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(
        RuntimeError, match="Linear: a full backward hook returned 2 gradients, but the module has 1"
    ):
        layer(cr.ones(1, 2, requires_grad=True)).sum().backward()


def test_legacy_size_average_and_reduce_read_as_pytorch_reads_them():
    x, y = cr.tensor(X), cr.tensor(Y)
    with pytest.warns(UserWarning, match="size_average and reduce"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with pytest.warns(UserWarning):
        assert F.l1_loss(x, y, reduce=False).shape == X.shape


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_weighted_mean_losses_differentiate_the_weights_sum(name):
    x, y, w = np.array([1.0, 2.0, -0.5]), np.array([0.0, 0.5, 0.5]), np.array([1.0, 3.0, 0.5])
    cw = cr.tensor(w, requires_grad=True)
    getattr(F, name)(cr.tensor(x), cr.tensor(y), weight=cw).backward()
    losses = (x - y) ** 2 if name == "mse_loss" else np.abs(x - y)
    # d/dw (Σ w ℓ / Σ w) = ℓ / Σ w − Σ w ℓ / (Σ w)²
    assert_allclose(cw.grad.data, losses / w.sum() - (w * losses).sum() / w.sum() ** 2, rtol=1e-12)


def test_cross_entropy_class_weights_get_a_gradient_with_probabilities_and_are_refused_with_indices():
    w = cr.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    F.cross_entropy(
        cr.tensor([[1.0, 0.0]], dtype=np.float64), cr.tensor([[0.3, 0.7]], dtype=np.float64), weight=w
    ).backward()
    tw = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(
        torch.tensor([[1.0, 0.0]], dtype=torch.float64),
        torch.tensor([[0.3, 0.7]], dtype=torch.float64),
        weight=tw,
    ).backward()
    assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="not differentiable with class-index targets"):
        F.cross_entropy(
            cr.tensor([[1.0, 0.0]]), np.array([1]), weight=cr.tensor([1.0, 2.0], requires_grad=True)
        )


def test_manual_seed_makes_initializers_and_dropout_reproducible():
    draws = []
    for _ in range(2):
        cr.manual_seed(3)
        layer = nn.Linear(3, 3)
        kept = F.dropout(cr.ones(8), p=0.5, training=True)
        draws.append((layer.weight.data.copy(), kept.data.copy()))
    assert_allclose(draws[0][0], draws[1][0])
    assert_allclose(draws[0][1], draws[1][1])


def test_tanh_gelu_slope_keeps_float32_precision_far_left():
    x = np.array([-3.909, -5.0], dtype=np.float32)
    ours = cr.grad(lambda v: cr.sum(F.gelu(v, approximate="tanh")))(cr.tensor(x)).data
    t = torch.tensor(x.astype(np.float64), requires_grad=True)
    torch.nn.functional.gelu(t, approximate="tanh").sum().backward()
    assert_allclose(ours, t.grad.numpy(), rtol=1e-5)


# ------------------------------------------------------------- embedding options, buffers, pre-hooks
EMB_WEIGHT = RNG.normal(size=(6, 3)) * 2
EMB_INDICES = np.array([[0, 2, 5], [2, 4, 2]])


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
@pytest.mark.parametrize("max_norm", [None, 1.5])
def test_embedding_options_match_pytorch_values_gradients_and_renormed_weight(
    padding_idx, scale_grad_by_freq, max_norm
):
    g = RNG.normal(size=EMB_INDICES.shape + (3,))
    kwargs = dict(padding_idx=padding_idx, max_norm=max_norm, scale_grad_by_freq=scale_grad_by_freq)
    ours = nn.Embedding.from_pretrained(EMB_WEIGHT, freeze=False, **kwargs)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(EMB_WEIGHT), freeze=False, **kwargs)
    assert ours.padding_idx == theirs.padding_idx and repr(ours) == repr(theirs)
    out, ref = ours(EMB_INDICES), theirs(torch.tensor(EMB_INDICES))
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert ours.weight._version == theirs.weight._version


@pytest.mark.parametrize("max_norm", [None, 1.0])
def test_sparse_embedding_padding_row_is_left_out_of_the_gradient_as_pytorch(max_norm):
    g = RNG.normal(size=EMB_INDICES.shape + (3,))
    ours = nn.Embedding.from_pretrained(
        EMB_WEIGHT, freeze=False, padding_idx=2, max_norm=max_norm, sparse=True
    )
    theirs = torch.nn.Embedding.from_pretrained(
        torch.tensor(EMB_WEIGHT), freeze=False, padding_idx=2, max_norm=max_norm, sparse=True
    )
    out, ref = ours(EMB_INDICES), theirs(torch.tensor(EMB_INDICES))
    out.backward(cr.tensor(g))
    ref.backward(torch.tensor(g))
    assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    grad = theirs.weight.grad.coalesce()
    assert ours.weight.grad.indices.tolist() == grad.indices()[0].tolist() == [0, 4, 5]
    assert_allclose(ours.weight.grad.values, grad.values().numpy(), rtol=1e-12)
    assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    # all-padding input: an empty row-sparse gradient, as PyTorch's
    ours.weight.grad = None
    ours(np.array([2, 2])).sum().backward()
    assert ours.weight.grad.indices.tolist() == []


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
def test_functional_embedding_max_norm_renormalizes_looked_up_rows_in_place(norm_type):
    w32 = EMB_WEIGHT.astype(np.float32)
    ours, theirs = cr.tensor(w32, requires_grad=True), torch.tensor(w32, requires_grad=True)
    out = F.embedding(EMB_INDICES, ours, max_norm=1.2, norm_type=norm_type)
    ref = TF.embedding(torch.tensor(EMB_INDICES), theirs, max_norm=1.2, norm_type=norm_type)
    assert out.dtype == np.float32
    assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
    assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert ours._version == theirs._version == 1
    untouched = [1, 3]
    assert_allclose(ours.numpy()[untouched], w32[untouched], rtol=0)


def test_embedding_padding_row_starts_at_zero_and_checks_its_range():
    E = nn.Embedding(5, 3, padding_idx=-2, seed=0)
    T = torch.nn.Embedding(5, 3, padding_idx=-2)
    assert E.padding_idx == T.padding_idx == 3
    assert np.all(E.weight.numpy()[3] == 0) and np.any(E.weight.numpy()[:3] != 0)
    assert repr(E) == repr(T)
    for bad in (5, -6):
        with pytest.raises(ValueError, match="padding_idx"):
            nn.Embedding(5, 3, padding_idx=bad)
        with pytest.raises(AssertionError):
            torch.nn.Embedding(5, 3, padding_idx=bad)
        with pytest.raises(ValueError, match="padding_idx"):
            F.embedding([0], cr.ones(5, 3), padding_idx=bad)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq"):
        nn.Embedding(5, 3, scale_grad_by_freq=True, sparse=True, seed=0)(np.array([1]))


def test_embedding_padding_and_frequency_scaling_survive_a_second_order_pass():
    w = cr.tensor(EMB_WEIGHT, requires_grad=True)
    tw = torch.tensor(EMB_WEIGHT, requires_grad=True)
    idx = np.array([1, 1, 3, 0])
    (gw,) = cr.autograd.grad(
        (F.embedding(idx, w, padding_idx=0, scale_grad_by_freq=True) ** 3).sum(), (w,), create_graph=True
    )
    (tgw,) = torch.autograd.grad(
        (TF.embedding(torch.tensor(idx), tw, padding_idx=0, scale_grad_by_freq=True) ** 3).sum(),
        tw,
        create_graph=True,
    )
    assert_allclose(gw.numpy(), tgw.detach().numpy(), rtol=1e-12)
    (gw * gw).sum().backward()
    (tgw * tgw).sum().backward()
    assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


class _WithBuffers(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2, seed=0, dtype=np.float64)
        self.register_buffer("kept", cr.tensor([1.0, 2.0]))
        self.register_buffer("scratch", cr.tensor([3.0]), persistent=False)


class _TorchWithBuffers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 2).double()
        self.register_buffer("kept", torch.tensor([1.0, 2.0]))
        self.register_buffer("scratch", torch.tensor([3.0]), persistent=False)


def test_non_persistent_buffer_is_an_attribute_and_a_buffer_but_not_in_the_state_dict():
    ours = nn.Sequential(_WithBuffers())
    theirs = torch.nn.Sequential(_TorchWithBuffers())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0.kept", "0.lin.weight", "0.lin.bias"]
    assert ours[0].scratch.tolist() == [3.0] and len(list(ours.buffers())) == 2
    state = {k: torch.tensor(v) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)  # loads into torch, which expects no 'scratch' either
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours[0].scratch = cr.tensor([4.0])  # reassigning keeps it a non-persistent buffer
    assert "0.scratch" not in ours.state_dict() and ours[0].scratch.tolist() == [4.0]
    ours[0].register_buffer("scratch", cr.tensor([5.0]))  # re-registered persistent: saved again
    assert list(ours.state_dict())[:2] == ["0.kept", "0.scratch"]
    del ours[0].scratch
    assert [n for n, _ in ours.named_buffers()] == ["0.kept"]


def _run_pre_hooked(layer, x):
    calls: list = []
    layer.register_full_backward_hook(lambda m, gin, gout: calls.append(("full", np.array(gout[0].tolist()))))
    layer.register_full_backward_pre_hook(lambda m, gout: calls.append(("pre", len(gout))))
    layer.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 2,))
    layer.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 100,)).remove()
    layer(x).sum().backward()
    return calls


def test_full_backward_pre_hook_sees_and_replaces_grad_output_as_pytorch():
    x = RNG.normal(size=(3, 2))
    ours = nn.Linear(2, 2, seed=0, dtype=np.float64)
    theirs = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    xo, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    calls, ref = _run_pre_hooked(ours, xo), _run_pre_hooked(theirs, xt)
    assert [c[0] for c in calls] == [c[0] for c in ref] == ["pre", "full"]
    assert calls[0][1] == ref[0][1] == 1
    assert_allclose(calls[1][1], np.full((3, 2), 2.0))
    assert_allclose(ref[1][1], np.full((3, 2), 2.0))
    assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    bad = nn.Linear(2, 2, seed=0)
    bad.register_full_backward_pre_hook(lambda m, gout: (gout[0], gout[0]))
    with pytest.raises(RuntimeError, match="pre-hook returned 2"):
        bad(cr.ones(1, 2)).sum().backward()


def test_embedding_refuses_a_bool_where_the_padding_row_goes():
    with pytest.raises(TypeError, match="sparse is a keyword"):
        nn.Embedding(10, 3, True)
    with pytest.raises(ValueError, match="within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=10)
