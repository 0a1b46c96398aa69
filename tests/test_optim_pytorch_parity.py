"""Optimizers, parameter groups and learning-rate schedules against PyTorch's.

The trajectories of every optimizer, under every combination of its options, follow
``torch.optim``'s to 1e-12 relative in float64 over 25 steps; the schedules give
``torch.optim.lr_scheduler``'s rates epoch by epoch. The tests that need no PyTorch
(row-sparse updates, refusals, saving and loading) run without it.
"""

from __future__ import annotations

import copy
import itertools
import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr
from chainrule import nn, optim
from chainrule.optim import lr_scheduler

STEPS = 25
RTOL = 1e-12


def assert_close(ours, theirs):
    """Equal to 1e-12 relative: of each value, or, for a coordinate passing near 0, of the
    largest value (there the last bits of a sum of large terms decide its relative error)."""
    assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * np.abs(theirs).max())


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def combinations(**options):
    """Every combination of the options' values, as keyword dicts."""
    names = list(options)
    return [dict(zip(names, values)) for values in itertools.product(*options.values())]


SETTINGS = {
    "SGD": [
        {"lr": 0.02, **c}
        for c in combinations(momentum=[0.0, 0.9], weight_decay=[0.0, 0.1], nesterov=[False, True])
        if c["momentum"] or not c["nesterov"]
    ],
    "Adam": [
        {"lr": 0.02, **c}
        for c in combinations(betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-3], weight_decay=[0.0, 0.1])
    ],
    "AdamW": [
        {"lr": 0.02, **c}
        for c in combinations(betas=[(0.9, 0.999), (0.5, 0.8)], weight_decay=[0.0, 0.01, 0.3])
    ],
    "RMSprop": [
        {"lr": 0.005, **c}
        for c in combinations(
            alpha=[0.99, 0.5],
            eps=[1e-8, 1e-2],
            weight_decay=[0.0, 0.1],
            momentum=[0.0, 0.9],
            centered=[False, True],
        )
    ],
    "Adagrad": [
        {"lr": 0.05, **c}
        for c in combinations(
            lr_decay=[0.0, 0.05],
            weight_decay=[0.0, 0.1],
            initial_accumulator_value=[0.0, 0.5],
            eps=[1e-10, 1e-2],
        )
    ],
}
CASES = [(name, kwargs) for name, settings in SETTINGS.items() for kwargs in settings]


def case_id(case):
    name, kwargs = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr")


def problem(seed=0):
    """A small least-squares problem with a quartic term: W (3, 4), c (4,) from X (6, 3)."""
    rng = np.random.default_rng(seed)
    return {
        "X": rng.normal(size=(6, 3)),
        "Y": rng.normal(size=(6, 4)),
        "W": rng.normal(size=(3, 4)),
        "c": rng.normal(size=4),
    }


def loss(W, c, X, Y):
    return ((X @ W + c - Y) ** 2).sum() / 6 + 0.05 * (W**4).sum()


def ours_trajectory(make, data, steps=STEPS, each_step=None):
    W = cr.tensor(data["W"].copy(), requires_grad=True)
    c = cr.tensor(data["c"].copy(), requires_grad=True)
    X, Y = cr.tensor(data["X"]), cr.tensor(data["Y"])
    opt = make(W, c)
    path = []
    for k in range(steps):
        opt.zero_grad()
        loss(W, c, X, Y).backward()
        opt.step()
        if each_step:
            each_step(opt, k)
        path.append(np.concatenate([W.numpy().ravel(), c.numpy()]))
    return np.array(path)


def torch_trajectory(torch, make, data, steps=STEPS, each_step=None):
    W = torch.tensor(data["W"].copy(), requires_grad=True)
    c = torch.tensor(data["c"].copy(), requires_grad=True)
    X, Y = torch.tensor(data["X"]), torch.tensor(data["Y"])
    opt = make(W, c)
    path = []
    for k in range(steps):
        opt.zero_grad()
        loss(W, c, X, Y).backward()
        opt.step()
        if each_step:
            each_step(opt, k)
        path.append(np.concatenate([W.detach().numpy().ravel(), c.detach().numpy()]))
    return np.array(path)


# ------------------------------------------------------------------ trajectories
@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[case_id(c) for c in CASES])
def test_trajectory_matches_pytorch_step_for_step(torch, name, kwargs):
    data = problem()
    ours = ours_trajectory(lambda W, c: getattr(optim, name)([W, c], **kwargs), data)
    theirs = torch_trajectory(torch, lambda W, c: getattr(torch.optim, name)([W, c], **kwargs), data)
    assert not np.allclose(ours[-1], ours[0])  # it moved
    assert_close(ours, theirs)


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_parameter_groups_with_their_own_settings_match_pytorch(torch, name):
    data = problem(1)
    override = {"lr": 0.001, "weight_decay": 0.2} if name != "SGD" else {"lr": 0.001, "momentum": 0.5}

    def groups(lib):
        return lambda W, c: getattr(lib.optim, name)(
            [{"params": [W]}, {"params": c, **override}], **SETTINGS[name][-1]
        )

    ours = ours_trajectory(groups(cr), data)
    theirs = torch_trajectory(torch, groups(torch), data)
    assert_close(ours, theirs)


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_changing_a_groups_lr_between_steps_takes_effect_as_in_pytorch(torch, name):
    data = problem(2)

    def halve_every_fifth(opt, k):
        if k % 5 == 4:
            for group in opt.param_groups:
                group["lr"] *= 0.5

    ours = ours_trajectory(
        lambda W, c: getattr(optim, name)([W, c], **SETTINGS[name][0]), data, each_step=halve_every_fifth
    )
    theirs = torch_trajectory(
        torch,
        lambda W, c: getattr(torch.optim, name)([W, c], **SETTINGS[name][0]),
        data,
        each_step=halve_every_fifth,
    )
    assert_close(ours, theirs)


@pytest.mark.reference
@pytest.mark.parametrize(
    ("scheduler", "kwargs"),
    [
        ("StepLR", {"step_size": 4, "gamma": 0.5}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 6}),
    ],
)
def test_a_schedule_driving_rmsprop_matches_pytorch(torch, scheduler, kwargs):
    data = problem(3)
    schedules = []

    def make(lib):
        def build(W, c):
            opt = lib.optim.RMSprop([W, c], lr=0.01, momentum=0.5)
            schedules.append(getattr(lib.optim.lr_scheduler, scheduler)(opt, **kwargs))
            return opt

        return build

    ours = ours_trajectory(make(cr), data, steps=30, each_step=lambda opt, k: schedules[0].step())
    theirs = torch_trajectory(
        torch, make(torch), data, steps=30, each_step=lambda opt, k: schedules[1].step()
    )
    assert_close(ours, theirs)


