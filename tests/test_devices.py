"""Tensors on another array library and device: array-api-strict's ``device1`` (which, as a
GPU does, refuses to be read as a NumPy array) stands in for a GPU; CuPy runs the same checks
where an NVIDIA GPU is present.

Covered: where a tensor's values live (``cr.tensor(data, device=)``, ``t.device``, ``t.to``,
``t.cpu()``, ``t.numpy()``), creation functions with ``device=``, refusals when devices mix,
gradients staying on the device, in-place updates there, ``Module.to``, ``state_dict`` host
copies, and a short MLP training run that matches NumPy's to 1e-12 in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import backends
from chainrule.backends import DeviceMismatch

xs = pytest.importorskip("array_api_strict")
DEVICE1 = xs.Device("device1")
STRICT = type(xs.asarray(0.0))


def _strict(values, device=DEVICE1):
    return xs.asarray(np.asarray(values, dtype=np.float64), device=device)


def _host(t):
    assert type(t._data) is STRICT and t.device == DEVICE1
    return backends.host(t._data)


def test_a_tensor_keeps_its_arrays_library_and_device():
    t = cr.tensor(_strict([1.0, 2.0]), requires_grad=True)
    assert type(t._data) is STRICT
    assert t.device == DEVICE1 and t.dtype == xs.float64
    assert "device=" in repr(t) and "requires_grad=True" in repr(t)
    moved = cr.tensor([1.0, 2.0], dtype=cr.float64, device=DEVICE1)
    assert moved.device == DEVICE1 and moved.dtype == xs.float64
    assert cr.tensor(np.zeros(2)).device == "cpu"


def test_to_cpu_and_numpy_copy_to_the_host_explicitly():
    t = cr.tensor(_strict([1.0, 2.0]))
    host = t.cpu()
    assert type(host._data) is np.ndarray and host.device == "cpu"
    np.testing.assert_array_equal(host.numpy(), [1.0, 2.0])
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    array[0] = 9.0  # a copy: the tensor is unchanged
    np.testing.assert_array_equal(_host(t), [1.0, 2.0])
    back = host.to(DEVICE1)
    assert back.device == DEVICE1
    assert t.to(DEVICE1) is t and host.to("cpu") is host
    assert t.item() if t.size == 1 else t.tolist() == [1.0, 2.0]
    assert float(cr.tensor(_strict(3.5))) == 3.5


def test_implicit_conversion_to_numpy_is_refused():
    t = cr.tensor(_strict([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"implicitly.*t\.numpy\(\)"):
        np.asarray(t)


def test_mixing_devices_in_one_op_names_both():
    on_device = cr.tensor(_strict([1.0, 2.0]))
    on_host = cr.tensor([1.0, 2.0], dtype=cr.float64)
    with pytest.raises(DeviceMismatch, match=r"add: .*device1.*cpu|add: .*cpu.*device1"):
        on_device + on_host
    with pytest.raises(DeviceMismatch, match="mul: "):
        on_host * on_device
    with pytest.raises(DeviceMismatch, match="matmul: "):
        on_device @ np.ones(2)
    other = cr.tensor(_strict([1.0, 2.0], device=xs.Device("CPU_DEVICE")))
    with pytest.raises(DeviceMismatch, match="CPU_DEVICE"):
        on_device - other
    np.testing.assert_array_equal(_host(on_device * 2.0 + 1), [3.0, 5.0])  # numbers go anywhere


def test_creation_functions_take_a_device_and_likes_keep_it():
    for t in (
        cr.zeros(2, 3, dtype=cr.float64, device=DEVICE1),
        cr.ones((2, 3), device=DEVICE1),
        cr.full((2, 3), 1.5, device=DEVICE1),
        cr.eye(3, device=DEVICE1),
        cr.arange(4, device=DEVICE1),
        cr.empty(2, device=DEVICE1),
        cr.randn(2, 3, seed=0, device=DEVICE1),
        cr.rand(2, seed=0, device=DEVICE1),
        cr.randint(0, 5, (3,), seed=0, device=DEVICE1),
        cr.normal(0.0, 1.0, (2,), seed=0, device=DEVICE1),
    ):
        assert t.device == DEVICE1
    base = cr.randn(2, 3, seed=0, dtype=cr.float64, device=DEVICE1)
    np.testing.assert_array_equal(_host(base), cr.randn(2, 3, seed=0, dtype=cr.float64).numpy())
    for like in (cr.zeros_like(base), cr.ones_like(base), cr.full_like(base, 2.0), cr.empty_like(base)):
        assert like.device == DEVICE1 and like.dtype == xs.float64 and like.shape == (2, 3)
    assert cr.zeros_like(base, device="cpu").device == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        cr.zeros(2, device="tpu")


def test_gradients_stay_on_the_device_and_accumulate_there():
    x = cr.tensor(_strict([0.5, -1.0, 2.0]), requires_grad=True)
    for _ in range(2):
        (cr.sin(x) * x).sum().backward()
    xv = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(_host(x.grad), 2 * (np.cos(xv) * xv + np.sin(xv)), rtol=1e-15)
    (g,) = cr.autograd.grad((x**3).sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(_host(h), 6 * xv, rtol=1e-15)
    y = x * 3
    y.backward(cr.tensor(_strict([1.0, 1.0, 1.0])))
    with pytest.raises(DeviceMismatch, match="backward"):
        (x * 3).backward(np.ones(3))


@pytest.mark.parametrize(
    "transform",
    [
        lambda f, x: cr.grad(lambda x: f(x).sum())(x),
        lambda f, x: cr.jvp(f, (x,), (x * 0 + 1,))[1],
        lambda f, x: cr.vjp(f, x)[1](f(x) * 0 + 1)[0],
        lambda f, x: cr.jacobian(f, mode="fwd")(x),
        lambda f, x: cr.jacobian(f, mode="rev")(x),
        lambda f, x: cr.jacobian(f, mode="rev", chunk_size=2)(x),
        lambda f, x: cr.hessian(lambda x: f(x).sum())(x),
    ],
    ids=["grad", "jvp", "vjp", "jacfwd", "jacrev", "jacrev-chunked", "hessian"],
)
def test_transforms_run_on_the_device_as_on_numpy(transform):
    def f(x):
        return cr.tanh(x.T @ x).sum(axis=0) * cr.sin(x[0])

    values = np.array([[0.5, -1.0, 2.0], [0.3, 0.2, -0.7]])
    want = transform(f, cr.tensor(values))
    got = transform(f, cr.tensor(_strict(values)))
    np.testing.assert_allclose(_host(got), want.numpy(), rtol=1e-12, atol=1e-14)


def test_vmap_runs_on_the_device_as_on_numpy():
    values = np.array([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]])
    weights = np.linspace(-1.0, 1.0, 6).reshape(3, 2)

    def per_example(x, w):
        return cr.vmap(cr.grad(lambda r: cr.tanh(r @ w).sum() * cr.sin(r).sum()))(x)

    want = per_example(cr.tensor(values), cr.tensor(weights))
    got = per_example(cr.tensor(_strict(values)), cr.tensor(_strict(weights)))
    np.testing.assert_allclose(_host(got), want.numpy(), rtol=1e-12)


def test_positions_norms_factors_and_joins_are_computed_on_the_device():
    values = np.array([[1.0, 5.0, 2.0], [3.0, 0.0, 4.0]])
    t, host_t = cr.tensor(_strict(values)), cr.tensor(values)
    for method in (
        lambda t: t.argmax(),
        lambda t: t.argmin(axis=1),
        lambda t: t.argsort(),
        lambda t: t.argsort(axis=None),
        lambda t: cr.linalg.norm(t),
        lambda t: t.clone(),
        lambda t: cr.r_[t[0], 7.0, t[1]],
        lambda t: cr.c_[t[0], t[1]],
        lambda t: cr.linalg.svd(t)[1],
        lambda t: abs(cr.linalg.qr(t.T, mode="complete")[1]),
    ):
        got = method(t)
        assert got.device == DEVICE1
        np.testing.assert_allclose(backends.host(got._data), method(host_t).numpy(), rtol=1e-12, atol=1e-15)
    assert t.type_as(t) is t and t.to(xs.float32).dtype == xs.float32
    with pytest.raises(TypeError, match="array_api_strict has no dtype float16"):
        t.half()


def test_a_gradient_hook_sees_and_replaces_the_gradient_on_the_device():
    x = cr.tensor(_strict([1.0, 2.0]), requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.device) or g * 10)
    (x * x).sum().backward()
    assert seen == [DEVICE1]
    np.testing.assert_array_equal(_host(x.grad), [20.0, 40.0])


def test_in_place_updates_happen_on_the_device():
    p = cr.tensor(_strict([1.0, 2.0]), requires_grad=True)
    (p * p).sum().backward()
    with cr.no_grad():
        p -= 0.25 * p.grad
    np.testing.assert_array_equal(_host(p), [0.5, 1.0])
    assert p._version == 1
    q = cr.tensor(_strict([1.0, 2.0, 3.0]))
    q[0] = 7.0
    q.zero_()
    np.testing.assert_array_equal(_host(q), [0.0, 0.0, 0.0])


def test_a_change_through_a_possible_view_is_caught():
    """array-api-strict's arrays do not say what they view: a linear op's result counts as
    sharing its input's storage, so the pass that saved it refuses after a change."""
    x = cr.tensor(_strict([1.0, 2.0, 3.0]), requires_grad=True)
    base = x * 1
    view = base[0:2]
    y = (view * view).sum()
    with cr.no_grad():
        base[0] = 10.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation|changed in place"):
        y.backward()


