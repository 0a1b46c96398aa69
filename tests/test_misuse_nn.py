"""No silent wrong numbers in nn, optim and the creation functions: a misuse gives
PyTorch's answer or an exception at the call that caused it, naming the op, the
shapes and what to do instead, and leaves the caller's data as it was."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn, optim

OPTIMIZERS = [lambda p: optim.SGD(p, lr=0.1), lambda p: optim.Adam(p), lambda p: optim.AdamW(p)]
OPTIMIZER_IDS = ["SGD", "Adam", "AdamW"]


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------ 1. Sequential
@pytest.mark.parametrize(
    ("item", "named"),
    [
        (3, "int"),
        (None, "NoneType"),
        (F.relu, "function"),
        (nn.ReLU, "the class ReLU"),
    ],
    ids=["int", "None", "function", "class"],
)
def test_sequential_refuses_anything_that_is_not_a_module_instance(item, named):
    with pytest.raises(TypeError, match=f"Sequential: argument 1 is {named}, not a Module"):
        nn.Sequential(nn.Linear(2, 2, seed=0), item)


# ------------------------------------------------------------------ 2. loss shapes
def test_mse_loss_warns_at_the_callers_line_when_the_target_broadcasts():
    x, y = np.arange(3.0).reshape(3, 1), np.array([0.0, 1.0, 5.0])
    with pytest.warns(
        UserWarning,
        match=re.escape(
            "mse_loss: Using a target size (3,) that is different to the input size (3, 1). This will "
            "likely lead to incorrect results due to broadcasting. Please ensure they have the same "
            "size."
        ),
    ) as caught:
        loss = F.mse_loss(cr.tensor(x), y)
    assert caught[0].filename == __file__
    assert loss.item() == pytest.approx(np.mean((x - y) ** 2))  # PyTorch's broadcast value, 9 terms


def test_mse_loss_with_equal_shapes_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(cr.ones(3, 1), np.zeros((3, 1)))


@pytest.mark.parametrize(("input_shape", "target_shape"), [((3, 1), (3,)), ((3,), (3, 1)), ((2,), ())])
def test_binary_cross_entropy_with_logits_refuses_a_target_of_another_shape(input_shape, target_shape):
    message = f"Target size {target_shape} must be the same as input size {input_shape}"
    with pytest.raises(ValueError, match=re.escape(f"binary_cross_entropy_with_logits: {message}")):
        F.binary_cross_entropy_with_logits(cr.zeros(input_shape), np.zeros(target_shape, np.float32))


# ------------------------------------------------------------------ 3. every target ignored
@pytest.mark.parametrize(
    "loss",
    [F.cross_entropy, lambda x, t, **kw: F.nll_loss(F.log_softmax(x), t, **kw)],
    ids=["cross_entropy", "nll_loss"],
)
@pytest.mark.parametrize(("reduction", "expected"), [("mean", np.nan), ("sum", 0.0), ("none", np.zeros(3))])
def test_a_loss_over_only_ignored_targets_is_a_mean_of_nothing_with_zero_gradient(loss, reduction, expected):
    x = leaf(np.random.default_rng(0).normal(size=(3, 4)))
    value = loss(x, np.full(3, -100), reduction=reduction)
    assert_array_equal(value.numpy(), expected)  # NaN for the mean, 0/0, as PyTorch
    value.sum().backward()
    assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_a_mean_over_zero_total_weight_is_nan_only_on_the_examples_counted():
    x = leaf(np.random.default_rng(0).normal(size=(3, 4)))
    F.cross_entropy(x, np.array([1, -100, 2]), weight=np.array([0.0, 0.0, 0.0, 1.0])).backward()
    assert np.isnan(x.grad.numpy()[[0, 2]]).all()  # 0/0, as PyTorch
    assert_array_equal(x.grad.numpy()[1], np.zeros(4))  # ignored


def test_the_tangent_of_a_mean_of_nothing_is_nan_as_in_pytorch():
    x = np.random.default_rng(0).normal(size=(3, 4))
    value, tangent = cr.jvp(lambda x: F.cross_entropy(x, np.full(3, -100)), (x,), (np.ones((3, 4)),))
    assert np.isnan(value.item()) and np.isnan(tangent.item())


# ------------------------------------------------------------------ 4. embedding indices
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("bad", [-1, 3, -4])
def test_embedding_refuses_a_negative_or_out_of_range_index_naming_it_and_the_rows(sparse, bad):
    E = nn.Embedding(3, 2, sparse=sparse, seed=0)
    message = f"embedding: index {bad} is out of range for a weight of 3 rows"
    with pytest.raises(IndexError, match=re.escape(message)):
        E(np.array([[0, bad], [2, 1]]))
    with pytest.raises(IndexError, match=re.escape(message)):
        F.embedding([bad], E.weight, sparse=sparse)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_embedding_takes_every_row_from_first_to_last_and_an_empty_index(sparse):
    E = nn.Embedding(3, 2, sparse=sparse, seed=0)
    assert_array_equal(E(np.array([0, 2])).numpy(), E.weight.numpy()[[0, 2]])
    assert E(np.zeros((0,), np.int64)).shape == (0, 2)


# ------------------------------------------------------------------ 5. optimizer parameters
@pytest.mark.parametrize("make", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_an_optimizer_refuses_a_non_leaf_tensor(make):
    w = leaf([1.0, 2.0])
    with pytest.raises(
        ValueError,
        match=r"can't optimize a non-leaf Tensor: parameter 1 \(shape \(2,\)\) "
        r"was computed by MulBackward",
    ):
        make([leaf([0.0]), w * 2])


@pytest.mark.parametrize("make", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_an_optimizer_refuses_an_integer_tensor(make):
    with pytest.raises(TypeError, match=r"parameter 0 \(shape \(2,\)\) has dtype int64; only floating"):
        make([cr.tensor(np.array([1, 2]))])


@pytest.mark.parametrize("make", OPTIMIZERS, ids=OPTIMIZER_IDS)
@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        (lambda w: w, TypeError, r"an iterable of Tensors, got one Tensor of shape \(2,\); pass \[tensor\]"),
        (lambda w: [w, 3.0], TypeError, "parameter 1 is a float, not a Tensor"),
        (
            lambda w: [w, leaf([0.0]), w],
            ValueError,
            r"parameter 2 \(shape \(2,\)\) is the same tensor as "
            r"parameter 0",
        ),
        (lambda w: iter([]), ValueError, "empty parameter list"),
    ],
    ids=["one-tensor", "non-tensor", "duplicate", "empty"],
)
def test_an_optimizer_refuses_what_it_cannot_step_once_each(make, params, error, message):
    with pytest.raises(error, match=message):
        make(params(leaf([1.0, 2.0])))


@pytest.mark.parametrize("make", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_an_optimizer_refuses_a_parameter_a_module_shares_twice(make):
    m = nn.Linear(2, 2, seed=0)
    with pytest.raises(ValueError, match="parameter 2 .* same tensor as parameter 0"):
        make([*m.parameters(), m.weight])


def test_a_leaf_that_does_not_require_grad_is_accepted_and_moves_with_its_grad():
    x = cr.zeros(2, dtype=np.float64)  # PyTorch: SGD takes it; a step moves it by −lr·grad
    opt = optim.SGD([x], lr=0.1)
    x.grad = np.ones(2)
    opt.step()
    assert_array_equal(x.numpy(), [-0.1, -0.1])


# ------------------------------------------------------------------ 6. load_state_dict
class Mixed(nn.Module):
    """A float32 layer and a frozen integer table."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2, seed=0, dtype=np.float32)
        self.table = nn.Parameter(np.arange(4), requires_grad=False)