def test_named_parameters_make_one_group_with_their_names():
    layer = nn.Linear(2, 3, seed=0)
    opt = optim.SGD(layer.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"] == [layer.weight, layer.bias]


def test_an_iterable_of_tensors_makes_one_group_with_the_constructors_settings():
    w = cr.zeros(2, requires_grad=True)
    opt = optim.RMSprop([w], lr=0.5, centered=True)
    (group,) = opt.param_groups
    assert group["params"] == [w]
    assert {k: v for k, v in group.items() if k != "params"} == opt.defaults
    assert opt.defaults == {
        "lr": 0.5,
        "alpha": 0.99,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "momentum": 0.0,
        "centered": True,
        "capturable": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
    }


def test_add_param_group_fills_in_the_defaults_and_steps_the_new_parameters():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([1.0], requires_grad=True)
    opt = optim.Adagrad([a], lr=0.1, lr_decay=0.5)
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["lr_decay"] == 0.5 and opt.param_groups[1]["lr"] == 0.2
    (a + b).sum().backward()
    opt.step()
    assert_allclose([a.item(), b.item()], [0.9, 0.8], rtol=1e-6)


def test_lr_property_reads_and_sets_every_group():
    a, b = cr.zeros(1, requires_grad=True), cr.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    assert opt.lr == 0.1
    opt.lr = 0.3
    assert [g["lr"] for g in opt.param_groups] == [0.3, 0.3]
    opt.param_groups[1]["lr"] = 0.5
    with pytest.raises(AttributeError, match="different lrs"):
        _ = opt.lr
    with pytest.raises(ValueError, match="SGD: invalid lr -1"):
        opt.lr = -1


def test_step_returns_the_closures_loss():
    w = cr.tensor([2.0], dtype="float64", requires_grad=True)
    opt = optim.Adagrad([w], lr=0.1)

    def closure():
        opt.zero_grad()
        value = (w * w).sum()
        value.backward()
        return value

    assert opt.step(closure).item() == 4.0
    assert_allclose(w.item(), 1.9)


def test_zero_grad_set_to_none_false_leaves_zeros():
    w = cr.zeros(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert_array_equal(np.asarray(w.grad), np.zeros(3))


# ------------------------------------------------------------------ saving and loading
@pytest.mark.parametrize(("name", "kwargs"), [(n, s[-1]) for n, s in SETTINGS.items()], ids=list(SETTINGS))
def test_state_dict_resumes_the_trajectory_exactly(name, kwargs):
    data = problem(4)
    whole = ours_trajectory(lambda W, c: getattr(optim, name)([W, c], **kwargs), data, steps=20)
    saved = {}

    def save_at_ten(opt, k):
        if k == 9:
            saved["opt"] = opt.state_dict()

    first = ours_trajectory(
        lambda W, c: getattr(optim, name)([W, c], **kwargs), data, steps=10, each_step=save_at_ten
    )
    resumed = dict(data, W=first[-1][:12].reshape(3, 4), c=first[-1][12:])

    def restored(W, c):
        opt = getattr(optim, name)([W, c], lr=123.0)  # the loaded groups replace these settings
        opt.load_state_dict(saved["opt"])
        return opt

    second = ours_trajectory(restored, resumed, steps=10)
    assert_array_equal(np.concatenate([first, second]), whole)


def test_state_dict_numbers_parameters_across_groups_and_copies_arrays():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    opt = optim.RMSprop([{"params": [a]}, {"params": [b], "lr": 0.1}], centered=True)
    (a.sum() + b.sum()).backward()
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.1
    assert sorted(state["state"][1]) == ["grad_avg", "square_avg", "step"]
    state["state"][1]["square_avg"][:] = 99
    assert not np.any(opt.state[b]["square_avg"] == 99)


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_state_names_are_pytorchs(torch, name):
    kwargs = SETTINGS[name][-1]
    W, Wt = cr.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt, topt = getattr(optim, name)([W], **kwargs), getattr(torch.optim, name)([Wt], **kwargs)
    (W * W).sum().backward()
    (Wt * Wt).sum().backward()
    opt.step()
    topt.step()
    assert set(opt.state_dict()["state"][0]) == set(topt.state_dict()["state"][0])


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_pytorch_optimizer_state_dict_loads_and_continues_its_trajectory(torch, name):
    data = problem(5)
    kwargs = SETTINGS[name][-1]
    torch_opt = []

    def keep(W, c):
        torch_opt.append(getattr(torch.optim, name)([W, c], **kwargs))
        return torch_opt[-1]

    theirs = torch_trajectory(torch, keep, data, steps=20)
    checkpoint = []
    torch_trajectory(
        torch,
        keep,
        data,
        steps=10,
        each_step=lambda opt, k: checkpoint.append(copy.deepcopy(opt.state_dict())),
    )
    resumed = dict(data, W=theirs[9][:12].reshape(3, 4), c=theirs[9][12:])

    def restored(W, c):
        opt = getattr(optim, name)([W, c], **kwargs)
        opt.load_state_dict(checkpoint[9])
        return opt

    assert_allclose(ours_trajectory(restored, resumed, steps=10), theirs[10:], rtol=RTOL, atol=0)


def test_load_state_dict_refuses_another_layout():
    a, b = cr.zeros(2, requires_grad=True), cr.zeros(3, requires_grad=True)
    one_group = optim.Adam([a, b]).state_dict()
    with pytest.raises(ValueError, match="Adam: the state dict has 1 parameter groups, this optimizer 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(one_group)
    with pytest.raises(ValueError, match="group 0 of the state dict has 2 parameters"):
        optim.Adam([a]).load_state_dict(one_group)
    (a.sum() + b.sum()).backward()
    stepped = optim.Adam([a, b])
    stepped.step()
    with pytest.raises(ValueError, match=r"state 'exp_avg' has shape \(2,\); its parameter's is \(3,\)"):
        optim.Adam([b, a]).load_state_dict(stepped.state_dict())


# ------------------------------------------------------------------ row-sparse gradients
def embeddings(seed=0, n=40):
    weights = np.random.default_rng(seed).normal(size=(n, 3))
    sparse = nn.Embedding.from_pretrained(weights, freeze=False, sparse=True)
    dense = nn.Embedding.from_pretrained(weights, freeze=False, sparse=False)
    return weights, sparse, dense


SPARSE_CASES = [
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-3}),
]


@pytest.mark.parametrize(("name", "kwargs"), SPARSE_CASES, ids=[case_id(c) for c in SPARSE_CASES])
def test_sparse_update_moves_only_the_rows_used_as_the_dense_update_does(name, kwargs):
    weights, sparse, dense = embeddings()
    opts = [getattr(optim, name)(m.parameters(), **kwargs) for m in (sparse, dense)]
    rows = np.array([[3, 17, 3], [17, 30, 3]])  # the same rows every step
    target = np.random.default_rng(1).normal(size=(2, 3, 3))
    for _ in range(20):
        for module, opt in zip((sparse, dense), opts):
            opt.zero_grad()
            ((module(rows) - target) ** 2).sum().backward()
            opt.step()
    used = [3, 17, 30]
    untouched = np.setdiff1d(np.arange(40), used)
    assert_array_equal(sparse.weight.numpy()[untouched], weights[untouched])  # bit-identical
    assert_allclose(sparse.weight.numpy()[used], dense.weight.numpy()[used], rtol=RTOL)
    assert not np.allclose(sparse.weight.numpy()[used], weights[used])


def test_sparse_adagrad_equals_dense_adagrad_whichever_rows_each_step_uses():
    # A row without gradient has g = 0: the dense rule adds 0 to its sum and moves it by 0.
    weights, sparse, dense = embeddings(1)
    opts = [optim.Adagrad(m.parameters(), lr=0.1, lr_decay=0.05) for m in (sparse, dense)]
    rng = np.random.default_rng(2)
    for _ in range(20):
        rows = rng.integers(0, 10, size=4)
        for module, opt in zip((sparse, dense), opts):
            opt.zero_grad()
            (module(rows) ** 3).sum().backward()
            opt.step()
    assert_allclose(sparse.weight.numpy(), dense.weight.numpy(), rtol=RTOL)
    assert_array_equal(sparse.weight.numpy()[10:], weights[10:])


@pytest.mark.reference
@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_sparse_adagrad_matches_pytorchs_sparse_adagrad(torch):
    weights = np.random.default_rng(3).normal(size=(12, 3))
    ours = nn.Embedding.from_pretrained(weights, freeze=False, sparse=True)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(weights), freeze=False, sparse=True)
    opt = optim.Adagrad(ours.parameters(), lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1)
    topt = torch.optim.Adagrad(theirs.parameters(), lr=0.1, lr_decay=0.05, initial_accumulator_value=0.1)
    rng = np.random.default_rng(4)
    for _ in range(25):
        rows = rng.integers(0, 8, size=5)
        opt.zero_grad()
        topt.zero_grad()
        (ours(rows) ** 3).sum().backward()
        (theirs(torch.tensor(rows)) ** 3).sum().backward()
        opt.step()
        topt.step()
    assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=RTOL, atol=0)
    assert_array_equal(ours.weight.numpy()[8:], weights[8:])


