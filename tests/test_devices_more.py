"""More features on another array library's device: array-api-strict's ``device1`` (which, as a
GPU does, refuses to be read as a NumPy array) stands in for a GPU.

Each test runs a feature on NumPy and on ``device1`` from the same values and asserts that the
device run keeps its results there and gives NumPy's numbers: custom Functions, ``custom_vjp``
and ``custom_jvp``; ``GradientTape``; ``elementwise_grad`` and ``linearize``; ``check_grads``
and gradcheck's localization; ``detect_anomaly``, ``explain`` and ``to_dot``; recorded in-place
changes and ``x.at[]``; embedding options and the losses that read their targets; optimizer
state dicts. MPI data parallelism refuses device tensors, saying what to do.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist
import chainrule.nn.functional as F
from chainrule import backends

xs = pytest.importorskip("array_api_strict")
DEVICE1 = xs.Device("device1")
STRICT = type(xs.asarray(0.0))

X = [0.3, -1.2, 2.0]


def _on(values, device, dtype=np.float64, requires_grad=False):
    """A tensor of ``values`` on NumPy (device None) or on ``device``."""
    array = np.asarray(values, dtype=dtype)
    data = array if device is None else xs.asarray(array, device=device)
    return cr.tensor(data, requires_grad=requires_grad)


def _host(t):
    """The values of a result of the device run, after checking that they stayed there."""
    assert t.device == DEVICE1 and type(t._data) is STRICT
    return backends.host(t._data)


def _same(device_result, numpy_result):
    np.testing.assert_array_equal(_host(device_result), numpy_result.numpy())


# ----------------------------------------------------------------- custom rules
class _Cube(cr.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * 3 * x**2


class _SinCos(cr.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.sin(x), cr.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * cr.cos(x) - g_cos * cr.sin(x)


def _function_results(device):
    x = _on(X, device, requires_grad=True)
    _Cube.apply(x).sum().backward()
    s, _ = _SinCos.apply(x)  # the unused output sends zeros where x is
    s.sum().backward()
    jac = cr.jacobian(_Cube.apply)(_on(X, device))  # stacked cotangents, row by row
    tangent = cr.jvp(_Cube.apply, (_on(X, device),), (_on([1.0, 2.0, 3.0], device),))[1]
    second = cr.grad(lambda v: cr.grad(lambda u: _Cube.apply(u).sum())(v).sum())(_on(X, device))
    return x.grad, jac, tangent, second


def test_a_custom_function_runs_where_its_inputs_are():
    for on_device, on_numpy in zip(_function_results(DEVICE1), _function_results(None)):
        _same(on_device, on_numpy)


@cr.custom_vjp
def _clipped_sin(x):
    return cr.sin(x)


_clipped_sin.defvjp(lambda x: (cr.sin(x), x), lambda x, g: (cr.clip(g * cr.cos(x), -0.5, 0.5),))


@cr.custom_jvp
def _softplus(x):
    return cr.log(1 + cr.exp(x))


@_softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _softplus(x), t * cr.sigmoid(x)


def _custom_results(device):
    x = _on(X, device)
    return (
        cr.grad(lambda v: _clipped_sin(v).sum())(x),
        cr.jvp(_softplus, (x,), (_on([1.0, 2.0, 3.0], device),))[1],
        cr.grad(lambda v: _softplus(v).sum())(x),  # the transposed rule: zero tangents where x is
    )


def test_custom_vjp_and_custom_jvp_run_where_their_inputs_are():
    for on_device, on_numpy in zip(_custom_results(DEVICE1), _custom_results(None)):
        _same(on_device, on_numpy)


# ----------------------------------------------------------------- tape and transforms
def _tape_results(device):
    x = _on(X, device)
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = cr.sin(x) * x
    seeded = tape.gradient(y, x, output_gradients=_on([1.0, -1.0, 0.5], device))
    return tape.gradient(y, x), tape.jacobian(y, x), seeded


def test_gradient_tape_seeds_and_bases_live_where_the_target_is():
    for on_device, on_numpy in zip(_tape_results(DEVICE1), _tape_results(None)):
        _same(on_device, on_numpy)


def _jax_results(device):
    x = _on(X, device)
    out, jvp_fn = cr.linearize(lambda v: cr.sin(v) * v, x)
    return cr.elementwise_grad(cr.tanh)(x), out, jvp_fn(_on([1.0, 0.0, -1.0], device))


def test_elementwise_grad_and_linearize_run_on_the_device():
    for on_device, on_numpy in zip(_jax_results(DEVICE1), _jax_results(None)):
        _same(on_device, on_numpy)


def test_linearize_stays_differentiable_by_an_outer_transform_on_the_device():
    def outer(device):
        return cr.grad(lambda v: cr.linearize(cr.sin, v)[1](_on([1.0, 1.0, 1.0], device)).sum())(
            _on(X, device)
        )

    _same(outer(DEVICE1), outer(None))


# ----------------------------------------------------------------- checks
def test_check_grads_passes_on_the_device_and_catches_a_wrong_rule():
    cr.check_grads(lambda v: cr.sin(v) * v, (_on(X, DEVICE1),), order=2)
    cr.check_grads(_Cube.apply, (_on(X, DEVICE1),), order=1, modes="rev")

    class WrongCube(_Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x**2

    with pytest.raises(cr.GradcheckError, match="order-1 derivative in rev mode"):
        cr.check_grads(WrongCube.apply, (_on(X, DEVICE1),), order=1, modes="rev")


def test_gradcheck_localizes_a_wrong_rule_on_the_device_as_on_numpy():
    class WrongCube(_Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x**2

    messages = []
    for device in (DEVICE1, None):
        with pytest.raises(cr.GradcheckError) as info:
            cr.gradcheck(lambda v: cr.sin(WrongCube.apply(cr.tanh(v))), (_on(X, device, requires_grad=True),))
        messages.append(str(info.value).split("\n", 1)[1])
    assert "the first op whose reverse rule disagrees: WrongCube at " in messages[0]
    assert messages[0] == messages[1]


def test_detect_anomaly_checks_device_values_and_names_the_op():
    with cr.detect_anomaly():
        x = _on(X, DEVICE1, requires_grad=True)
        (x * x).sum().backward()  # finite: nothing is raised
        _same(x.grad, cr.tensor(2 * np.asarray(X)))
        with pytest.raises(cr.AnomalyError, match=r"log at .* produced 1 NaN among 3 values"):
            cr.log(x)
        y = _on([0.0, 1.0, 4.0], DEVICE1, requires_grad=True)
        with pytest.raises(cr.AnomalyError, match=r"sqrt at .* produced 1 Inf .*\(its backward rule"):
            cr.sqrt(y).sum().backward()


def test_explain_and_to_dot_show_device_values_as_numpy_ones():
    def shown(device):
        x = _on([1.0, 2.0], device, requires_grad=True)
        y = (cr.exp(x) * 2).sum()
        trace = cr.explain(y, names={x: "x"})
        return str(trace), trace.leaf_gradients["x"], cr.to_dot(y, names={x: "x"})

    (text, grad, dot), (text_np, grad_np, dot_np) = shown(DEVICE1), shown(None)
    assert isinstance(grad, np.ndarray)
    np.testing.assert_array_equal(grad, grad_np)
    assert text == text_np and dot == dot_np


# ----------------------------------------------------------------- in-place changes and x.at
def _in_place_results(device):
    x = _on(X, device, requires_grad=True)
    y = x * 2
    y[1] = 5.0
    z = x * 3
    z.fill_(0.1)
    (y * y).sum().backward()
    at = _on(X, device)
    return x.grad, y, z, at.at[1].set(0.1), at.at[[0, 0]].add(0.1)


def test_recorded_in_place_changes_and_at_updates_run_on_the_device():
    for on_device, on_numpy in zip(_in_place_results(DEVICE1), _in_place_results(None)):
        _same(on_device, on_numpy)


def test_at_reads_a_number_in_the_tensors_dtype():
    x = cr.tensor(np.zeros(3))  # float64: 0.1 stays float64's 0.1, not float32's
    assert x.at[1].set(0.1).numpy()[1] == 0.1
    assert x.at[1].add(0.1).numpy()[1] == 0.1


# ----------------------------------------------------------------- nn
def _embedding_results(device):
    weight = np.arange(12.0).reshape(6, 2) / 4 - 1
    idx = np.array([[1, 5], [1, 2]])
    results = []
    for options in (
        {},
        {"padding_idx": 1},
        {"scale_grad_by_freq": True},
        {"padding_idx": 1, "sparse": True},
        {"max_norm": 0.9},
    ):
        w = _on(weight, device, requires_grad=True)
        index = cr.tensor(idx if device is None else xs.asarray(idx, device=device))
        out = F.embedding(index, w, **options)
        (out * out).sum().backward()
        results += [out, w.grad.to_dense() if hasattr(w.grad, "to_dense") else w.grad]
        if "max_norm" in options:
            results.append(w.detach())  # renormed in place
    return results


def test_embedding_with_device_indices_and_every_option_matches_numpy():
    for on_device, on_numpy in zip(_embedding_results(DEVICE1), _embedding_results(None)):
        _same(on_device, on_numpy)


def test_embedding_refuses_a_device_index_out_of_range():
    w = _on(np.ones((3, 2)), DEVICE1)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        F.embedding(cr.tensor(xs.asarray(np.array([0, 3]), device=DEVICE1)), w)


def _loss_results(device):
    p = _on([0.2, 0.9, 0.5], device, requires_grad=True)
    bce = F.binary_cross_entropy(p, _on([0.0, 1.0, 1.0], device))
    logits = _on([[0.2, 1.5, -0.3], [1.0, 0.0, 2.0]], device, requires_grad=True)
    labels = np.array([1, 2])
    target = cr.tensor(labels if device is None else xs.asarray(labels, device=device))
    smooth = F.cross_entropy(logits, target, label_smoothing=0.1)
    weighted = F.cross_entropy(logits, target, weight=_on([1.0, 2.0, 0.5], device), label_smoothing=0.2)
    (bce + smooth + weighted).backward()
    return bce, smooth, weighted, p.grad, logits.grad


def test_losses_that_read_their_targets_run_on_the_device():
    for on_device, on_numpy in zip(_loss_results(DEVICE1), _loss_results(None)):
        np.testing.assert_allclose(_host(on_device), on_numpy.numpy(), rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(_on([1.5], DEVICE1), _on([1.0], DEVICE1))


# ----------------------------------------------------------------- optim and distributed
def test_an_optimizers_state_dict_is_on_the_host_and_loads_onto_the_device():
    def trained(device):
        model = cr.nn.Linear(3, 2, dtype=cr.float64)
        model.load_state_dict({"weight": np.full((2, 3), 0.1), "bias": np.zeros(2)})
        if device is not None:
            model.to(device)
        opt = cr.optim.Adam(model.parameters(), lr=0.1)
        model(_on([X], device)).sum().backward()
        opt.step()
        return model, opt

    model, opt = trained(DEVICE1)
    _, opt_np = trained(None)
    saved = opt.state_dict()
    for k, state in saved["state"].items():
        for name, value in state.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, opt_np.state_dict()["state"][k][name])
    moments = [v for s in saved["state"].values() for v in s.values() if not np.isscalar(v)]
    assert moments and all(type(v) is np.ndarray for v in moments)
    fresh = cr.optim.Adam(model.parameters(), lr=0.1)
    fresh.load_state_dict(saved)
    for state in fresh.state.values():
        for value in state.values():
            if not np.isscalar(value):
                assert type(value) is STRICT and value.device == DEVICE1


def test_mpi_data_parallelism_refuses_device_parameters_saying_what_to_do():
    model = cr.nn.Linear(2, 2).to(DEVICE1)
    alone = dist.ProcessGroup.alone()
    with pytest.raises(
        RuntimeError, match=r"DistributedDataParallel: parameters on .*device1.*model\.cpu\(\)"
    ):
        dist.DistributedDataParallel(model, group=alone)
    with pytest.raises(RuntimeError, match=r"broadcast_parameters: parameters on .*NumPy host buffers"):
        dist.broadcast_parameters(model, group=alone)


# ----------------------------------------------------------------- row-sparse gradients
ROWS = [[3, 0, 3], [5, 3, 1]]  # row 3 three times, rows 2 and 4 never


def _sparse_embedding(device, passes=1):
    """A sparse 6×2 embedding (a leaf on NumPy or ``device``) after ``passes`` backward passes
    of a weighted lookup of ROWS: its weight, whose .grad is row-sparse."""
    weight = _on(np.arange(12.0).reshape(6, 2) / 7, device, requires_grad=True)
    rows = np.array(ROWS)
    index = cr.tensor(rows if device is None else xs.asarray(rows, device=device))
    for k in range(passes):
        scale = _on(np.linspace(0.5, 2.0, 12).reshape(2, 3, 2) + k, device)
        (F.embedding(index, weight, sparse=True) * scale).sum().backward()
    return weight


def _device_rows(g):
    """A row-sparse gradient's indices and values, after checking that both are on device1."""
    assert type(g) is cr.sparse.RowSparse
    assert type(g.indices) is STRICT and g.indices.device == DEVICE1
    assert type(g.values) is STRICT and g.values.device == DEVICE1
    return backends.host(g.indices), backends.host(g.values)