def snapshot(m):
    return {name: p.numpy().copy() for name, p in m.named_parameters()}


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("layer.bias", np.zeros(2, np.complex64), TypeError, "layer.bias has dtype complex64 .* float32"),
        ("layer.bias", np.array([None, None]), TypeError, "layer.bias has dtype object"),
        ("layer.bias", ["a", "b"], TypeError, "layer.bias has dtype <U1"),
        ("table", np.full(4, 0.5), TypeError, "table has dtype float64 in the state but int64"),
        ("table", np.zeros(5, np.int64), ValueError, r"table has shape \(5,\) in the state but \(4,\)"),
    ],
    ids=["complex", "object", "str", "float-into-int", "shape"],
)
def test_a_failed_load_state_dict_leaves_every_parameter_bit_identical(name, value, error, message):
    m = Mixed()
    before = snapshot(m)
    state = {key: v + 1 for key, v in before.items()}  # every other entry would load
    state[name] = value
    with pytest.raises(error, match=message):
        m.load_state_dict(state)
    for key, v in snapshot(m).items():
        assert_array_equal(v, before[key])
        assert v.dtype == before[key].dtype


def test_load_state_dict_casts_within_a_kind_as_torch_copy_does():
    m = Mixed()
    state = {
        "layer.weight": np.full((2, 3), 0.1),
        "layer.bias": np.array([1, 2]),
        "table": np.arange(4, dtype=np.int32) * 2,
    }
    assert m.load_state_dict(state) == ([], [])
    assert m.layer.weight.dtype == np.float32 and m.table.dtype == np.int64
    assert_array_equal(m.layer.weight.numpy(), np.full((2, 3), 0.1, np.float32))
    assert_array_equal(m.layer.bias.numpy(), [1.0, 2.0])
    assert_array_equal(m.table.numpy(), [0, 2, 4, 6])