def test_sparse_rmsprop_keeps_a_rows_averages_until_its_next_gradient():
    weights, sparse, _ = embeddings()
    opt = optim.RMSprop(sparse.parameters(), lr=0.01, alpha=0.9)
    sparse(np.array([5])).sum().backward()  # g = 1 on row 5
    opt.step()
    assert_allclose(opt.state[sparse.weight]["square_avg"][5], 0.1)
    for _ in range(3):
        opt.zero_grad()
        sparse(np.array([6])).sum().backward()
        opt.step()
    assert_allclose(opt.state[sparse.weight]["square_avg"][5], 0.1)  # waited, not 0.1 · 0.9³
    assert_allclose(sparse.weight.numpy()[5], weights[5] - 0.01 / (math.sqrt(0.1) + 1e-8))


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("RMSprop", {"momentum": 0.9}, "RMSprop with momentum=0.9 would move every row"),
        ("RMSprop", {"weight_decay": 0.1}, "RMSprop with weight_decay=0.1 would move every row"),
        ("RMSprop", {"momentum": 0.5, "weight_decay": 0.1}, "momentum=0.5 and weight_decay=0.1"),
        ("Adagrad", {"weight_decay": 0.1}, "Adagrad with weight_decay=0.1 would move every row"),
    ],
)
def test_sparse_gradients_are_refused_where_the_dense_rule_moves_every_row(name, kwargs, message):
    weights, sparse, _ = embeddings()
    other = cr.tensor([1.0], dtype="float64", requires_grad=True)  # listed first: must not move either
    opt = getattr(optim, name)([other, *sparse.parameters()], **kwargs)
    ((other * 2).sum() + sparse(np.array([1, 2])).sum()).backward()
    with pytest.raises(
        RuntimeError, match=rf"{name}: parameter 1 \(shape \(40, 3\)\) has a row-sparse gradient"
    ):
        opt.step()
    with pytest.raises(RuntimeError, match=message):
        opt.step()
    assert other.item() == 1.0
    assert_array_equal(sparse.weight.numpy(), weights)


# ------------------------------------------------------------------ refusals
def leaf():
    return cr.zeros(2, requires_grad=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: optim.RMSprop(p, lr=-0.1), "RMSprop: invalid lr -0.1; it must be >= 0"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), r"RMSprop: invalid alpha -0.5; it must be in \[0, 1\]"),
        (lambda p: optim.RMSprop(p, alpha=1.5), r"RMSprop: invalid alpha 1.5"),
        (lambda p: optim.RMSprop(p, eps=-1e-8), "RMSprop: invalid eps"),
        (lambda p: optim.RMSprop(p, momentum=-0.9), "RMSprop: invalid momentum"),
        (lambda p: optim.RMSprop(p, weight_decay=-1), "RMSprop: invalid weight_decay"),
        (lambda p: optim.RMSprop(p, alpha=float("nan")), "RMSprop: invalid alpha nan"),
        (lambda p: optim.Adagrad(p, lr=-0.1), "Adagrad: invalid lr -0.1"),
        (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: invalid lr_decay"),
        (lambda p: optim.Adagrad(p, weight_decay=-0.1), "Adagrad: invalid weight_decay"),
        (
            lambda p: optim.Adagrad(p, initial_accumulator_value=-1),
            "Adagrad: invalid initial_accumulator_value",
        ),
        (lambda p: optim.Adagrad(p, eps=-1), "Adagrad: invalid eps"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "Adam: betas must be two numbers in"),
        (lambda p: optim.AdamW(p, betas=(-0.1, 0.9)), "AdamW: betas"),
        (lambda p: optim.AdamW(p, betas=(0.9,)), "AdamW: betas"),
        (lambda p: optim.SGD([{"params": p, "lr": -1}], lr=0.1), "SGD: invalid lr -1"),
        (lambda p: optim.Adam([{"params": p, "betas": (1.0, 0.9)}]), "Adam: betas"),
        (
            lambda p: optim.RMSprop([{"params": p[:1]}, {"params": p[1:], "alpha": 2}]),
            "RMSprop: invalid alpha 2",
        ),
        (
            lambda p: optim.SGD([{"params": p, "dampening": 0.5}], lr=0.1),
            "SGD: dampening=0.5 is not supported",
        ),
        (lambda p: optim.Adam([{"params": p, "amsgrad": True}]), "Adam: amsgrad=True is not supported"),
        (
            lambda p: optim.Adagrad([{"params": p, "differentiable": True}]),
            "Adagrad: differentiable=True is not supported",
        ),
        (
            lambda p: optim.SGD([{"params": p}, {"params": p[1:]}]),
            r"parameter 2 \(shape \(2,\)\) is the same tensor",
        ),
        (lambda p: optim.Adagrad([{"lr": 0.1}]), "Adagrad: parameter group 0 has no 'params'"),
        (lambda p: optim.RMSprop([{"params": []}]), "RMSprop: got an empty parameter list"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_optimizer(make, message):
    with pytest.raises(ValueError, match=message):
        make([leaf(), leaf()])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: optim.RMSprop(set(p)), "RMSprop: params must be an ordered collection"),
        (lambda p: optim.Adagrad([{"params": p}, p[0]]), "Adagrad: params mixes dicts"),
        (lambda p: optim.Adagrad({"params": p}), r"Adagrad: .* got one dict; pass \[dict\]"),
        (lambda p: optim.RMSprop(p[0]), r"RMSprop: .* got one Tensor of shape \(2,\); pass \[tensor\]"),
        (lambda p: optim.Adagrad([p[0], "w"]), "Adagrad: parameter 1 is a str, not a Tensor"),
    ],
)
def test_bad_parameters_raise_type_error_naming_the_optimizer(make, message):
    with pytest.raises(TypeError, match=message):
        make([leaf(), leaf()])


