"""chainrule.numpy and NumPy's protocols: NumPy code differentiates with one changed import.

Every differentiable name of ``chainrule.numpy`` is checked on its table op's own samples:
on Tensors it equals chainrule's function (on the graph), on plain data NumPy's own, and
``np.<name>(tensor)`` reaches it through ``__array_ufunc__`` / ``__array_function__``.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.numpy.linalg as cla
from chainrule.ops import OPS

from .optable import inputs_for

# Each differentiable name whose chainrule function is a table op's (checked on the op's samples).
NAMESPACES = [
    (namespace, numpy_module, name)
    for namespace, numpy_module in ((cnp, np), (cla, np.linalg))
    for name, fn in sorted(namespace.DIFFERENTIABLE.items())
    if fn.__name__ in OPS and name != "astype"  # NumPy's astype takes dtype by position only
]


def _op_of(namespace, name):
    """The table op behind a name and its first sample's arrays."""
    fn = namespace.DIFFERENTIABLE[name]
    op = OPS[fn.__name__]
    _, sample, arrays = inputs_for(op.name, 0, np.float64)
    return fn, sample, arrays


def _data(result):
    return [r.data for r in result] if isinstance(result, (list, tuple)) else [result.data]


@pytest.mark.parametrize(
    ("namespace", "numpy_module", "name"), NAMESPACES, ids=lambda v: getattr(v, "__name__", v)
)
def test_each_name_is_chainrules_function_on_tensors_and_numpys_on_plain_data(namespace, numpy_module, name):
    fn, sample, arrays = _op_of(namespace, name)
    ours = getattr(namespace, name)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    on_tensors = sample.run(ours, *xs)
    expected = sample.run(fn, *xs)
    for got, want in zip(_data(on_tensors), _data(expected)):
        np.testing.assert_array_equal(got, want)
    first = on_tensors[0] if isinstance(on_tensors, (list, tuple)) else on_tensors
    assert first.grad_fn is not None, f"cnp.{name} left the graph"

    plain = sample.run(ours, *arrays)
    reference = sample.run(getattr(numpy_module, name), *arrays)
    plains = plain if isinstance(plain, (list, tuple)) else [plain]
    references = reference if isinstance(reference, (list, tuple)) else [reference]
    for got, want in zip(plains, references, strict=True):
        assert not isinstance(got, cr.Tensor), f"cnp.{name} of plain data should be NumPy's result"
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    ("namespace", "numpy_module", "name"), NAMESPACES, ids=lambda v: getattr(v, "__name__", v)
)
def test_numpys_own_function_on_a_tensor_dispatches_to_chainrule(namespace, numpy_module, name):
    fn, sample, arrays = _op_of(namespace, name)
    numpy_fn = getattr(numpy_module, name)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    result = sample.run(numpy_fn, *xs)
    expected = sample.run(fn, *xs)
    results = result if isinstance(result, (list, tuple)) else [result]
    assert all(isinstance(r, cr.Tensor) for r in results), f"np.{name}(tensor) left chainrule"
    for got, want in zip(_data(result), _data(expected)):
        np.testing.assert_array_equal(got, want)


def test_a_gradient_flows_through_numpys_functions_and_operators():
    x = cr.tensor([0.3, -0.7, 1.1], dtype=np.float64, requires_grad=True)
    a = np.array([2.0, 3.0, 4.0])
    y = np.sum(a * np.exp(x)) + np.dot(x, x) + np.linalg.norm(x) + np.concatenate([x, a])[1]
    y.backward()
    xv = x.data
    expected = a * np.exp(xv) + 2 * xv + xv / np.linalg.norm(xv) + np.array([0.0, 1.0, 0.0])
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_an_ndarray_on_the_left_of_an_operator_gives_a_tensor_on_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2) + x, np.ones(2) * x, np.ones(2) - x, np.ones(2) / x, np.float64(3.0) * x):
        assert isinstance(y, cr.Tensor) and y.grad_fn is not None


def test_autograd_style_code_differentiates_with_only_the_import_changed():
    """A logistic-regression loss as HIPS autograd's README writes it, in plain NumPy names."""
    rng = np.random.default_rng(0)
    inputs, targets = rng.standard_normal((8, 3)), rng.integers(0, 2, 8).astype(float)

    def training_loss(weights, np=cnp):
        preds = 0.5 * (np.tanh(np.dot(inputs, weights) / 2) + 1)
        label_probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    w = np.array([0.1, -0.2, 0.3])
    g = cr.grad(training_loss)(w)
    p = 1 / (1 + np.exp(-inputs @ w))
    np.testing.assert_allclose(g.data, inputs.T @ (p - targets), rtol=1e-10)
    # the same code on NumPy itself: the protocols route every call to chainrule
    np.testing.assert_allclose(cr.grad(lambda w: training_loss(w, np=np))(w).data, g.data, rtol=1e-12)
    # and on plain data it is plain NumPy
    assert isinstance(training_loss(w), np.float64)