@pytest.mark.parametrize("path", ["model.npz", b"model.npz", pytest.param("path", id="PathLike")])
def test_load_state_dict_refuses_a_path_and_says_how_to_load_it(path, tmp_path):
    path = tmp_path / "model.npz" if path == "path" else path
    hint = "load it first: model.load_state_dict(dict(np.load(path)))"
    with pytest.raises(TypeError, match=re.escape(hint)):
        Mixed().load_state_dict(path)


def test_load_state_dict_reads_an_npz_file_opened_by_numpy(tmp_path):
    a, b = nn.Linear(3, 2, seed=0), nn.Linear(3, 2, seed=1)
    np.savez(tmp_path / "a.npz", **a.state_dict())
    with np.load(tmp_path / "a.npz") as saved:
        b.load_state_dict(saved)
    assert_array_equal(b.weight.numpy(), a.weight.numpy())


def test_load_state_dict_not_strict_loads_the_names_in_common_and_returns_the_others():
    m = Mixed()
    before = snapshot(m)
    result = m.load_state_dict({"layer.bias": np.array([5.0, 6.0]), "extra": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["table", "layer.weight"] and result.unexpected_keys == ["extra"]
    assert_array_equal(m.layer.bias.numpy(), [5.0, 6.0])
    assert_array_equal(m.layer.weight.numpy(), before["layer.weight"])
    with pytest.raises(ValueError, match="shape"):  # shapes are checked even when not strict
        m.load_state_dict({"layer.bias": np.zeros(3)}, strict=False)


# ------------------------------------------------------------------ 7. creation arguments
@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: cr.zeros(2.5), "zeros"),
        (lambda: cr.zeros((2, 2.0)), "zeros"),
        (lambda: cr.zeros(True), "zeros"),
        (lambda: cr.ones(2.0), "ones"),
        (lambda: cr.full(2.5, 1.0), "full"),
        (lambda: cr.full((2, 1.5), 0.0), "full"),
        (lambda: cr.eye(2.5), "eye"),
        (lambda: cr.eye(2, 2.0), "eye"),
        (lambda: cr.randn(2.5, seed=0), "randn"),
        (lambda: cr.rand(np.float64(3), seed=0), "rand"),
    ],
)
def test_creation_functions_refuse_a_size_that_is_not_an_integer(make, name):
    with pytest.raises(TypeError, match=f"{name}: a size must be an integer"):
        make()


def test_creation_functions_take_python_and_numpy_integer_sizes():
    assert cr.zeros(np.int64(2), 3).shape == (2, 3)
    assert cr.full([np.int32(2)], 1.0).shape == (2,)
    assert cr.eye(np.int64(2), 3).shape == (2, 3)
    assert cr.full(np.array([2, 3]), 0.0).shape == cr.zeros(np.array(2)).shape + (3,)


CREATORS = {
    "zeros": lambda rg: cr.zeros(2, requires_grad=rg),
    "ones": lambda rg: cr.ones(2, requires_grad=rg),
    "full": lambda rg: cr.full(2, 1.0, requires_grad=rg),
    "eye": lambda rg: cr.eye(2, requires_grad=rg),
    "arange": lambda rg: cr.arange(3.0, requires_grad=rg),
    "zeros_like": lambda rg: cr.zeros_like(np.ones(2), requires_grad=rg),
    "ones_like": lambda rg: cr.ones_like(np.ones(2), requires_grad=rg),
    "randn": lambda rg: cr.randn(2, seed=0, requires_grad=rg),
    "rand": lambda rg: cr.rand(2, seed=0, requires_grad=rg),
}


@pytest.mark.parametrize("flag", ["yes", 1, 1.0, 0, None], ids=repr)
@pytest.mark.parametrize("name", CREATORS)
def test_creation_functions_refuse_a_requires_grad_that_is_not_a_bool(name, flag):
    with pytest.raises(TypeError, match=f"{name}: requires_grad must be True or False, got "):
        CREATORS[name](flag)


@pytest.mark.parametrize("name", CREATORS)
def test_creation_functions_take_numpy_bools_for_requires_grad(name):
    assert CREATORS[name](np.True_).requires_grad is True
    assert CREATORS[name](np.False_).requires_grad is False


def test_a_refused_requires_grad_leaves_the_callers_generator_undrawn():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError):
        cr.randn(3, seed=rng, requires_grad="yes")
    assert rng.random() == np.random.default_rng(0).random()


# needs tensor.py
@pytest.mark.parametrize("flag", ["yes", 1, 1.0, None], ids=repr)
def test_tensor_refuses_a_requires_grad_that_is_not_a_bool(flag):
    with pytest.raises(TypeError, match="requires_grad"):
        cr.tensor([1.0, 2.0], requires_grad=flag)
    assert cr.tensor([1.0], requires_grad=np.True_).requires_grad is True


