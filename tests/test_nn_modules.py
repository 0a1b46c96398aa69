"""Modules, parameters, layers and the row-sparse embedding gradient."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr
from chainrule import nn
from chainrule.sparse import RowSparse


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4, seed=0)
        self.out = nn.Linear(4, 2, seed=1)
        self.drop = nn.Dropout(0.5, seed=2)

    def forward(self, x):
        return self.out(self.drop(cr.tanh(self.hidden(x))))


def test_named_parameters_walk_the_tree_in_assignment_order():
    m = TwoLayer()
    names = [name for name, _ in m.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf for p in m.parameters())


def test_a_parameter_shared_by_two_modules_is_listed_once():
    m = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Linear(2, 2, seed=1))
    m[1].weight = m[0].weight
    assert len(list(m.parameters())) == 3


def test_linear_weight_and_bias_have_pytorch_shapes_and_init_bounds():
    layer = nn.Linear(16, 5, seed=0)
    assert layer.weight.shape == (5, 16) and layer.bias.shape == (5,)
    assert layer.weight.dtype == cr.get_default_dtype()
    assert np.abs(layer.weight.numpy()).max() <= 0.25 and np.abs(layer.bias.numpy()).max() <= 0.25
    assert nn.Linear(3, 2, bias=False).bias is None
    assert_array_equal(nn.Linear(16, 5, seed=0).weight.numpy(), layer.weight.numpy())


def test_linear_forward_and_gradients_follow_the_closed_form():
    layer = nn.Linear(3, 2, seed=3, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(4, 3))
    W, b = layer.weight.numpy(), layer.bias.numpy()
    y = layer(cr.tensor(x))
    assert_allclose(y.numpy(), x @ W.T + b)
    y.sum().backward()
    assert_allclose(layer.weight.grad.numpy(), np.ones((2, 4)) @ x)
    assert_allclose(layer.bias.grad.numpy(), [4.0, 4.0])


def test_zero_grad_clears_every_gradient():
    m = TwoLayer()
    m(cr.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_and_eval_switch_dropout_in_every_submodule():
    m = TwoLayer()
    x = cr.ones(64, 3)
    assert m.training and m.drop.training
    assert m.eval() is m and not m.drop.training
    assert_array_equal(m(x).numpy(), m(x).numpy())  # deterministic in eval mode
    m.train()
    assert m.drop.training
    assert not np.array_equal(m(x).numpy(), m(x).numpy())  # a fresh mask each call


def test_state_dict_round_trip_copies_values():
    a, b = TwoLayer(), nn.Sequential()
    state = a.state_dict()
    assert list(state) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    state["hidden.bias"][:] = 7.0  # a copy: the model is untouched
    assert not np.any(a.hidden.bias.numpy() == 7.0)
    b = TwoLayer()
    b.hidden.weight.data = np.zeros((4, 3))
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert_array_equal(p.numpy(), q.numpy())


def test_load_state_dict_checks_names_and_shapes():
    m = TwoLayer()
    state = m.state_dict()
    del state["out.bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing \['out.bias'\], unexpected \['extra'\]") as error:
        m.load_state_dict(state)
    assert isinstance(error.value, ValueError)
    assert str(error.value) == "load_state_dict: missing ['out.bias'], unexpected ['extra']"
    state = m.state_dict()
    state["out.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"out.weight has shape \(3, 3\).*\(2, 4\)"):
        m.load_state_dict(state)


def test_module_needs_super_init_and_a_forward():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super"):
        Broken()
    with pytest.raises(NotImplementedError):
        nn.Module()(1)


def test_sequential_applies_modules_in_order():
    net = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1), nn.Sigmoid())
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    W1, b1, W2, b2 = (p.numpy() for p in net.parameters())
    h = np.maximum(x @ W1.T + b1, 0)
    assert_allclose(net(x).numpy(), 1 / (1 + np.exp(-(h @ W2.T + b2))), rtol=1e-6)
    assert len(net) == 4 and isinstance(net[1], nn.ReLU)
    assert_allclose(nn.Tanh()(cr.tensor([0.5])).numpy(), np.tanh([0.5]), rtol=1e-6)


def test_dense_embedding_gradient_is_a_dense_tensor():
    E = nn.Embedding(5, 2, seed=0)
    E(np.array([1, 1, 3])).sum().backward()
    assert isinstance(E.weight.grad, cr.Tensor)
    assert_allclose(E.weight.grad.numpy(), [[0, 0], [2, 2], [0, 0], [1, 1], [0, 0]])


def test_sparse_embedding_gradient_is_row_sparse_with_summed_repeats():
    E = nn.Embedding(1000, 3, sparse=True, seed=0)
    out = E(np.array([[7, 2], [7, 7]]))
    g = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    out.backward(gradient=g)
    grad = E.weight.grad
    assert isinstance(grad, RowSparse)
    assert grad.shape == (1000, 3) and grad.dtype == np.float32
    assert_array_equal(grad.indices, [2, 7])
    assert_allclose(grad.values, [g[0, 1], g[0, 0] + g[1, 0] + g[1, 1]])
    dense = np.zeros((1000, 3), dtype=np.float32)
    dense[2], dense[7] = grad.values
    assert_array_equal(np.asarray(grad), dense)
    assert_array_equal(grad.to_dense().numpy(), dense)


def test_sparse_gradients_accumulate_sparsely_and_densely():
    E = nn.Embedding(10, 2, sparse=True, seed=0)
    E(np.array([1])).sum().backward()
    E(np.array([4, 1])).sum().backward()
    assert isinstance(E.weight.grad, RowSparse)
    assert_array_equal(E.weight.grad.indices, [1, 4])
    assert_allclose(E.weight.grad.values, [[2, 2], [1, 1]])
    (E.weight * 1.0).sum().backward()  # a dense use of the same weight: the sum turns dense
    expected = np.ones((10, 2))
    expected[1] += 2
    expected[4] += 1
    assert isinstance(E.weight.grad, cr.Tensor)
    assert_allclose(E.weight.grad.numpy(), expected)


def test_sparse_and_dense_uses_in_one_graph_add_up():
    E = nn.Embedding(4, 2, sparse=True, seed=0)
    (E(np.array([0, 0])).sum() + (E.weight * 3.0).sum()).backward()
    assert_allclose(np.asarray(E.weight.grad), [[5, 5], [3, 3], [3, 3], [3, 3]])


def test_sparse_embedding_second_order_gradient_is_dense_and_correct():
    E = nn.Embedding.from_pretrained(np.array([[1.0, 2.0], [3.0, 4.0]]), freeze=False, sparse=True)
    loss = (E(np.array([1, 1])) ** 3).sum()
    (g,) = cr.autograd.grad(loss, E.weight, create_graph=True)
    assert_allclose(g.numpy(), [[0, 0], [2 * 3 * 9, 2 * 3 * 16]])
    (h,) = cr.autograd.grad(g.sum(), E.weight)
    assert_allclose(h.numpy(), [[0, 0], [2 * 6 * 3, 2 * 6 * 4]])


def test_row_sparse_values_pass_gradcheck():
    E = cr.tensor(np.random.default_rng(1).normal(size=(5, 3)), requires_grad=True)
    w = np.random.default_rng(2).normal(size=(2, 3))
    assert cr.gradcheck(
        lambda E: (cr.nn.functional.embedding(np.array([4, 1]), E, sparse=True) * w).sum(), (E,)
    )


def test_from_pretrained_copies_and_freezes_by_default():
    vectors = np.arange(6.0).reshape(3, 2)
    frozen = nn.Embedding.from_pretrained(vectors)
    assert not frozen.weight.requires_grad and frozen.weight.dtype == np.float64
    vectors[0, 0] = 100.0
    assert frozen.weight.numpy()[0, 0] == 0.0
    assert_array_equal(frozen(np.array([2])).numpy(), [[4.0, 5.0]])
    assert nn.Embedding.from_pretrained(vectors, freeze=False, sparse=True).weight.requires_grad
    with pytest.raises(ValueError, match="2-D"):
        nn.Embedding.from_pretrained(np.zeros(3))


def test_row_sparse_grad_can_be_assigned_but_must_have_the_shape():
    w = cr.zeros(4, 2, requires_grad=True)
    w.grad = RowSparse(np.array([1]), np.ones((1, 2), dtype=np.float32), (4, 2))
    assert isinstance(w.grad, RowSparse)
    with pytest.raises(ValueError, match="shape"):
        w.grad = RowSparse(np.array([1]), np.ones((1, 2)), (5, 2))


def test_row_sparse_repr_and_mismatched_values():
    g = RowSparse(np.array([3, 1]), np.ones((2, 2)), (4, 2))
    assert repr(g) == "RowSparse(shape=(4, 2), rows=[1, 3], dtype=float64)"
    with pytest.raises(ValueError, match="one row"):
        RowSparse(np.array([1, 2]), np.ones((3, 2)), (4, 2))
    with pytest.raises(ValueError, match="shapes"):
        g + RowSparse(np.array([0]), np.ones((1, 3)), (4, 3))


def test_assigning_a_plain_tensor_to_a_parameter_raises_and_keeps_it_registered():
    layer = nn.Linear(2, 3, seed=0)
    weight = layer.weight
    for value in (cr.zeros(3, 2), np.zeros((3, 2)), 1.0):
        with pytest.raises(TypeError, match=r"parameter 'weight'.*cr\.nn\.Parameter.*no_grad"):
            layer.weight = value
    assert layer.weight is weight
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_updating_a_parameter_in_place_under_no_grad_keeps_it_registered():
    layer = nn.Linear(2, 3, seed=0)
    with cr.no_grad():
        layer.weight.copy_(cr.ones(3, 2))
    assert_array_equal(layer.state_dict()["weight"], np.ones((3, 2)))


def test_assigning_a_parameter_replaces_it_in_its_place():
    layer = nn.Linear(2, 3, seed=0)
    replacement = nn.Parameter(np.ones((3, 2)))
    layer.weight = replacement
    assert layer.weight is replacement
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert_array_equal(layer.state_dict()["weight"], np.ones((3, 2)))


def test_assigning_none_unregisters_a_parameter_until_a_parameter_comes_back():
    """As in PyTorch: None leaves parameters() and state_dict(); the name still takes only a
    Parameter (or None), which returns to its old place."""
    layer = nn.Linear(2, 3, seed=0)
    layer.weight = None
    assert layer.weight is None
    assert [name for name, _ in layer.named_parameters()] == ["bias"] and list(layer.state_dict()) == ["bias"]
    with pytest.raises(TypeError, match="'weight'"):
        layer.weight = cr.zeros(3, 2)
    layer.weight = nn.Parameter(np.zeros((3, 2)))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_deleting_a_parameter_frees_its_name():
    layer = nn.Linear(2, 3, seed=0)
    del layer.weight
    assert [name for name, _ in layer.named_parameters()] == ["bias"]
    layer.weight = cr.zeros(3, 2)  # now an ordinary attribute
    assert [name for name, _ in layer.named_parameters()] == ["bias"]


@pytest.mark.reference
def test_parameter_assignment_registers_what_pytorch_registers():
    torch = pytest.importorskip("torch")
    values = {  # kind -> (ours, theirs), given the shape
        "tensor": lambda shape: (cr.zeros(*shape), torch.zeros(*shape)),
        "none": lambda shape: (None, None),
        "parameter": lambda shape: (nn.Parameter(np.zeros(shape)), torch.nn.Parameter(torch.zeros(*shape))),
    }
    steps = [
        ("weight", "tensor"),
        ("weight", "none"),
        ("weight", "tensor"),
        ("weight", "parameter"),
        ("bias", "none"),
        ("bias", "tensor"),
        ("bias", "parameter"),
    ]
    ours, theirs = nn.Linear(2, 3, seed=0), torch.nn.Linear(2, 3)
    for name, kind in steps:
        outcomes = []
        for module, value in zip((ours, theirs), values[kind]((3, 2) if name == "weight" else (3,))):
            try:
                setattr(module, name, value)
                outcomes.append("assigned")
            except TypeError:
                outcomes.append("TypeError")
        assert outcomes[0] == outcomes[1], (name, kind, outcomes)
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        assert list(ours.state_dict()) == list(theirs.state_dict())
