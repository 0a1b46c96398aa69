"""In-place updates as PyTorch does them: the same tensor and storage, a version counter,
and a backward pass that refuses values changed after they were saved."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr


def leaf(values):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ------------------------------------------------------------------ the version counter
@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.__iadd__(1.0),
        lambda t: t.__isub__(1.0),
        lambda t: t.__imul__(2.0),
        lambda t: t.__itruediv__(2.0),
        lambda t: t.__setitem__(0, 5.0),
        lambda t: t.add_(1.0),
        lambda t: t.sub_(1.0),
        lambda t: t.mul_(2.0),
        lambda t: t.div_(2.0),
        lambda t: t.zero_(),
        lambda t: t.fill_(3.0),
        lambda t: t.copy_(np.ones(2)),
        lambda t: t.clamp_(0.0, 1.0),
        lambda t: setattr(t, "data", np.ones(2)),
    ],
    ids=[
        "+=",
        "-=",
        "*=",
        "/=",
        "setitem",
        "add_",
        "sub_",
        "mul_",
        "div_",
        "zero_",
        "fill_",
        "copy_",
        "clamp_",
        ".data=",
    ],
)
def test_every_in_place_change_bumps_the_version_and_keeps_the_storage(change):
    t = cr.tensor(np.array([1.0, 2.0]))
    storage = t.data
    assert t._version == 0
    change(t)
    assert t._version == 1
    assert t.data is storage


def test_matmul_in_place_keeps_the_storage_of_a_square_matrix():
    t = cr.tensor(np.eye(2) * 2.0)
    storage = t.data
    t @= cr.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert t.data is storage and t._version == 1
    assert_array_equal(t.numpy(), [[2.0, 4.0], [6.0, 8.0]])


def test_in_place_methods_give_torchs_values():
    t = cr.tensor(np.array([1.0, -2.0, 3.0]))
    t.add_(np.array([1.0, 1.0, 1.0]), alpha=2)
    assert_array_equal(t.numpy(), [3.0, 0.0, 5.0])
    t.sub_(1.0, alpha=3).mul_(2.0).div_(4.0)
    assert_array_equal(t.numpy(), [0.0, -1.5, 1.0])
    t.clamp_(min=-1.0)
    assert_array_equal(t.numpy(), [0.0, -1.0, 1.0])
    t.fill_(0.1)
    assert t.numpy().tolist() == [0.1, 0.1, 0.1]  # float64 0.1 exactly, not via float32
    t.zero_()
    assert_array_equal(t.numpy(), [0.0, 0.0, 0.0])


def test_detach_shares_the_version_counter():
    x = leaf([1.0, 2.0])
    d = x.detach()
    d.add_(1.0)
    assert x._version == 1
    assert_array_equal(x.numpy(), [2.0, 3.0])


# ------------------------------------------------------------------ parameter updates
def test_no_grad_update_changes_the_parameter_in_place():
    p = leaf([1.0, 2.0])
    same = p
    (p * p).sum().backward()
    with cr.no_grad():
        p -= 0.25 * p.grad
    assert p is same and p.requires_grad and p.is_leaf
    assert_allclose(p.numpy(), [0.5, 1.0])


def test_a_model_learns_with_the_manual_update_loop():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    model = cr.nn.Linear(3, 1)
    weight, bias = model.weight, model.bias

    def loss_value():
        return float(((model(cr.tensor(X, dtype=model.weight.dtype)).reshape(-1) - y) ** 2).mean())

    before = loss_value()
    for _ in range(50):
        loss = ((model(cr.tensor(X, dtype=model.weight.dtype)).reshape(-1) - y) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with cr.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert model.weight is weight and model.bias is bias
    assert loss_value() < 0.01 * before


def test_in_place_change_of_a_leaf_that_requires_grad_is_refused_while_recording():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\+=: a leaf tensor that requires grad .*no_grad"):
        x += 1.0
    with pytest.raises(RuntimeError, match="zero_: a leaf tensor"):
        x.zero_()
    with pytest.raises(RuntimeError, match="setitem: a leaf tensor"):
        x[0] = 3.0
    assert_array_equal(x.numpy(), [1.0, 2.0])
    assert x._version == 0


def test_an_optimizer_step_bumps_the_version_of_each_parameter():
    p = leaf([1.0, 2.0])
    opt = cr.optim.SGD([p], lr=0.1)
    y = (p * p).sum()
    y.backward(retain_graph=True)
    opt.step()
    assert p._version == 1
    with pytest.raises(RuntimeError, match="changed in place after it was used: version 1, expected 0"):
        y.backward()


# ------------------------------------------------------------------ recorded in-place changes
def test_in_place_add_on_a_non_leaf_is_recorded_with_the_right_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3
    same, storage = y, y.data
    y += x**2  # y = 3x + x², dy/dx = 3 + 2x
    assert y is same and y.data is storage and y._version == 1
    assert not y.is_leaf and y.grad_fn is not None
    y.sum().backward()
    assert_allclose(x.grad.numpy(), [5.0, 7.0])


def test_in_place_multiply_by_itself_uses_the_old_value():
    x = leaf([1.0, 2.0])
    y = x * 1
    same = y
    y *= y  # y = x², dy/dx = 2x
    assert y is same
    y.sum().backward()
    assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_in_place_change_with_an_operand_that_requires_grad_records_the_target():
    w = leaf([2.0, 3.0])
    acc = cr.zeros(2, dtype=np.float64)
    same = acc
    acc += w * w
    assert acc is same and acc.requires_grad and not acc.is_leaf
    acc.sum().backward()
    assert_allclose(w.grad.numpy(), [4.0, 6.0])


def test_setitem_is_recorded_with_the_gradient_of_each_side():
    x = leaf([1.0, 2.0])
    y = x * 2
    y[0] = x[1] * 5  # y = [5 x1, 2 x1]
    y.sum().backward()
    assert_allclose(x.grad.numpy(), [0.0, 7.0])


def test_setitem_broadcasts_the_value_and_sums_its_gradient_back():
    x = leaf(np.ones((2, 3)))
    v = leaf([10.0, 20.0, 30.0])
    y = x * 1
    y[:, 1:] = v[1:]
    assert_array_equal(y.numpy(), [[1.0, 20.0, 30.0], [1.0, 20.0, 30.0]])
    (y * cr.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    assert_allclose(x.grad.numpy(), [[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    assert_allclose(v.grad.numpy(), [0.0, 1.0 + 4.0, 2.0 + 5.0])


def test_setitem_with_repeated_advanced_indices_is_refused_while_recording():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    with pytest.raises(RuntimeError, match="more than once"):
        y[np.array([0, 0])] = x[:2]


def test_setitem_without_gradients_is_numpys_assignment():
    t = cr.tensor(np.zeros(4))
    t[np.array([0, 0, 2])] = np.array([1.0, 2.0, 3.0])
    expected = np.zeros(4)
    expected[np.array([0, 0, 2])] = np.array([1.0, 2.0, 3.0])
    assert_array_equal(t.numpy(), expected)


def test_fill_and_zero_cut_the_gradient_of_the_old_value_to_zero():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.zero_()
    (gx,) = cr.autograd.grad(y.sum(), x)
    assert_array_equal(gx.numpy(), [0.0, 0.0])


def test_copy_sends_the_gradient_to_the_source_and_converts_its_dtype():
    x = leaf([1.0, 2.0])
    src = cr.tensor(np.array([5.0, 6.0], dtype=np.float32), requires_grad=True)
    y = x * 2
    y.copy_(src * 3)
    assert y.dtype == np.float64
    gx, gs = cr.autograd.grad(y.sum(), [x, src])
    assert_array_equal(gx.numpy(), [0.0, 0.0])
    assert_array_equal(gs.numpy(), [3.0, 3.0]) and gs.dtype == np.float32


def test_clamp_in_place_passes_the_gradient_inside_the_bounds_only():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.clamp_(0.0, 3.0)
    (gx,) = cr.autograd.grad(y.sum(), x)
    assert_array_equal(gx.numpy(), [2.0, 0.0])


# ------------------------------------------------------------------ saved values changed
def test_backward_refuses_a_saved_input_changed_in_place():
    w = leaf([[1.0], [2.0]])
    a = cr.tensor(np.array([[3.0, 4.0]]), requires_grad=True)
    z = w @ a
    with cr.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError) as info:
        z.sum().backward()
    assert str(info.value).startswith(
        "one of the tensors needed for the gradient of `matmul` (shape (2, 1)) was changed in place "
        "after it was used: version 1, expected 0"
    )
    assert a.grad is None and w.grad is None


def test_backward_refuses_a_saved_output_changed_in_place():
    x = leaf([0.0, 1.0])
    y = cr.exp(x)  # exp's rule reads its output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="gradient of `exp`.*version 1, expected 0"):
        y.sum().backward()


def test_a_constant_operand_changed_in_place_is_caught_too():
    x = leaf([1.0, 2.0])
    c = cr.tensor(np.array([3.0, 4.0]))
    y = (x * c).sum()
    c += 1.0
    with pytest.raises(RuntimeError, match="gradient of `mul`"):
        y.backward()


def test_a_change_through_a_view_is_caught_by_the_tensor_it_views():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    c = cr.tensor(np.arange(4.0))
    y = (x * c).sum()
    view = c.reshape(2, 2)
    view[0, 0] = 10.0
    assert c._version == 1 and c.numpy()[0] == 10.0
    with pytest.raises(RuntimeError, match="gradient of `mul`"):
        y.backward()


def test_ops_whose_rules_read_nothing_allow_later_in_place_changes():
    x = leaf([1.0, 2.0])
    c = cr.tensor(np.array([3.0, 4.0]))
    y = (x + c).sum()  # add's rule reads no values
    c += 1.0
    y.backward()
    assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_in_place_change_of_a_view_is_refused_while_recording():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    h = x * 1
    row = h.reshape(2, 2)[0]
    with pytest.raises(RuntimeError, match="view"):
        row += x[:2]


# ------------------------------------------------------------------ bad in-place input
def test_in_place_change_cannot_change_the_dtype_kind():
    t = cr.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=.*float64.*int64"):
        t += 1.5
    assert_array_equal(t.numpy(), [1, 2]) and t._version == 0


def test_in_place_change_cannot_broadcast_the_tensor_up():
    t = cr.tensor(np.zeros(2))
    with pytest.raises(ValueError, match=r"\+=.*\(3, 2\).*\(2,\)"):
        t += np.zeros((3, 2))
    assert t._version == 0


def test_data_assignment_of_a_wrong_shape_is_refused():
    t = cr.tensor(np.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        t.data = np.zeros(3)
    assert t._version == 0


# ------------------------------------------------------------------ read-only views
def test_numpy_of_a_tensor_that_requires_grad_is_read_only():
    x = leaf([1.0, 2.0])
    for view in (x.numpy(), np.asarray(x)):
        with pytest.raises(ValueError, match="assignment destination is read-only"):
            view[0] = 5.0
    assert_array_equal(x.numpy(), [1.0, 2.0])


def test_detach_numpy_is_the_writable_view():
    x = leaf([1.0, 2.0])
    x.detach().numpy()[0] = 5.0
    assert_array_equal(x.numpy(), [5.0, 2.0])


def test_numpy_of_a_plain_tensor_stays_writable_and_shared():
    t = cr.tensor(np.zeros(2))
    t.numpy()[1] = 3.0
    assert_array_equal(t.numpy(), [0.0, 3.0])


@pytest.mark.reference
def test_recorded_in_place_gradients_agree_with_torch():
    torch = pytest.importorskip("torch")
    xv = np.array([0.3, -1.2, 2.0])

    def ours():
        x = leaf(xv)
        y = cr.sin(x) * 2
        y += x**2
        y[1] = x[0] * x[2]
        y.clamp_(-1.0, 3.0)
        y.sum().backward()
        return x.grad.numpy()

    x = torch.tensor(xv, requires_grad=True)
    y = torch.sin(x) * 2
    y += x**2
    y[1] = x[0] * x[2]
    y.clamp_(-1.0, 3.0)
    y.sum().backward()
    assert_allclose(ours(), x.grad.numpy(), rtol=1e-12)
