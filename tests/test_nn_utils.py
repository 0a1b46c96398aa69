"""nn.utils: gradient norms, dead and saturated units, clip_grad_norm_."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F


def test_clip_scales_gradients_to_the_max_norm_and_returns_the_old_norm():
    a = cr.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    b = cr.tensor([[12.0]], dtype="float64", requires_grad=True)
    ((a * a).sum() / 2 + (b * b).sum() / 2).backward()  # grads (3, 4) and (12): norm 13
    norm = cr.nn.utils.clip_grad_norm_([a, b], 6.5)
    assert float(norm) == pytest.approx(13.0)
    np.testing.assert_allclose(a.grad.data, np.array([3.0, 4.0]) * 6.5 / (13 + 1e-6))
    np.testing.assert_allclose(b.grad.data, [[12.0 * 6.5 / (13 + 1e-6)]])


def test_clip_leaves_small_gradients_alone_and_supports_the_inf_norm():
    a = cr.tensor([0.3, -0.4], dtype="float64", requires_grad=True)
    (a * a).sum().backward()
    assert float(cr.nn.utils.clip_grad_norm_([a], 5.0)) == pytest.approx(1.0)
    np.testing.assert_allclose(a.grad.data, [0.6, -0.8])
    assert float(cr.nn.utils.clip_grad_norm_([a], 0.4, norm_type=float("inf"))) == pytest.approx(0.8)
    np.testing.assert_allclose(a.grad.data, np.array([0.6, -0.8]) * 0.4 / (0.8 + 1e-6))


def test_clip_of_a_row_sparse_embedding_gradient_scales_its_rows():
    emb = cr.nn.Embedding(10, 2, sparse=True, seed=0)
    emb(np.array([1, 1, 3])).sum().backward()  # rows 1 (twice) and 3
    norm = float(cr.nn.utils.clip_grad_norm_(emb.parameters(), 1.0))
    assert norm == pytest.approx(np.sqrt(2 * 4 + 2 * 1))
    np.testing.assert_allclose(np.linalg.norm(np.asarray(emb.weight.grad)), 1.0, rtol=1e-5)


def test_report_gives_each_parameters_gradient_norm():
    model = cr.nn.Sequential(cr.nn.Linear(3, 4, seed=0), cr.nn.Tanh(), cr.nn.Linear(4, 2, seed=1))
    F.mse_loss(model(cr.ones(5, 3)), cr.zeros(5, 2)).backward()
    report = cr.nn.utils.gradient_report(model)
    for row, (name, p) in zip(report.parameters, model.named_parameters()):
        assert row.name == name and row.shape == p.shape
        assert row.grad_norm == pytest.approx(np.linalg.norm(p.grad.data))
        assert row.ratio == pytest.approx(row.grad_norm / np.linalg.norm(p.data))
    assert "0.weight" in str(report)


def test_report_counts_dead_relu_units():
    layer = cr.nn.Linear(2, 4, seed=0)
    layer.weight.data = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0], [-2.0, 0.0]], dtype=np.float32)
    layer.bias.data = np.zeros(4, dtype=np.float32)
    model = cr.nn.Sequential(layer, cr.nn.ReLU())
    x = cr.tensor([[1.0, 2.0], [0.5, 0.1], [3.0, 1.0]])  # positive inputs: units 2 and 3 die
    model(x).sum().backward()
    (health,) = cr.nn.utils.gradient_report(model).activations
    assert health.kind == "ReLU" and health.units == 4 and health.dead == pytest.approx(0.5)
    np.testing.assert_array_equal(layer.weight.grad.data[2:], 0)  # dead units learn nothing


def test_activation_layers_keep_a_summary_not_their_outputs():
    import gc
    import weakref

    model = cr.nn.Sequential(
        cr.nn.Linear(3, 4, seed=0), cr.nn.ReLU(), cr.nn.Linear(4, 2, seed=1), cr.nn.Tanh()
    )
    hidden = model[1](model[0](cr.ones(5, 3)))
    alive = weakref.ref(hidden.data)
    model[3](model[2](hidden)).sum().backward()
    del hidden
    gc.collect()
    assert alive() is None  # after backward nothing holds the hidden activations
    assert [row.units for row in cr.nn.utils.gradient_report(model).activations] == [4, 2]


def test_report_measures_saturated_sigmoid_and_tanh_outputs():
    for layer, big in ((cr.nn.Sigmoid(), 8.0), (cr.nn.Tanh(), 4.0)):
        x = cr.tensor([[big, 0.0, -big, 0.1]], requires_grad=True)
        layer(x).sum().backward()
        (health,) = cr.nn.utils.gradient_report(cr.nn.Sequential(layer)).activations
        assert health.saturated == pytest.approx(0.5)  # ±big saturate, 0 and 0.1 do not
        assert "saturated" in str(cr.nn.utils.gradient_report(cr.nn.Sequential(layer)))


def test_a_parameter_without_gradient_is_reported_as_such():
    model = cr.nn.Linear(2, 2, seed=0)
    (row, _) = cr.nn.utils.gradient_report(model).parameters
    assert row.grad_norm is None and row.ratio is None
    assert "no grad" in str(cr.nn.utils.gradient_report(model))