def test_higher_order_and_forward_mode_go_through_numpy_calls():
    def f(x):
        return np.sum(np.sin(x) * np.cumsum(x))

    x = np.array([0.2, -0.4, 0.9])
    h = cr.hessian(f)(x).data
    n = x.size
    lower = np.tril(np.ones((n, n)))
    expected = np.zeros((n, n))
    c = np.cumsum(x)
    # f = Σ_i sin(x_i) c_i, c = L x
    expected += np.diag(-np.sin(x) * c)
    expected += np.cos(x)[:, None] * lower + (np.cos(x)[:, None] * lower).T
    np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-12)
    _, t = cr.jvp(f, (x,), (np.ones(3),))
    g = np.cos(x) * c + lower.T @ np.sin(x)
    np.testing.assert_allclose(t.data, g.sum(), rtol=1e-12)


def test_array_stacks_lists_holding_tensors_on_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cnp.array([[x[0] * x[1], 3.0], [x[1], x[0] ** 2]])
    assert y.shape == (2, 2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2.0 + 2.0, 1.0 + 1.0])
    assert isinstance(cnp.array([1.0, 2.0]), np.ndarray)
    assert cnp.asarray(x) is x


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda t: np.add.at(t, [0], 1.0), "numpy.add.at"),
        (lambda t: np.add.reduce(t), "numpy.add.reduce"),
        (lambda t: np.multiply.outer(t, t), "numpy.multiply.outer"),
        (lambda t: np.unique(t), "numpy.unique"),
        (lambda t: np.cbrt(t), "numpy.cbrt"),
        (lambda t: np.exp(t, out=np.empty(2)), "out="),
        (lambda t: np.linalg.eig(np.diag(np.ones(2)) * t), "numpy.linalg.eig"),
        (lambda t: np.interp(0.5, [0.0, 1.0], t), "numpy.interp"),
    ],
)
def test_what_chainrule_lacks_raises_type_error_naming_it(call, names):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=names.replace(".", r"\.")):
        call(x)


def test_in_place_into_an_ndarray_is_refused_and_leaves_it_untouched():
    a = np.ones(2)
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="a = a \\+ t"):
        a += x
    np.testing.assert_array_equal(a, [1.0, 1.0])


def test_asarray_reads_values_read_only_when_the_tensor_requires_grad():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    view = np.asarray(x)
    np.testing.assert_array_equal(view, [1.0, 2.0])
    with pytest.raises(ValueError):
        view[0] = 5.0
    assert np.asarray(cr.tensor([1.0])).flags.writeable


def test_predicates_and_queries_answer_on_the_values():
    x = cr.tensor([1.0, np.nan, 3.0], requires_grad=True)
    nan = np.isnan(x)
    assert isinstance(nan, cr.Tensor) and nan.grad_fn is None
    np.testing.assert_array_equal(nan.data, [False, True, False])
    assert np.shape(x) == (3,) and np.ndim(x) == 1 and np.size(x) == 3
    assert np.allclose(x, [1.0, np.nan, 3.0], equal_nan=True)
    np.testing.assert_array_equal(np.nonzero(x > 1)[0], [2])
    assert isinstance(np.less(x, 2.0), cr.Tensor)


def test_the_array_namespace_of_a_tensor_is_chainrule_numpy():
    assert cr.tensor([1.0]).__array_namespace__() is cnp


def test_other_names_are_numpys():
    assert cnp.pi == np.pi and cnp.float32 is np.float32 and cnp.newaxis is None
    assert cnp.random is np.random and cla.LinAlgError is np.linalg.LinAlgError
    with pytest.raises(AttributeError, match="no attribute"):
        cnp.not_a_numpy_name  # noqa: B018


def test_every_public_name_is_a_numpy_name_but_chainrules_own_activations():
    missing = [n for n in cnp.__all__ if not hasattr(np, n)] + [
        n for n in cla.__all__ if not hasattr(np.linalg, n)
    ]
    assert sorted(missing) == ["logsumexp", "relu", "sigmoid", "softplus"]


def test_complex_number_functions_treat_tensors_as_the_real_values_they_are():
    x = cr.tensor([-2.0, 3.0], dtype=np.float64, requires_grad=True)
    assert np.real(x) is x and np.conj(x) is x and cnp.conjugate(x) is x
    np.testing.assert_array_equal(np.imag(x).data, [0.0, 0.0])
    np.testing.assert_array_equal(np.angle(x).data, [np.pi, 0.0])
    assert np.imag(x).grad_fn is None and np.angle(x).grad_fn is None


def test_astype_converts_tensors_on_the_graph_and_plain_data_by_numpy():
    x = cr.tensor([1.5, 2.5], dtype=np.float64, requires_grad=True)
    y = np.astype(x, np.float32)
    assert y.dtype == np.float32 and y.grad_fn is not None
    assert cnp.astype(np.ones(2), np.float16).dtype == np.float16


def test_full_is_differentiable_in_its_fill_value():
    v = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    y = cnp.full((2, 3), v)
    np.testing.assert_array_equal(y.data, np.full((2, 3), 2.0))
    y.sum().backward()
    assert v.grad.item() == 6.0
    assert isinstance(cnp.full(3, 1.0), np.ndarray)