def test_add_param_group_refuses_a_parameter_already_held():
    a, b = leaf(), leaf()
    opt = optim.Adagrad([a, b])
    with pytest.raises(ValueError, match=r"parameter 2 \(shape \(2,\)\) is the same tensor as parameter 1"):
        opt.add_param_group({"params": [b]})
    assert len(opt.param_groups) == 1


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_pytorch_refuses_a_negative_lr_with_the_same_exception_type(torch, name):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], lr=-1.0)
    with pytest.raises(ValueError, match=f"{name}: invalid lr -1.0"):
        getattr(optim, name)([leaf()], lr=-1.0)


# ------------------------------------------------------------------ learning-rate schedules
SCHEDULES = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 7, "gamma": 0.9}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("ExponentialLR", {"gamma": 1.05}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 4.5, "eta_min": 0.01}),
]
EPOCHS = 40


def two_groups(lib, make_param):
    return lib.optim.SGD(
        [{"params": [make_param()]}, {"params": [make_param()], "lr": 0.03}], lr=0.1, momentum=0.9
    )


def rates(scheduler, optimizer, epochs=EPOCHS):
    """(last_epoch, get_last_lr(), the groups' lr) before each step, then after the last."""
    seen = []
    for _ in range(epochs):
        seen.append(
            (scheduler.last_epoch, scheduler.get_last_lr(), [g["lr"] for g in optimizer.param_groups])
        )
        optimizer.step()
        scheduler.step()
    seen.append((scheduler.last_epoch, scheduler.get_last_lr(), [g["lr"] for g in optimizer.param_groups]))
    return seen


def assert_same_rates(ours, theirs):
    assert [e for e, _, _ in ours] == [e for e, _, _ in theirs]
    assert_allclose([r for _, r, _ in ours], [r for _, r, _ in theirs], rtol=RTOL, atol=0)
    assert_allclose([r for _, _, r in ours], [r for _, _, r in theirs], rtol=RTOL, atol=0)


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_schedule_rates_match_pytorch_epoch_by_epoch(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), two_groups(torch, lambda: torch.zeros(2, requires_grad=True))
    ours = rates(getattr(lr_scheduler, name)(opt, **kwargs), opt)
    theirs = rates(getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), topt)
    assert ours[0][0] == 0 and ours[-1][0] == EPOCHS
    assert_same_rates(ours, theirs)


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_schedule_rates_are_the_closed_forms(name, kwargs):
    opt = two_groups(cr, leaf)
    ours = rates(getattr(lr_scheduler, name)(opt, **kwargs), opt)
    for e, last, _ in ours:
        for base, lr in zip([0.1, 0.03], last):
            if name == "StepLR":
                expected = base * kwargs.get("gamma", 0.1) ** (e // kwargs["step_size"])
            elif name == "ExponentialLR":
                expected = base * kwargs["gamma"] ** e
            else:
                eta_min = kwargs.get("eta_min", 0.0)
                expected = eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / kwargs["T_max"])) / 2
            assert lr == pytest.approx(expected, rel=1e-9, abs=1e-15)


@pytest.mark.reference
def test_two_schedules_on_one_optimizer_compose_as_in_pytorch(torch):
    opt, topt = two_groups(cr, leaf), two_groups(torch, lambda: torch.zeros(2, requires_grad=True))
    ours = [lr_scheduler.StepLR(opt, 5, 0.5), lr_scheduler.ExponentialLR(opt, 0.95)]
    theirs = [
        torch.optim.lr_scheduler.StepLR(topt, 5, 0.5),
        torch.optim.lr_scheduler.ExponentialLR(topt, 0.95),
    ]
    for _ in range(EPOCHS):
        for schedules, o in ((ours, opt), (theirs, topt)):
            o.step()
            for s in schedules:
                s.step()
        assert_allclose(ours[1].get_last_lr(), theirs[1].get_last_lr(), rtol=RTOL, atol=0)
        assert_allclose(
            [g["lr"] for g in opt.param_groups], [g["lr"] for g in topt.param_groups], rtol=RTOL, atol=0
        )


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_a_rate_set_by_hand_carries_on_as_in_pytorch(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), two_groups(torch, lambda: torch.zeros(2, requires_grad=True))
    ours, theirs = (
        getattr(lr_scheduler, name)(opt, **kwargs),
        getattr(torch.optim.lr_scheduler, name)(topt, **kwargs),
    )
    for epoch in range(EPOCHS):
        if epoch == 12:
            for o in (opt, topt):
                o.param_groups[0]["lr"] = 0.05
        for s, o in ((ours, opt), (theirs, topt)):
            o.step()
            s.step()
        assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=RTOL, atol=0)


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_schedule_state_dict_resumes_the_rates_exactly(name, kwargs):
    opt = two_groups(cr, leaf)
    whole = rates(getattr(lr_scheduler, name)(opt, **kwargs), opt)
    opt = two_groups(cr, leaf)
    schedule = getattr(lr_scheduler, name)(opt, **kwargs)
    first = rates(schedule, opt, epochs=15)
    # a fresh optimizer and schedule, then the saved ones loaded into them
    resumed_opt = two_groups(cr, leaf)
    resumed = getattr(lr_scheduler, name)(resumed_opt, **kwargs)
    resumed_opt.load_state_dict(opt.state_dict())
    resumed.load_state_dict(schedule.state_dict())
    second = rates(resumed, resumed_opt, epochs=EPOCHS - 15)
    assert first[:-1] + second == whole
    assert resumed_opt.param_groups[0]["initial_lr"] == 0.1


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_a_pytorch_schedule_state_dict_loads(torch, name, kwargs):
    topt = two_groups(torch, lambda: torch.zeros(2, requires_grad=True))
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    rates(theirs, topt, epochs=11)
    opt = two_groups(cr, leaf)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        group["lr"], group["initial_lr"] = tgroup["lr"], tgroup["initial_lr"]
    ours.load_state_dict(theirs.state_dict())
    assert_same_rates(rates(ours, opt), rates(theirs, topt))


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_resuming_at_last_epoch_matches_pytorch(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), two_groups(torch, lambda: torch.zeros(2, requires_grad=True))
    for o in (opt, topt):
        for group in o.param_groups:
            group["initial_lr"] = group["lr"]
    ours = getattr(lr_scheduler, name)(opt, last_epoch=9, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, last_epoch=9, **kwargs)
    assert_same_rates(rates(ours, opt), rates(theirs, topt))


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[case_id(c) for c in SCHEDULES])
def test_step_with_an_epoch_warns_and_gives_pytorchs_rate(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), two_groups(torch, lambda: torch.zeros(2, requires_grad=True))
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topt.step()
        theirs.step(13)
    with pytest.warns(UserWarning, match="deprecated"):
        ours.step(13)
    assert ours.last_epoch == theirs.last_epoch == 13
    assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=RTOL, atol=0)


