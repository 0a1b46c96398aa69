"""PyTorch's spellings: code written for PyTorch runs on chainrule after its imports change.

``dim=``/``keepdim=`` beside ``axis=``/``keepdims=`` (spellings.py), the Tensor methods under
PyTorch's names (torch_methods.py), the creation functions and dtype names. Each is checked
against torch when it is installed (values, dtypes, shapes and gradients) and against closed
forms; where chainrule keeps NumPy's meaning, the test says so.
"""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.spellings import ValuesIndices

try:
    import torch
except ImportError:  # the closed-form tests run without it
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 4))


def same_dtype(t, ref) -> bool:
    return str(t.dtype) == str(ref.dtype).removeprefix("torch.")


def against_torch(ours, theirs, *arrays, grad=True, atol=1e-10):
    """ours(*Tensors) and theirs(*torch tensors) on float64 copies of ``arrays``: the same values,
    shape and dtype, and (``grad``) the same gradient of Σ w·out for random weights w."""
    xs = [cr.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    out, ref = ours(*xs), theirs(*ts)
    assert out.shape == tuple(ref.shape)
    assert same_dtype(out, ref), (out.dtype, ref.dtype)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=atol, rtol=1e-7)
    if grad:
        w = RNG.standard_normal(out.shape)
        cr.sum(out * w).backward()
        (ref * torch.tensor(w)).sum().backward()
        for x, t in zip(xs, ts, strict=True):
            np.testing.assert_allclose(x.grad.data, t.grad.numpy(), atol=atol, rtol=1e-7)


# ------------------------------------------------------------------ dim= and keepdim=
REDUCTIONS = ["sum", "mean", "prod", "logsumexp", "var", "std", "amax", "amin"]


@needs_torch
@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dim", [1, (0, 2), -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_functions_take_dim_and_keepdim_as_torch(name, dim, keepdim):
    if name == "prod" and isinstance(dim, tuple):
        pytest.skip("torch.prod takes one dim")
    against_torch(
        lambda x: getattr(cr, name)(x, dim=dim, keepdim=keepdim),
        lambda t: getattr(torch, name)(t, dim=dim, keepdim=keepdim),
        A + 2,
    )


@needs_torch
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "logsumexp"])
def test_methods_take_dim_and_keepdim_as_torch(name):
    against_torch(
        lambda x: getattr(x, name)(dim=(0, 1), keepdim=True),
        lambda t: getattr(t, name)(dim=(0, 1), keepdim=True),
        A,
    )


def test_dim_is_axis_and_keepdim_is_keepdims():
    x = cr.tensor(A)
    for f in (cr.sum, cr.mean, cr.max, cr.min, cr.prod, cr.logsumexp, cr.nansum, cr.nanmean, cr.ptp):
        np.testing.assert_array_equal(f(x, dim=2, keepdim=True).data, f(x, axis=2, keepdims=True).data)
    np.testing.assert_array_equal(cr.cumsum(x, dim=1).data, np.cumsum(A, axis=1))
    np.testing.assert_array_equal(cr.concatenate([x, x], dim=1).data, np.concatenate([A, A], axis=1))
    np.testing.assert_array_equal(cr.stack([x, x], dim=-1).data, np.stack([A, A], axis=-1))
    np.testing.assert_array_equal(cr.argmax(x, dim=1).data, np.argmax(A, axis=1))
    np.testing.assert_array_equal(x.argmin(dim=2, keepdim=True).data, np.argmin(A, axis=2, keepdims=True))
    np.testing.assert_array_equal(cr.sort(x, dim=0).data, np.sort(A, axis=0))
    np.testing.assert_allclose(cr.linalg.norm(x, dim=1).data, np.linalg.norm(A, axis=1))


@needs_torch
def test_linalg_norm_takes_dim_as_torch_linalg_norm():
    against_torch(
        lambda x: cr.linalg.norm(x, ord=1, dim=-1, keepdim=True),
        lambda t: torch.linalg.norm(t, ord=1, dim=-1, keepdim=True),
        A,
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda x: cr.sum(x, axis=0, dim=0),
        lambda x: cr.sum(x, 0, dim=0),
        lambda x: cr.mean(x, keepdims=True, keepdim=True),
        lambda x: x.sum(axis=1, dim=1),
        lambda x: x.max(0, dim=0),
        lambda x: x.var(ddof=1, correction=1),
        lambda x: x.std(unbiased=True, correction=1),
        lambda x: x.std(0, 1, unbiased=False),  # ddof given by position
        lambda x: cr.linalg.norm(x, None, 1, dim=1),
    ],
)
def test_both_spellings_of_one_argument_is_a_type_error_naming_the_function(call):
    x = cr.tensor(A)
    with pytest.raises(TypeError, match=r"^(Tensor\.)?(sum|mean|max|var|std|norm): got"):
        call(x)