def test_autograds_differentiable_numpy_functions_are_all_here_but_the_complex_ones():
    """HIPS autograd's primitives with a VJP in autograd.numpy and autograd.numpy.linalg."""
    anp = pytest.importorskip("autograd.numpy")
    from autograd.core import primitive_vjps

    def primitives(namespace):
        found = set()
        for name in dir(namespace):
            try:
                if getattr(namespace, name) in primitive_vjps:
                    found.add(name)
            except TypeError:  # unhashable attributes
                pass
        return found

    internal = {
        "_original_where",
        "array_from_args",
        "concatenate_args",
        "make_diagonal",
        "_primitive_norm",
        "truncate_pad",
    }
    missing = (
        (primitives(anp) - set(cnp.__all__))
        | (primitives(anp.linalg) - set(cla.__all__))
        | (primitives(anp.fft) - set(cnp.fft.__all__))
    )
    # complex results or inputs, which chainrule's real tensors cannot hold: eig and the transforms
    complex_valued = {"eig", "fft", "fft2", "fftn", "ifft", "ifft2", "ifftn"}
    complex_valued |= {"rfft", "rfft2", "rfftn", "irfft", "irfft2", "irfftn"}
    assert sorted(missing - internal) == sorted(complex_valued)


@pytest.mark.parametrize("axes", [None, 0, (1,), (0, 1), -1])
def test_fftshift_and_ifftshift_are_numpys_rolls_with_their_gradients(axes):
    a = np.arange(12.0).reshape(3, 4) ** 2
    x = cr.tensor(a, requires_grad=True)
    y = np.fft.fftshift(x, axes=axes)
    np.testing.assert_array_equal(y.data, np.fft.fftshift(a, axes=axes))
    np.testing.assert_array_equal(np.fft.ifftshift(y, axes=axes).data, a)
    w = np.random.default_rng(0).standard_normal(a.shape)
    (y * w).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.fft.ifftshift(w, axes=axes))
    assert isinstance(cnp.fft.fftshift(a), np.ndarray)
    with pytest.raises(TypeError, match=r"numpy\.fft\.fft "):
        np.fft.fft(x)


def test_torch_agrees_on_a_gradient_through_numpy_calls():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal(4)

    def f(w, lib):
        r = lib.tanh(lib.matmul(lib.asarray(a), w)) - lib.asarray(b)
        return (r * r).sum() + lib.exp(w).sum()

    w = rng.standard_normal(3)
    ours = cr.grad(lambda w: f(w, np))(w).data
    wt = torch.tensor(w, requires_grad=True)
    f(wt, torch).backward()
    np.testing.assert_allclose(ours, wt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("sum", (0, np.float32)),
        ("mean", (1, np.float64)),
        ("prod", (0, float)),
        ("nansum", (0, np.float64)),
        ("nanmean", (0, float)),
        ("var", (0, None)),
        ("std", (1, np.float32, None, 1)),
        ("max", (0, None, True)),
        ("amin", (1, None, True)),
        ("ptp", (0, None, True)),
        ("argmax", (1, None)),
    ],
)
def test_reductions_take_numpys_positional_arguments(name, args):
    a = np.arange(1.0, 7.0).reshape(2, 3)
    expected = getattr(np, name)(a, *args)
    for got in (getattr(np, name)(cr.tensor(a), *args), getattr(cnp, name)(cr.tensor(a), *args)):
        assert got.shape == np.shape(expected) and got.dtype == np.asarray(expected).dtype
        np.testing.assert_allclose(got.data, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda t: np.sum(t, out=np.empty(())), "out="),
        (lambda t: np.max(t, initial=0.0), "initial="),
        (lambda t: np.mean(t, where=np.array([True, False])), "where="),
        (lambda t: np.sort(t, kind="quicksort"), r"numpy\.sort: .*kind.*takes \(a"),
        (lambda t: cnp.array([t, t], ndmin=3), "ndmin"),
    ],
)
def test_numpy_arguments_chainrule_lacks_are_refused_naming_the_function(call, match):
    with pytest.raises(TypeError, match=match):
        call(cr.tensor([1.0, 2.0], requires_grad=True))


def test_numpys_where_with_the_condition_alone_gives_indices():
    t = cr.tensor([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(np.where(t > 0)[0], [0, 2])
    np.testing.assert_array_equal(cnp.where(t > 0)[0], [0, 2])


def test_lists_holding_tensors_stay_on_the_graph_in_chainrules_functions():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.sum([t, 2 * t]) + cnp.mean([t[0], t[1]]) + (t * [t[1], 1.0]).sum()
    y.backward()
    np.testing.assert_allclose(t.grad.data, [3 + 0.5 + 2.0, 3 + 0.5 + 1.0 + 1.0])
    assert isinstance(cnp.array([1.0, 2.0], ndmin=2), np.ndarray)


def test_numpy_reading_a_list_of_tensors_inside_a_transform_warns():
    with pytest.warns(RuntimeWarning, match="derivative does not flow"):
        cr.grad(lambda x: (x * np.sum([x, x])).sum())(np.ones(2))