def test_a_schedule_sets_the_initial_lr_and_starts_at_epoch_zero():
    opt = two_groups(cr, leaf)
    schedule = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert schedule.last_epoch == 0 and schedule.base_lrs == [0.1, 0.03]
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.03]
    assert schedule.get_last_lr() == [0.1, 0.03]
    schedule.step()
    assert schedule.get_last_lr() == [0.05, 0.015] == [g["lr"] for g in opt.param_groups]
    assert schedule.state_dict() == {
        "gamma": 0.5,
        "base_lrs": [0.1, 0.03],
        "last_epoch": 1,
        "_step_count": 2,
        "_last_lr": [0.05, 0.015],
    }


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda o: lr_scheduler.StepLR(o, 0),
            ValueError,
            "StepLR: invalid step_size 0; it must be an int >= 1",
        ),
        (lambda o: lr_scheduler.StepLR(o, 2.5), ValueError, "StepLR: invalid step_size 2.5"),
        (lambda o: lr_scheduler.StepLR(o, 3, gamma=-0.1), ValueError, "StepLR: invalid gamma -0.1"),
        (lambda o: lr_scheduler.ExponentialLR(o, 0.0), ValueError, "ExponentialLR: invalid gamma 0.0"),
        (
            lambda o: lr_scheduler.ExponentialLR(o, float("inf")),
            ValueError,
            "ExponentialLR: invalid gamma inf",
        ),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), ValueError, "CosineAnnealingLR: invalid T_max 0"),
        (
            lambda o: lr_scheduler.CosineAnnealingLR(o, 10, eta_min=-1),
            ValueError,
            "CosineAnnealingLR: invalid eta_min",
        ),
        (
            lambda o: lr_scheduler.StepLR(o, 3, last_epoch=-2),
            ValueError,
            "StepLR: last_epoch must be an int >= -1",
        ),
        (
            lambda o: lr_scheduler.StepLR(o, 3, last_epoch=4),
            KeyError,
            "StepLR: param_groups.0. has no 'initial_lr'",
        ),
        (
            lambda o: lr_scheduler.ExponentialLR(o.param_groups, 0.5),
            TypeError,
            "ExponentialLR: list is not an Optimizer",
        ),
    ],
)
def test_bad_schedules_are_refused_naming_the_schedule(make, error, message):
    opt = optim.SGD([leaf()], lr=0.1)
    with pytest.raises(error, match=message):
        make(opt)


def test_schedule_load_state_dict_refuses_another_optimizers_layout():
    schedule = lr_scheduler.StepLR(two_groups(cr, leaf), 3)
    other = lr_scheduler.StepLR(optim.SGD([leaf()], lr=0.1), 3)
    with pytest.raises(ValueError, match="StepLR: the state dict has 2 base rates; the optimizer has 1"):
        other.load_state_dict(schedule.state_dict())
    with pytest.raises(KeyError, match="lacks"):
        other.load_state_dict({"last_epoch": 3})


def test_step_lr_resumed_at_a_multiple_of_the_step_decays_at_once_as_pytorch():
    torch = pytest.importorskip("torch")
    p = cr.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [p], "lr": 0.1, "initial_lr": 0.1}])
    sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5, last_epoch=5)
    tp = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([{"params": [tp], "lr": 0.1, "initial_lr": 0.1}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5, last_epoch=5)
        for _ in range(7):
            assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-15)
            topt.step()
            sched.step()
            tsched.step()


# ------------------------------------------------------------------ maximize and PyTorch's strategy switches
SWITCHES = ("maximize", "foreach", "fused", "capturable", "differentiable")


def path_of(lib, make, data, objective, steps=STEPS):
    """The trajectory of W and c under ``make(W, c)`` on ``objective`` (either library)."""
    wrap = cr.tensor if lib is cr else lib.tensor
    W, c = wrap(data["W"].copy(), requires_grad=True), wrap(data["c"].copy(), requires_grad=True)
    X, Y = wrap(data["X"]), wrap(data["Y"])
    opt = make(W, c)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        objective(W, c, X, Y).backward()
        opt.step()
        path.append(np.concatenate([np.array(W.tolist()).ravel(), np.array(c.tolist())]))
    return np.array(path)


def negated(W, c, X, Y):
    return -loss(W, c, X, Y)