def test_a_torch_keyword_a_function_has_no_counterpart_of_is_refused_by_name():
    with pytest.raises(TypeError, match="sum: unexpected keyword argument correction="):
        cr.sum(cr.tensor(A), correction=1)


def test_the_spelled_functions_keep_name_docstring_and_show_both_spellings():
    for fn in (cr.sum, cr.var, cr.Tensor.sum, cr.Tensor.max, cr.linalg.norm, cr.argmax):
        assert fn.__doc__ and fn.__name__ in ("sum", "var", "max", "norm", "argmax")
        params = inspect.signature(fn).parameters
        assert params["dim"].kind is inspect.Parameter.KEYWORD_ONLY and params["dim"].default is None
        assert "axis" in params and "keepdim" in params
    assert {"unbiased", "correction", "ddof"} <= set(inspect.signature(cr.std).parameters)
    assert inspect.signature(cr.sum).return_annotation == "Tensor"


def test_var_and_std_default_to_numpys_ddof_and_to_torchs_correction_when_spelled_its_way():
    x = cr.tensor([1.0, 2.0, 3.0, 6.0], dtype=np.float64)
    squares = 14.0  # Σ (x − 3)²
    assert x.var().item() == pytest.approx(squares / 4)  # NumPy's ddof=0
    assert x.var(0).item() == pytest.approx(squares / 4)
    assert x.var(axis=0).item() == pytest.approx(squares / 4)
    assert x.var(dim=0).item() == pytest.approx(squares / 3)  # torch's correction=1
    assert cr.var(x, keepdim=True).item() == pytest.approx(squares / 3)
    assert x.var(dim=0, unbiased=False).item() == pytest.approx(squares / 4)
    assert x.std(unbiased=True).item() == pytest.approx(np.sqrt(squares / 3))
    assert cr.std(x, correction=2).item() == pytest.approx(np.sqrt(squares / 2))
    assert x.var(0, True).item() == pytest.approx(squares / 3)  # torch's var(dim, unbiased)


@needs_torch
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_with_an_int_dim_give_values_and_indices_as_torch(name, keepdim):
    x, t = cr.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    out, ref = getattr(x, name)(dim=1, keepdim=keepdim), getattr(t, name)(dim=1, keepdim=keepdim)
    assert isinstance(out, ValuesIndices) and out._fields == ("values", "indices")
    values, indices = out
    np.testing.assert_array_equal(values.data, ref.values.detach().numpy())
    np.testing.assert_array_equal(indices.data, ref.indices.numpy())
    assert same_dtype(indices, ref.indices)
    values.sum().backward()
    ref.values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())


def test_max_without_dim_or_with_numpys_axis_gives_the_values():
    x = cr.tensor(A)
    assert isinstance(x.max(), cr.Tensor) and x.max().item() == A.max()
    assert isinstance(x.max(1), cr.Tensor)  # positional: NumPy's axis
    assert isinstance(x.min(axis=1), cr.Tensor)
    assert isinstance(x.max(dim=None), cr.Tensor)
    assert isinstance(x.max(dim=(0, 1)), cr.Tensor)
    assert isinstance(cr.max(x, dim=1), cr.Tensor)  # the function is NumPy's amax