# needs tensor.py
@pytest.mark.parametrize("flag", ["yes", 1, 1.0, None], ids=repr)
def test_requires_grad_method_and_setter_refuse_a_flag_that_is_not_a_bool(flag):
    t = cr.zeros(2)
    with pytest.raises(TypeError, match="requires_grad"):
        t.requires_grad_(flag)
    with pytest.raises(TypeError, match="requires_grad"):
        t.requires_grad = flag
    assert t.requires_grad is False
    t.requires_grad = np.True_
    assert t.requires_grad is True


# needs tensor.py
@pytest.mark.parametrize(
    "grad",
    [np.ones(2, np.int64), cr.tensor(np.array([1, 1])), np.array([True, False])],
    ids=["int-array", "int-tensor", "bool-array"],
)
def test_an_integer_grad_cannot_be_assigned_to_a_float_tensor(grad):
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="grad"):
        x.grad = grad
    assert x.grad is None


# ------------------------------------------------------------------ against PyTorch
@pytest.mark.reference
def test_pytorch_gives_the_same_loss_and_gradient_when_every_target_is_ignored():
    torch = pytest.importorskip("torch")
    x0 = np.random.default_rng(1).normal(size=(3, 4))
    cases = ((np.full(3, -100), None), (np.array([1, -100, 2]), np.array([0.0, 0.0, 0.0, 1.0])))
    for target, weight in cases:
        for reduction in ("mean", "sum", "none"):
            x, xt = leaf(x0), torch.tensor(x0, requires_grad=True)
            ours = F.cross_entropy(x, target, weight=weight, reduction=reduction)
            theirs = torch.nn.functional.cross_entropy(
                xt,
                torch.from_numpy(target),
                weight=None if weight is None else torch.from_numpy(weight),
                reduction=reduction,
            )
            ours.sum().backward()
            theirs.sum().backward()
            assert_allclose(ours.numpy(), theirs.detach().numpy())
            assert_allclose(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.reference
def test_pytorch_words_the_loss_shape_messages_as_we_do():
    torch = pytest.importorskip("torch")

    def sizes(text):  # "(torch.Size([3, 1]))" → "(3, 1)"
        return re.sub(
            r"\(torch\.Size\(\[(.*?)\]\)\)", lambda m: str(tuple(int(n) for n in m[1].split(", ") if n)), text
        )

    with pytest.warns(UserWarning) as theirs:
        torch.nn.functional.mse_loss(torch.zeros(3, 1), torch.zeros(3))
    with pytest.warns(UserWarning) as ours:
        F.mse_loss(cr.zeros(3, 1), cr.zeros(3))
    assert str(ours[0].message) == "mse_loss: " + sizes(str(theirs[0].message))
    with pytest.raises(ValueError) as theirs:
        torch.nn.functional.binary_cross_entropy_with_logits(torch.zeros(3, 1), torch.zeros(3))
    with pytest.raises(ValueError) as ours:
        F.binary_cross_entropy_with_logits(cr.zeros(3, 1), cr.zeros(3))
    assert str(ours.value) == "binary_cross_entropy_with_logits: " + sizes(str(theirs.value))


@pytest.mark.reference
@pytest.mark.parametrize(
    ("error", "theirs", "ours"),
    [
        (
            TypeError,
            lambda torch: torch.nn.Sequential(torch.nn.ReLU(), 3),
            lambda: nn.Sequential(nn.ReLU(), 3),
        ),
        (TypeError, lambda torch: torch.zeros(2.5), lambda: cr.zeros(2.5)),
        (TypeError, lambda torch: torch.zeros(2, requires_grad=1), lambda: cr.zeros(2, requires_grad=1)),
        (
            ValueError,
            lambda torch: torch.optim.SGD([torch.zeros(2, requires_grad=True) * 2], lr=0.1),
            lambda: optim.SGD([cr.zeros(2, requires_grad=True) * 2], lr=0.1),
        ),
        (
            TypeError,
            lambda torch: torch.optim.SGD(torch.zeros(2, requires_grad=True), lr=0.1),
            lambda: optim.SGD(cr.zeros(2, requires_grad=True), lr=0.1),
        ),
        (
            TypeError,
            lambda torch: torch.nn.Linear(2, 1).load_state_dict("model.pt"),
            lambda: nn.Linear(2, 1).load_state_dict("model.pt"),
        ),
    ],
    ids=["sequential", "float-size", "int-requires-grad", "non-leaf", "one-tensor", "path"],
)
def test_pytorch_refuses_the_same_misuses_with_the_same_exception_type(error, theirs, ours):
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        theirs(torch)
    with pytest.raises(error):
        ours()