MAXIMIZE_CASES = [(name, settings[i]) for name, settings in SETTINGS.items() for i in (0, -1)]


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), MAXIMIZE_CASES, ids=[case_id(c) for c in MAXIMIZE_CASES])
def test_maximize_ascends_as_pytorch_does(torch, name, kwargs):
    data = problem(6)
    ours = path_of(cr, lambda W, c: getattr(optim, name)([W, c], maximize=True, **kwargs), data, negated)
    theirs = path_of(
        torch, lambda W, c: getattr(torch.optim, name)([W, c], maximize=True, **kwargs), data, negated
    )
    assert_close(ours, theirs)
    # ascending −loss is descending loss: the same steps, bit for bit
    descent = path_of(cr, lambda W, c: getattr(optim, name)([W, c], **kwargs), data, loss)
    assert_array_equal(ours, descent)
    assert (
        loss(*(cr.tensor(v) for v in (data["W"], data["c"], data["X"], data["Y"]))).item()
        > loss(
            cr.tensor(ours[-1][:12].reshape(3, 4)),
            cr.tensor(ours[-1][12:]),
            cr.tensor(data["X"]),
            cr.tensor(data["Y"]),
        ).item()
    )


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_maximize_set_in_one_group_only_matches_pytorch(torch, name):
    data = problem(7)

    def make(lib):
        return lambda W, c: getattr(lib.optim, name)(
            [{"params": [W], "maximize": True}, {"params": [c], "lr": 0.001}], **SETTINGS[name][-1]
        )

    ours = path_of(cr, make(cr), data, loss, steps=10)
    assert_close(ours, path_of(torch, make(torch), data, loss, steps=10))
    assert not np.allclose(ours[-1][:12], data["W"].ravel())


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("Adagrad", {"lr": 0.1, "lr_decay": 0.1}), ("RMSprop", {"lr": 0.01, "centered": True})],
    ids=["Adagrad", "RMSprop"],
)
def test_maximize_with_a_sparse_gradient_moves_the_rows_used_as_the_dense_update_does(name, kwargs):
    weights, sparse, dense = embeddings(2)
    opts = [getattr(optim, name)(m.parameters(), maximize=True, **kwargs) for m in (sparse, dense)]
    rows = np.array([4, 9, 4])
    for _ in range(15):
        for module, opt in zip((sparse, dense), opts):
            opt.zero_grad()
            (-((module(rows) - 1.0) ** 2)).sum().backward()
            opt.step()
    used, untouched = [4, 9], np.setdiff1d(np.arange(40), [4, 9])
    assert_array_equal(sparse.weight.numpy()[untouched], weights[untouched])
    assert_allclose(sparse.weight.numpy()[used], dense.weight.numpy()[used], rtol=RTOL)
    assert np.abs(sparse.weight.numpy()[used] - 1).sum() < np.abs(weights[used] - 1).sum()


STRATEGIES = {
    "SGD": [{"foreach": True}, {"foreach": False}, {"fused": True}],
    "Adam": [{"foreach": True}, {"fused": True}, {"fused": False, "foreach": False}],
    "AdamW": [{"foreach": True}, {"fused": True}],
    "RMSprop": [{"foreach": True}, {"foreach": False}],
    "Adagrad": [{"foreach": True}, {"fused": True}],
}
STRATEGY_CASES = [(name, s) for name, strategies in STRATEGIES.items() for s in strategies]


@pytest.mark.reference
@pytest.mark.parametrize(("name", "strategy"), STRATEGY_CASES, ids=[case_id(c) for c in STRATEGY_CASES])
def test_foreach_and_fused_change_no_number_and_match_pytorchs_kernels(torch, name, strategy):
    data = problem(8)
    kwargs = SETTINGS[name][-1]
    plain = path_of(cr, lambda W, c: getattr(optim, name)([W, c], **kwargs), data, loss)
    ours = path_of(cr, lambda W, c: getattr(optim, name)([W, c], **kwargs, **strategy), data, loss)
    assert_array_equal(ours, plain)
    theirs = path_of(torch, lambda W, c: getattr(torch.optim, name)([W, c], **kwargs, **strategy), data, loss)
    assert_close(ours, theirs)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_capturable_is_accepted_and_changes_no_number(name):
    data = problem(9)
    plain = path_of(cr, lambda W, c: getattr(optim, name)([W, c], lr=0.01), data, loss)
    ours = path_of(cr, lambda W, c: getattr(optim, name)([W, c], lr=0.01, capturable=True), data, loss)
    assert_array_equal(ours, plain)


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_switches_are_pytorchs_keywords_with_its_defaults_and_group_entries(torch, name):
    import inspect

    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert {k for k in SWITCHES if k in ours} == {k for k in SWITCHES if k in theirs}
    for k in SWITCHES:
        if k in ours:
            assert (ours[k].kind, ours[k].default) == (theirs[k].kind, theirs[k].default), k
    opt = getattr(optim, name)([leaf()])
    topt = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert {k: v for k, v in opt.defaults.items() if k in SWITCHES} == {
        k: v for k, v in topt.defaults.items() if k in SWITCHES
    }
    assert set(opt.param_groups[0]) <= set(topt.param_groups[0])


@pytest.mark.parametrize("name", list(SETTINGS))
def test_differentiable_true_is_refused_in_the_constructor_a_group_and_a_state_dict(name):
    with pytest.raises(ValueError, match=f"{name}: differentiable=True is not supported: a step updates"):
        getattr(optim, name)([leaf()], differentiable=True)
    with pytest.raises(ValueError, match=f"{name}: differentiable=True is not supported"):
        getattr(optim, name)([{"params": [leaf()], "differentiable": True}])
    opt = getattr(optim, name)([leaf()])
    state = opt.state_dict()
    state["param_groups"][0]["differentiable"] = True
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        opt.load_state_dict(state)
    assert opt.param_groups[0]["differentiable"] is False


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_with_foreach_is_refused_as_in_pytorch(name):
    with pytest.raises(RuntimeError, match=f"{name}: `fused` and `foreach` cannot be `True` together"):
        getattr(optim, name)([leaf()], foreach=True, fused=True)
    with pytest.raises(RuntimeError, match="cannot be `True` together"):
        getattr(optim, name)([{"params": [leaf()], "fused": True}], foreach=True)


def test_maximize_is_a_group_setting_set_by_the_constructor_or_the_group():
    a, b = cr.tensor([1.0], requires_grad=True), cr.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "maximize": False}], lr=0.5, maximize=True)
    assert [g["maximize"] for g in opt.param_groups] == [True, False]
    (a + b).sum().backward()
    opt.step()
    assert (a.item(), b.item()) == (1.5, 0.5)
    opt.param_groups[1]["maximize"] = True  # as any setting, changed between steps
    opt.step()
    assert (a.item(), b.item()) == (2.0, 1.0)


@pytest.mark.reference
@pytest.mark.parametrize("name", list(SETTINGS))
def test_a_pytorch_state_dict_with_maximize_loads_and_continues_its_trajectory(torch, name):
    data = problem(10)
    kwargs = {**SETTINGS[name][-1], "maximize": True}
    saved = []

    def keep(W, c):
        opt = getattr(torch.optim, name)([W, c], **kwargs)
        saved.append(opt)
        return opt

    theirs = path_of(torch, keep, data, negated, steps=20)
    first = path_of(torch, keep, data, negated, steps=10)
    checkpoint = copy.deepcopy(saved[-1].state_dict())
    resumed = dict(data, W=first[-1][:12].reshape(3, 4), c=first[-1][12:])

    def restored(W, c):
        opt = getattr(optim, name)([W, c])
        opt.load_state_dict(checkpoint)
        assert opt.param_groups[0]["maximize"] is True
        return opt

    assert_allclose(path_of(cr, restored, resumed, negated, steps=10), theirs[10:], rtol=RTOL, atol=0)


# ------------------------------------------------------------------ MultiStepLR, LambdaLR, LinearLR ...
def decay_095(epoch):
    return 0.95**epoch