# ------------------------------------------------------------------ shape methods
@needs_torch
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda x: x.view(6, 4), lambda t: t.view(6, 4)),
        (lambda x: x.view((4, -1)), lambda t: t.view((4, -1))),
        (lambda x: x.reshape(3, 8), lambda t: t.reshape(3, 8)),
        (lambda x: x.unsqueeze(1), lambda t: t.unsqueeze(1)),
        (lambda x: x.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
        (lambda x: x[:, :1].squeeze(1), lambda t: t[:, :1].squeeze(1)),
        (lambda x: x[:1].squeeze(), lambda t: t[:1].squeeze()),
        (lambda x: x.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda x: x.permute((1, 2, 0)), lambda t: t.permute((1, 2, 0))),
        (lambda x: x.transpose(0, 2), lambda t: t.transpose(0, 2)),
        (lambda x: x.transpose(-2, -1), lambda t: t.transpose(-2, -1)),
        (lambda x: x[0].transpose(0, 1), lambda t: t[0].transpose(0, 1)),
        (lambda x: x.flatten(), lambda t: t.flatten()),
        (lambda x: x.flatten(1), lambda t: t.flatten(1)),
        (lambda x: x.flatten(0, 1), lambda t: t.flatten(0, 1)),
        (lambda x: x.flatten(-2, -1), lambda t: t.flatten(-2, -1)),
        (lambda x: x[:, :1].expand(2, 3, 4), lambda t: t[:, :1].expand(2, 3, 4)),
        (lambda x: x[:, :1].expand(5, -1, 3, -1), lambda t: t[:, :1].expand(5, -1, 3, -1)),
        (lambda x: x[0, 0].expand_as(x), lambda t: t[0, 0].expand_as(t)),
        (lambda x: x.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3)),
        (lambda x: x[0].repeat(2, 1, 1), lambda t: t[0].repeat(2, 1, 1)),
        (lambda x: x[0].t(), lambda t: t[0].t()),
        (lambda x: x[0, 0].t(), lambda t: t[0, 0].t()),
        (lambda x: x.clone(), lambda t: t.clone()),
        (lambda x: x.transpose(0, 2).contiguous(), lambda t: t.transpose(0, 2).contiguous()),
    ],
)
def test_shape_methods_match_torch(ours, theirs):
    against_torch(ours, theirs, A)


def test_numpys_transpose_forms_are_kept_beside_torchs_two_argument_one():
    x = cr.tensor(A)
    assert x.transpose().shape == (4, 3, 2)
    assert x.transpose(None).shape == (4, 3, 2)
    assert x.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert x.transpose(1, 2, 0).shape == (3, 4, 2)
    np.testing.assert_array_equal(x.transpose(0, 2).data, np.swapaxes(A, 0, 2))
    np.testing.assert_array_equal(x[0].transpose(0, 1).data, A[0].T)  # NumPy: the identity
    np.testing.assert_array_equal(x[0].transpose((0, 1)).data, A[0])


def test_shape_method_errors_name_the_method():
    x = cr.tensor(A)
    with pytest.raises(ValueError, match="^t: "):
        x.t()
    with pytest.raises(ValueError, match="^flatten: "):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match="^expand: "):
        x.expand(4, 4)
    with pytest.raises(ValueError, match="^expand: "):
        x.expand(-1, 2, 3, 4)
    with pytest.raises(ValueError, match="squeeze"):  # NumPy's: an axis longer than 1 is an error
        x.squeeze(1)


def test_clone_copies_the_storage_and_contiguous_keeps_a_c_ordered_tensor():
    x = cr.tensor([1.0, 2.0])
    y = x.clone()
    assert not np.shares_memory(y.data, x.data)
    y += 1
    assert x.tolist() == [1.0, 2.0] and x._version == 0
    assert x.contiguous() is x
    z = cr.tensor(A).transpose(0, 2).contiguous()
    assert z.data.flags.c_contiguous
    b = cr.tensor([True, False])
    assert b.clone().dtype == np.bool_ and b.clone().tolist() == [True, False]


def test_size_is_numpys_count_and_called_torchs_shape():
    x = cr.zeros(2, 3, 4)
    assert x.size == 24 and x.size + 1 == 25 and isinstance(x.size, int)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.numel() == 24 and x.dim() == 3 and x[0, 0, 0].dim() == 0