@pytest.mark.parametrize("passes", [1, 2])
def test_a_sparse_embedding_on_the_device_has_a_row_sparse_gradient_there(passes):
    g, expected = _sparse_embedding(DEVICE1, passes).grad, _sparse_embedding(None, passes).grad
    assert type(expected) is cr.sparse.RowSparse
    indices, values = _device_rows(g)
    np.testing.assert_array_equal(indices, [0, 1, 3, 5])  # sorted, each once: repeats summed
    np.testing.assert_array_equal(indices, expected.indices)
    np.testing.assert_allclose(values, expected.values, rtol=0, atol=1e-12)
    dense = g.dense()
    assert type(dense) is STRICT and dense.device == DEVICE1
    np.testing.assert_allclose(backends.host(dense), np.asarray(expected), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(g.numpy(), backends.host(dense))
    assert g.to_dense().device == DEVICE1
    with pytest.raises(TypeError, match="implicitly"):
        np.asarray(g)


def test_a_row_sparse_gradient_sums_repeated_rows_on_the_device():
    g = cr.sparse.RowSparse(
        xs.asarray([4, 1, 4, 4, 0], device=DEVICE1),
        xs.asarray(np.arange(10.0).reshape(5, 2), device=DEVICE1),
        (6, 2),
    )
    indices, values = _device_rows(g)
    np.testing.assert_array_equal(indices, [0, 1, 4])
    np.testing.assert_array_equal(values, [[8.0, 9.0], [2.0, 3.0], [10.0, 13.0]])
    total = g + cr.sparse.RowSparse(
        xs.asarray([5], device=DEVICE1), xs.asarray([[1.0, 1.0]], device=DEVICE1), (6, 2)
    )
    np.testing.assert_array_equal(_device_rows(total)[0], [0, 1, 4, 5])


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: cr.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
        lambda ps: cr.optim.Adam(ps, lr=0.1),
        lambda ps: cr.optim.AdamW(ps, lr=0.1, weight_decay=0.1),
        lambda ps: cr.optim.Adagrad(ps, lr=0.1),
    ],
    ids=["sgd-momentum", "sgd-nesterov-maximize", "adam", "adamw", "adagrad"],
)
def test_sparse_optimizer_steps_run_on_the_device_and_touch_only_the_rows_looked_up(make):
    def trained(device):
        weight = _sparse_embedding(device)
        opt = make([weight])
        untouched = backends.host(weight._data)[[2, 4]].copy()
        for _ in range(3):
            opt.step()
            np.testing.assert_array_equal(backends.host(weight._data)[[2, 4]], untouched)
        return weight, opt

    on_device, opt = trained(DEVICE1)
    on_numpy, _ = trained(None)
    np.testing.assert_allclose(_host(on_device), on_numpy.numpy(), rtol=0, atol=1e-12)
    for value in opt.state[on_device].values():
        if not np.isscalar(value):
            assert type(value) is STRICT and value.device == DEVICE1