def inverse_epoch(epoch):
    return 1.0 / (epoch + 1)


def wave(epoch):
    return 1.0 + 0.5 * math.sin(epoch)


def constant_09(epoch):
    return 0.9


def halve_every_third(epoch):
    return 0.5 if epoch % 3 == 0 else 1.02


NEW_SCHEDULES = [
    ("MultiStepLR", {"milestones": [3, 10, 10, 25]}),
    ("MultiStepLR", {"milestones": [0, 7, 30], "gamma": 0.5}),
    ("MultiStepLR", {"milestones": (10, 20), "gamma": 2.0}),
    ("LambdaLR", {"lr_lambda": decay_095}),
    ("LambdaLR", {"lr_lambda": [inverse_epoch, wave]}),
    ("MultiplicativeLR", {"lr_lambda": constant_09}),
    ("MultiplicativeLR", {"lr_lambda": [halve_every_third, wave]}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 0.75, "total_iters": 10}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 30}),
    ("LinearLR", {"start_factor": 0.1, "total_iters": 1}),
]


def new_id(case):
    name, kwargs = case

    def shown(v):
        return [shown(f) for f in v] if isinstance(v, list) else getattr(v, "__name__", v)

    return name + "-" + ",".join(f"{k}={shown(v)}" for k, v in kwargs.items())


NEW_IDS = [new_id(c) for c in NEW_SCHEDULES]


def torch_two_groups(torch):
    return two_groups(torch, lambda: torch.zeros(2, requires_grad=True))


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), NEW_SCHEDULES, ids=NEW_IDS)
def test_new_schedule_rates_match_pytorch_epoch_by_epoch(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    ours = rates(getattr(lr_scheduler, name)(opt, **kwargs), opt)
    theirs = rates(getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), topt)
    assert ours[0][0] == 0 and ours[-1][0] == EPOCHS
    assert_same_rates(ours, theirs)
    assert len({tuple(r) for _, r, _ in ours}) > 1  # the rates moved


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), NEW_SCHEDULES, ids=NEW_IDS)
def test_new_schedules_carry_a_rate_set_by_hand_and_compose_as_in_pytorch(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    ours = [getattr(lr_scheduler, name)(opt, **kwargs), lr_scheduler.ExponentialLR(opt, 0.97)]
    theirs = [
        getattr(torch.optim.lr_scheduler, name)(topt, **kwargs),
        torch.optim.lr_scheduler.ExponentialLR(topt, 0.97),
    ]
    for epoch in range(EPOCHS):
        if epoch == 12:
            for o in (opt, topt):
                o.param_groups[0]["lr"] = 0.05
        for schedules, o in ((ours, opt), (theirs, topt)):
            o.step()
            for s in schedules:
                s.step()
        for s, t in zip(ours, theirs):
            assert_allclose(s.get_last_lr(), t.get_last_lr(), rtol=RTOL, atol=0)


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), NEW_SCHEDULES, ids=NEW_IDS)
def test_new_schedules_resume_at_last_epoch_as_pytorch(torch, name, kwargs):
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    for o in (opt, topt):
        for group in o.param_groups:
            group["initial_lr"] = group["lr"]
    ours = getattr(lr_scheduler, name)(opt, last_epoch=9, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, last_epoch=9, **kwargs)
    assert_same_rates(rates(ours, opt), rates(theirs, topt))


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), NEW_SCHEDULES, ids=NEW_IDS)
@pytest.mark.parametrize("epoch", [0, 3, 10, 13, 33])
def test_new_schedules_step_with_an_epoch_as_pytorch(torch, name, kwargs, epoch):
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(4):
        opt.step()
        topt.step()
        ours.step()
        theirs.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.step(epoch)
    with pytest.warns(UserWarning, match="deprecated"):
        ours.step(epoch)
    assert ours.last_epoch == theirs.last_epoch == epoch
    assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=RTOL, atol=0)


@pytest.mark.parametrize(("name", "kwargs"), NEW_SCHEDULES, ids=NEW_IDS)
def test_new_schedule_state_dict_resumes_the_rates_exactly(name, kwargs):
    opt = two_groups(cr, leaf)
    whole = rates(getattr(lr_scheduler, name)(opt, **kwargs), opt)
    opt = two_groups(cr, leaf)
    schedule = getattr(lr_scheduler, name)(opt, **kwargs)
    first = rates(schedule, opt, epochs=15)
    resumed_opt = two_groups(cr, leaf)
    resumed = getattr(lr_scheduler, name)(resumed_opt, **kwargs)
    resumed_opt.load_state_dict(opt.state_dict())
    resumed.load_state_dict(schedule.state_dict())
    second = rates(resumed, resumed_opt, epochs=EPOCHS - 15)
    assert first[:-1] + second == whole


@pytest.mark.reference
@pytest.mark.parametrize(("name", "kwargs"), NEW_SCHEDULES, ids=NEW_IDS)
def test_a_pytorch_state_dict_of_a_new_schedule_loads(torch, name, kwargs):
    topt = torch_two_groups(torch)
    theirs = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    rates(theirs, topt, epochs=11)
    opt = two_groups(cr, leaf)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        group["lr"], group["initial_lr"] = tgroup["lr"], tgroup["initial_lr"]
    ours.load_state_dict(theirs.state_dict())
    assert_same_rates(rates(ours, opt), rates(theirs, topt))
    assert set(ours.state_dict()) <= set(theirs.state_dict())