# ------------------------------------------------------------------ elementwise, dtypes, products
@needs_torch
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda x: x.pow(3), lambda t: t.pow(3)),
        (lambda x: x.abs(), lambda t: t.abs()),
        (lambda x: x.clamp(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5)),
        (lambda x: x.clamp(min=0.1), lambda t: t.clamp(min=0.1)),
        (lambda x: x.clamp_min(0.2), lambda t: t.clamp_min(0.2)),
        (lambda x: x.clamp_max(0.2), lambda t: t.clamp_max(0.2)),
        (lambda x: x.masked_fill(x.data > 0, 0.5), lambda t: t.masked_fill(t > 0, 0.5)),
        (lambda x: x.where(x.data > 0, -x), lambda t: t.where(t > 0, -t)),
        (lambda x: x.norm(), lambda t: t.norm()),
        (lambda x: x.norm(1), lambda t: t.norm(1)),
        (lambda x: x.norm(3), lambda t: t.norm(3)),
        (lambda x: x.norm(2, dim=1), lambda t: t.norm(2, dim=1)),
        (lambda x: x.norm(p=1, dim=-1, keepdim=True), lambda t: t.norm(p=1, dim=-1, keepdim=True)),
        (lambda x: x.norm(dim=(0, 2)), lambda t: t.norm(dim=(0, 2))),
        (lambda x: x.norm(p=1, keepdim=True), lambda t: t.norm(p=1, keepdim=True)),
        (lambda x: x[0].norm("nuc"), lambda t: t[0].norm("nuc")),
        (lambda x: x.sum(2), lambda t: t.sum(2)),
        (lambda x: x.mean(0), lambda t: t.mean(0)),
        (lambda x: x.std(1, unbiased=False), lambda t: t.std(1, unbiased=False)),
        (lambda x: x.var(dim=2, correction=0), lambda t: t.var(dim=2, correction=0)),
        (lambda x: x.float(), lambda t: t.float()),
        (lambda x: x.half().double(), lambda t: t.half().double()),
        (lambda x: x.to(cr.float32), lambda t: t.to(torch.float32)),
        (lambda x: x.type_as(cr.zeros(1)), lambda t: t.type_as(torch.zeros(1))),
    ],
)
def test_elementwise_and_reducing_methods_match_torch(ours, theirs):
    against_torch(ours, theirs, A, atol=1e-3 if "half" in inspect.getsource(ours) else 1e-10)


@needs_torch
@pytest.mark.parametrize(
    ("ours", "theirs", "shapes"),
    [
        (lambda a, b: a.mm(b), lambda a, b: a.mm(b), [(2, 3), (3, 4)]),
        (lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), [(5, 2, 3), (3, 4)]),
        (lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), [(5, 2, 3), (5, 3, 4)]),
        (lambda a, b: a.dot(b), lambda a, b: a.dot(b), [(3,), (3,)]),
        (lambda a, b: a.mv(b), lambda a, b: a.mv(b), [(2, 3), (3,)]),
        (lambda a, b: a.outer(b), lambda a, b: a.outer(b), [(2,), (3,)]),
    ],
)
def test_products_match_torch(ours, theirs, shapes):
    against_torch(ours, theirs, *(RNG.standard_normal(s) for s in shapes))


def test_conversions_return_the_tensor_itself_when_it_has_the_dtype():
    x = cr.tensor([1.5, 2.5])
    assert x.float() is x and x.to(np.float32) is x and x.to(x) is x
    assert x.double().dtype == cr.float64 and x.half().dtype == cr.float16
    with pytest.raises(TypeError, match="^to: "):
        x.to("not a dtype")


def test_masked_fill_keeps_the_dtype_and_sends_the_gradient_to_the_unmasked_elements():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.masked_fill(cr.tensor([True, False, False]), cr.tensor(9.0, dtype=np.float64))
    assert y.dtype == cr.float32 and y.tolist() == [9.0, 2.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def test_new_zeros_and_new_ones_take_the_dtype_of_the_tensor():
    x = cr.tensor([1, 2])
    assert x.new_zeros(2, 3).shape == (2, 3) and x.new_zeros((2, 3)).dtype == cr.int64
    assert x.new_ones(3, dtype=cr.float64).tolist() == [1.0, 1.0, 1.0]
    assert cr.zeros(1).new_ones(2, requires_grad=True).requires_grad


# ------------------------------------------------------------------ in place
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.exp_(), np.exp([0.0, 1.0])),
        (lambda t: t.zero_(), [0.0, 0.0]),
        (lambda t: t.fill_(7.0), [7.0, 7.0]),
        (lambda t: t.copy_(cr.tensor([3.0, 4.0])), [3.0, 4.0]),
        (lambda t: t.add_(1.0, alpha=2.0), [2.0, 3.0]),
        (lambda t: t.sub_(1.0), [-1.0, 0.0]),
        (lambda t: t.mul_(3.0), [0.0, 3.0]),
        (lambda t: t.div_(2.0), [0.0, 0.5]),
        (lambda t: t.clamp_(0.5, 0.75), [0.5, 0.75]),
    ],
)
def test_in_place_methods_change_the_same_tensor_and_bump_its_version(change, expected):
    t = cr.tensor([0.0, 1.0])
    storage = t.data
    assert change(t) is t
    assert t.data is storage and t._version == 1
    np.testing.assert_allclose(t.data, expected, rtol=1e-6)