def test_moving_a_computed_tensor_while_recording_is_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        (x * 2).to(DEVICE1)
    leaf = x.to(DEVICE1)
    assert leaf.requires_grad and leaf.is_leaf and leaf.device == DEVICE1


def test_module_to_moves_parameters_in_place_and_state_dict_copies_to_the_host():
    model = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.ReLU(), cr.nn.Linear(4, 2)).to(cr.float64)
    weight = model[0].weight
    host_state = model.state_dict()
    assert model.to(DEVICE1) is model
    assert model[0].weight is weight and weight.device == DEVICE1
    state = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    for k in state:
        np.testing.assert_array_equal(state[k], host_state[k])
    changed = {k: v + 1 for k, v in state.items()}
    model.load_state_dict(changed)
    assert weight.device == DEVICE1
    np.testing.assert_array_equal(_host(weight), changed["0.weight"])
    assert model.cpu()[0].weight.device == "cpu"


def _mlp_training(device, optimizer, steps=15):
    cr.manual_seed(5)  # dropout's draws
    model = cr.nn.Sequential(
        cr.nn.Linear(6, 12, seed=1),
        cr.nn.ReLU(),
        cr.nn.Dropout(0.2),
        cr.nn.Linear(12, 12, seed=2),
        cr.nn.Tanh(),
        cr.nn.Linear(12, 3, seed=3),
    ).to(cr.float64)
    if device is not None:
        model.to(device)
    opt = optimizer(model.parameters())
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((32, 6)), device=device)
    labels = cr.tensor(rng.integers(0, 3, 32), device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    health = cr.nn.utils.gradient_report(model)
    return losses, model.state_dict(), health


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda ps: cr.optim.Adam(ps, lr=1e-2),
        lambda ps: cr.optim.AdamW(ps, lr=1e-2),
        lambda ps: cr.optim.RMSprop(ps, lr=1e-3, momentum=0.5),
        lambda ps: cr.optim.Adagrad(ps, lr=1e-2),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
)
def test_an_mlp_trains_on_the_device_as_on_numpy(optimizer):
    want_losses, want_state, want_health = _mlp_training(None, optimizer)
    got_losses, got_state, got_health = _mlp_training(DEVICE1, optimizer)
    assert want_losses[-1] < want_losses[0]
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-12, atol=1e-12)
    for k in want_state:
        np.testing.assert_allclose(got_state[k], want_state[k], rtol=1e-12, atol=1e-12)
    assert got_health.activations == want_health.activations  # read from summaries kept on the device
    for got, want in zip(got_health.parameters, want_health.parameters, strict=True):
        assert (got.name, got.shape) == (want.name, want.shape)
        np.testing.assert_allclose(
            [got.grad_norm, got.value_norm], [want.grad_norm, want.value_norm], rtol=1e-12
        )


def _cupy():
    cupy = pytest.importorskip("cupy", reason="no CuPy here: the CuPy checks need an NVIDIA GPU")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError:
        count = 0
    if not count:
        pytest.skip("CuPy is installed but no CUDA device is present: the CuPy checks need an NVIDIA GPU")
    return cupy


def test_cuda_tensors_train_as_numpy_does():
    cupy = _cupy()
    t = cr.tensor([1.0, 2.0], dtype=cr.float64, device="cuda")
    assert isinstance(t._data, cupy.ndarray)
    with pytest.raises(TypeError, match="implicitly"):
        np.asarray(t)
    want_losses, want_state, _ = _mlp_training(None, lambda ps: cr.optim.Adam(ps, lr=1e-2))
    got_losses, got_state, _ = _mlp_training("cuda", lambda ps: cr.optim.Adam(ps, lr=1e-2))
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-10)
    for k in want_state:
        np.testing.assert_allclose(got_state[k], want_state[k], rtol=1e-10, atol=1e-12)