def test_clip_grad_norm_scales_a_row_sparse_gradient_on_the_device():
    norms, grads = [], []
    for device in (DEVICE1, None):
        weight = _sparse_embedding(device)
        norms.append(float(cr.nn.utils.clip_grad_norm_([weight], 1.0)))
        grads.append(weight.grad)
    np.testing.assert_allclose(norms[0], norms[1], rtol=1e-14)
    assert norms[1] > 1.0  # it did clip
    np.testing.assert_allclose(_device_rows(grads[0])[1], grads[1].values, rtol=0, atol=1e-12)


def test_module_to_moves_a_row_sparse_gradient_as_its_dense_form():
    layer = cr.nn.Embedding(6, 2, sparse=True, dtype=cr.float64, seed=0).to(DEVICE1)
    layer(cr.tensor(xs.asarray(np.array(ROWS), device=DEVICE1))).sum().backward()
    expected = layer.weight.grad.numpy()
    layer.cpu()
    np.testing.assert_array_equal(layer.weight.grad.numpy(), expected)


def _mixed_gradients(device):
    """A sparse lookup and a dense use of one weight: their gradients added, in one pass and
    across passes, through a hook, and by ``cr.autograd.grad`` (each as a host array)."""
    weight = _sparse_embedding(device)
    weight.register_hook(lambda g: g * 2)
    rows = np.array(ROWS)
    index = cr.tensor(rows if device is None else xs.asarray(rows, device=device))
    loss = F.embedding(index, weight, sparse=True).sum() + (weight * weight).sum()
    (taken,) = cr.autograd.grad(F.embedding(index, weight, sparse=True).sum(), [weight])
    loss.backward()
    return [backends.host(t._data) for t in (weight.grad, taken)]


def test_row_sparse_gradients_on_the_device_add_to_dense_ones_and_meet_hooks():
    for on_device, on_numpy in zip(_mixed_gradients(DEVICE1), _mixed_gradients(None)):
        np.testing.assert_allclose(on_device, on_numpy, rtol=0, atol=1e-12)


def test_put_rows_sets_unsorted_rows_on_the_device_and_leaves_the_others_bit_identical():
    from chainrule.ops.extras import put_rows

    before = np.random.default_rng(0).normal(size=(7, 3))
    new = np.arange(9.0).reshape(3, 3)
    rows = np.array([5, 0, 3])
    z = xs.asarray(before, device=DEVICE1)
    assert put_rows(xs, z, xs.asarray(rows, device=DEVICE1), xs.asarray(new, device=DEVICE1)) is z
    expected = before.copy()
    expected[rows] = new
    np.testing.assert_array_equal(backends.host(z), expected)
    put_rows(
        xs, z, xs.asarray(np.array([], dtype=np.int64), device=DEVICE1), xs.zeros((0, 3), device=DEVICE1)
    )
    np.testing.assert_array_equal(backends.host(z), expected)