def test_exp_in_place_is_recorded_and_refuses_a_stale_saved_value():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    y = x * 1.0
    y.exp_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.0, 1.0]), rtol=1e-6)  # d eˣ/dx
    z = x * 1.0
    w = z * z  # saves z
    z.exp_()
    with pytest.raises(RuntimeError):
        w.sum().backward()


# ------------------------------------------------------------------ creation
@needs_torch
@pytest.mark.parametrize("base", [10.0, 2.0])
def test_logspace_matches_numpy_and_torch(base):
    ours = cr.logspace(-1.0, 2.0, 7, base=base)
    assert ours.dtype == cr.float32
    np.testing.assert_allclose(ours.data, np.logspace(-1, 2, 7, base=base), rtol=1e-6)
    np.testing.assert_allclose(ours.data, torch.logspace(-1.0, 2.0, 7, base=base).numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        cr.logspace(0.0, 1.0, 4, endpoint=False).data, np.logspace(0, 1, 4, endpoint=False), rtol=1e-6
    )
    arrays = cr.logspace([0.0, 1.0], 3.0, 4, base=[2.0, 3.0], axis=1, dtype=np.float64)
    expected = np.logspace([0.0, 1.0], 3.0, 4, base=[2.0, 3.0], axis=1)
    assert arrays.dtype == cr.float64
    np.testing.assert_allclose(arrays.data, expected, rtol=1e-6)  # computed in float32, then converted
    dispatched = np.logspace(cr.tensor(0.0), 2.0, 3)  # NumPy's function on a Tensor: chainrule's
    assert isinstance(dispatched, cr.Tensor) and isinstance(cnp.logspace(0.0, 2.0, 3), np.ndarray)
    np.testing.assert_allclose(dispatched.data, [1.0, 10.0, 100.0], rtol=1e-6)


def test_logspace_is_differentiable_in_start_stop_and_base():
    start = cr.tensor(0.0, dtype=np.float64, requires_grad=True)
    stop = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    base = cr.tensor(10.0, dtype=np.float64, requires_grad=True)
    y = cr.logspace(start, stop, 3, base=base)  # 1, 10, 100: exponents 0, 1, 2
    np.testing.assert_allclose(y.data, [1.0, 10.0, 100.0])
    cr.sum(y).backward()
    ln10 = np.log(10.0)
    np.testing.assert_allclose(start.grad.item(), ln10 * (1 * 1 + 10 * 0.5 + 100 * 0))
    np.testing.assert_allclose(stop.grad.item(), ln10 * (1 * 0 + 10 * 0.5 + 100 * 1))
    np.testing.assert_allclose(base.grad.item(), 0 + 1 + 2 * 10)  # Σ k b^(k−1)
    assert cr.gradcheck(lambda a, b: cr.logspace(a, b, 4, base=3.0), (start, stop))


@needs_torch
def test_arange_takes_torchs_positional_form_and_end():
    assert cr.arange(5).tolist() == torch.arange(5).tolist()
    assert cr.arange(1, 7, 2).tolist() == torch.arange(1, 7, 2).tolist()
    assert cr.arange(end=4).tolist() == torch.arange(end=4).tolist()
    assert cr.arange(2, end=4).tolist() == [2, 3]
    floats = cr.arange(0, 1, 0.25)
    assert floats.dtype == cr.float32 and floats.tolist() == torch.arange(0, 1, 0.25).tolist()
    assert cr.arange(3).dtype == cr.int64
    with pytest.raises(TypeError, match="arange: got both"):
        cr.arange(0, 3, end=4)


def test_empty_full_and_their_like_forms():
    assert cr.empty(2, 3).shape == (2, 3) and cr.empty((2,)).dtype == cr.float32
    assert cr.empty(2, dtype=cr.int32).dtype == cr.int32
    assert cr.empty_like(cr.zeros(3, dtype=cr.float64)).dtype == cr.float64
    assert cr.full((2, 2), 1.5).tolist() == [[1.5, 1.5], [1.5, 1.5]]
    full = cr.full_like(cr.tensor([1, 2, 3]), 7)
    assert full.dtype == cr.int64 and full.tolist() == [7, 7, 7]
    assert cr.full_like(cr.zeros(2), 0.5, requires_grad=True).requires_grad
    assert cr.empty(3, requires_grad=True).requires_grad