class Warmup:
    """A callable object: its attributes are saved in a state dict, as in PyTorch."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


@pytest.mark.reference
def test_lambda_lr_saves_a_callable_objects_attributes_not_functions_as_pytorch(torch):
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    ours = lr_scheduler.LambdaLR(opt, [decay_095, Warmup(8)])
    theirs = torch.optim.lr_scheduler.LambdaLR(topt, [decay_095, Warmup(8)])
    assert ours.state_dict()["lr_lambdas"] == theirs.state_dict()["lr_lambdas"] == [None, {"epochs": 8}]
    other = lr_scheduler.LambdaLR(two_groups(cr, leaf), [decay_095, Warmup(3)])
    other.load_state_dict(theirs.state_dict())
    assert other.lr_lambdas[1].epochs == 8 and other.lr_lambdas[0] is decay_095
    plain = lr_scheduler.LambdaLR(two_groups(cr, leaf), lambda e: 0.5)
    assert plain.state_dict()["lr_lambdas"] == [None, None]
    assert plain.get_last_lr() == [0.05, 0.015]


def test_multistep_keeps_its_milestones_as_a_counter():
    from collections import Counter

    schedule = lr_scheduler.MultiStepLR(two_groups(cr, leaf), milestones=[5, 2, 5], gamma=0.5)
    assert schedule.milestones == Counter({5: 2, 2: 1})
    assert schedule.state_dict()["milestones"] == Counter({5: 2, 2: 1})


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda o: lr_scheduler.MultiStepLR(o, [2, 2.5]), ValueError, "MultiStepLR: invalid milestone 2.5"),
        (lambda o: lr_scheduler.MultiStepLR(o, 5), TypeError, "MultiStepLR: milestones must be a list"),
        (lambda o: lr_scheduler.MultiStepLR(o, [3], gamma=0), ValueError, "MultiStepLR: invalid gamma 0"),
        (lambda o: lr_scheduler.LambdaLR(o, [decay_095]), ValueError, "LambdaLR: expected 2 lr_lambdas"),
        (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "LambdaLR: lr_lambda should be a function"),
        (
            lambda o: lr_scheduler.MultiplicativeLR(o, [decay_095, 2]),
            TypeError,
            "MultiplicativeLR: lr_lambda should be a function, got a int",
        ),
        (lambda o: lr_scheduler.LambdaLR([], decay_095), TypeError, "LambdaLR: list is not an Optimizer"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, r"LinearLR: invalid start_factor 0"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=1.5), ValueError, "LinearLR: invalid start_factor"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=-0.1), ValueError, "LinearLR: invalid end_factor"),
        (lambda o: lr_scheduler.LinearLR(o, total_iters=0), ValueError, "LinearLR: invalid total_iters 0"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="avg"), ValueError, "mode 'avg' is unknown"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold_mode 'x'"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "invalid factor 1.0"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), ValueError, "invalid patience -1"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, cooldown=1.5), ValueError, "invalid cooldown 1.5"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=-1), ValueError, "invalid min_lr -1"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o.param_groups), TypeError, "list is not an Optimizer"),
    ],
)
def test_bad_new_schedules_are_refused_naming_the_schedule(make, error, message):
    with pytest.raises(error, match=message):
        make(two_groups(cr, leaf))


# ------------------------------------------------------------------ ReduceLROnPlateau
def metrics(seed=0, epochs=60):
    """A loss that falls, then wanders on a plateau with a few small improvements."""
    rng = np.random.default_rng(seed)
    fall = np.r_[np.linspace(5.0, 1.0, 12), np.ones(epochs - 12)]
    return fall + np.abs(rng.normal(scale=0.02, size=epochs)) * (np.arange(epochs) >= 12)


PLATEAUS = [
    {},
    {"patience": 0},
    {"patience": 3, "cooldown": 2},
    {"patience": 2, "factor": 0.5, "min_lr": 0.004},
    {"patience": 1, "factor": 0.5, "min_lr": [0.01, 0.0], "threshold_mode": "abs", "threshold": 0.01},
    {"mode": "max", "patience": 2, "cooldown": 1, "threshold": 0.001},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.0, "patience": 4, "factor": 0.3},
    {"patience": 0, "factor": 0.9, "eps": 0.004},
]


def plateau_id(kwargs):
    return ",".join(f"{k}={v}" for k, v in kwargs.items()) or "defaults"


def plateau_run(scheduler, optimizer, values, wrap=float):
    seen = []
    for value in values:
        optimizer.step()
        scheduler.step(wrap(value))
        seen.append(
            (
                scheduler.last_epoch,
                scheduler.get_last_lr(),
                [g["lr"] for g in optimizer.param_groups],
                scheduler.num_bad_epochs,
                scheduler.cooldown_counter,
                scheduler.best,
            )
        )
    return seen


@pytest.mark.reference
@pytest.mark.parametrize("kwargs", PLATEAUS, ids=[plateau_id(k) for k in PLATEAUS])
def test_reduce_lr_on_plateau_matches_pytorch_epoch_by_epoch(torch, kwargs):
    values = metrics(1) * (-1 if kwargs.get("mode") == "max" else 1)
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    ours = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr()
    got = plateau_run(ours, opt, values, wrap=cr.tensor)
    expected = plateau_run(theirs, topt, values, wrap=torch.tensor)
    assert got == expected
    assert len({tuple(r) for _, r, *_ in got}) > 2  # it reduced, more than once
    assert ours.state_dict() == theirs.state_dict()
    assert "initial_lr" not in opt.param_groups[0]


@pytest.mark.parametrize("kwargs", PLATEAUS, ids=[plateau_id(k) for k in PLATEAUS])
def test_reduce_lr_on_plateau_state_dict_resumes_exactly(kwargs):
    values = metrics(2) * (-1 if kwargs.get("mode") == "max" else 1)
    opt = two_groups(cr, leaf)
    whole = plateau_run(lr_scheduler.ReduceLROnPlateau(opt, **kwargs), opt, values)
    opt = two_groups(cr, leaf)
    schedule = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    first = plateau_run(schedule, opt, values[:25])
    resumed_opt = two_groups(cr, leaf)
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_opt)  # the loaded settings replace these
    resumed_opt.load_state_dict(opt.state_dict())
    resumed.load_state_dict(schedule.state_dict())
    assert first + plateau_run(resumed, resumed_opt, values[25:]) == whole


@pytest.mark.reference
def test_a_pytorch_reduce_lr_on_plateau_state_dict_loads(torch):
    kwargs = {"mode": "max", "patience": 1, "cooldown": 2, "factor": 0.5, "min_lr": [0.001, 0.002]}
    values = -metrics(3)
    topt = torch_two_groups(torch)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    plateau_run(theirs, topt, values[:20])
    opt = two_groups(cr, leaf)
    ours = lr_scheduler.ReduceLROnPlateau(opt)
    for group, tgroup in zip(opt.param_groups, topt.param_groups):
        group["lr"] = tgroup["lr"]
    ours.load_state_dict(theirs.state_dict())
    assert plateau_run(ours, opt, values[20:]) == plateau_run(theirs, topt, values[20:])


@pytest.mark.reference
def test_reduce_lr_on_plateau_with_a_group_added_follows_pytorch(torch):
    opt, topt = two_groups(cr, leaf), torch_two_groups(torch)
    ours, theirs = (
        lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.001),
        torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=0, min_lr=0.001),
    )
    opt.add_param_group({"params": [leaf()], "lr": 0.2})
    topt.add_param_group({"params": [torch.zeros(2, requires_grad=True)], "lr": 0.2})
    assert plateau_run(ours, opt, [1.0, 2.0, 3.0]) == plateau_run(theirs, topt, [1.0, 2.0, 3.0])
    listed = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0, 0.0])
    opt.add_param_group({"params": [leaf()]})
    with pytest.raises(RuntimeError, match="ReduceLROnPlateau: the optimizer has 4 parameter groups"):
        plateau_run(listed, opt, [1.0, 2.0])


def test_reduce_lr_on_plateau_step_with_an_epoch_warns():
    opt = two_groups(cr, leaf)
    schedule = lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.warns(UserWarning, match="deprecated"):
        schedule.step(1.0, epoch=7)
    assert schedule.last_epoch == 7