def test_randint_draws_integers_in_range_in_both_calling_forms():
    a = cr.randint(3, 7, (1000,), seed=0)
    assert a.dtype == cr.int64 and a.shape == (1000,)
    assert set(a.tolist()) == {3, 4, 5, 6}
    b = cr.randint(4, (2, 3), seed=0)  # torch's randint(high, size)
    assert b.shape == (2, 3) and b.data.min() >= 0 and b.data.max() < 4
    assert cr.randint(0, 2, 5, dtype=cr.uint8, seed=1).dtype == cr.uint8
    assert cr.randint(0, 10, (3,), seed=5).tolist() == cr.randint(0, 10, (3,), seed=5).tolist()


def test_normal_draws_with_the_mean_and_std_given():
    draws = cr.normal(2.0, 0.5, (100_000,), seed=0)
    assert draws.dtype == cr.float32 and draws.shape == (100_000,)
    assert abs(draws.data.mean() - 2.0) < 0.01 and abs(draws.data.std() - 0.5) < 0.01
    per_element = cr.normal(cr.tensor([0.0, 100.0], dtype=np.float64), cr.tensor([1e-6, 1e-6]), seed=0)
    assert per_element.dtype == cr.float64 and per_element.shape == (2,)
    np.testing.assert_allclose(per_element.data, [0.0, 100.0], atol=1e-4)
    assert not per_element.requires_grad


def test_manual_seed_makes_unseeded_draws_reproducible_and_leaves_explicit_seeds_alone():
    def draws():
        return [
            cr.randn(3).tolist(),
            cr.rand(2).tolist(),
            cr.randint(0, 100, (4,)).tolist(),
            cr.normal(0.0, 1.0, 2).tolist(),
        ]

    generator = cr.manual_seed(123)
    assert isinstance(generator, np.random.Generator)
    first = draws()
    cr.manual_seed(123)
    assert draws() == first
    assert draws() != first  # the generator moves on
    cr.manual_seed(123)
    assert cr.randn(3, seed=0).tolist() == cr.randn(3, seed=0).tolist() != first[0]
    assert cr.randn(3).tolist() == first[0]  # explicit seeds did not draw from the seeded generator


def test_manual_seed_is_per_thread():
    cr.manual_seed(5)
    expected = cr.randn(4).tolist()
    cr.manual_seed(5)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(cr.randn(4).tolist()))
    thread.start()
    thread.join()
    assert seen[0] != expected  # the other thread has no seed: fresh entropy
    assert cr.randn(4).tolist() == expected


@needs_torch
def test_dtype_names_are_numpy_dtypes_with_torchs_names():
    names = ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool"]
    for name in names:
        ours = getattr(cr, name)
        assert isinstance(ours, np.dtype) and str(ours) == str(getattr(torch, name)).removeprefix("torch.")
    assert cr.tensor([1, 2], dtype=cr.float64).dtype == cr.float64
    assert cr.tensor([1.0]).dtype == cr.float32
    assert cr.zeros(2, dtype=cr.bool).dtype == np.bool_
    assert "bool" not in cr.__all__  # a star import must not hide the builtin


# ------------------------------------------------------------------ indexing
@needs_torch
def test_indexing_follows_numpy_where_torch_differs():
    x = cr.zeros(2, 3, 4)
    assert x[0, :, [0, 1]].shape == np.zeros((2, 3, 4))[0, :, [0, 1]].shape == (2, 3)
    assert tuple(torch.zeros(2, 3, 4)[0, :, [0, 1]].shape) == (3, 2)
    assert x[0][:, [0, 1]].shape == (3, 2)  # PyTorch's result, spelled for NumPy's rules
    assert x[[[0, 1], [1, 0]]].shape == (2, 2, 3, 4)  # one integer array, not a tuple


def test_repeat_needs_a_size_per_axis_as_pytorch():
    with pytest.raises(ValueError, match="one per axis"):
        cr.zeros(2, 3).repeat(2)
    assert cr.zeros(2, 3).repeat(1, 2, 2).shape == (1, 4, 6)
