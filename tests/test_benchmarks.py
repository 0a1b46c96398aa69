"""The benchmark scripts still run (tiny configurations, no timing assertions)."""

import numpy as np
from numpy.testing import assert_allclose

from chainrule.apps.bench import overhead


def test_overhead_benchmark_runs_and_reports_every_implementation(capsys):
    results = overhead.main(["--ops", "10", "--repeats", "1", "--warmup", "0"])
    assert {"hand NumPy", "chainrule"} <= set(results)
    assert all(us > 0 for us in results.values())
    printed = capsys.readouterr().out
    assert "hand NumPy" in printed and "chainrule" in printed and "target" in printed


def test_overhead_chain_gradient_matches_a_closed_form():
    """Two ops, x0 + x0 then ×0.5: the hand-written gradient is exactly 1 everywhere."""
    x0 = overhead.make_input(4)
    ops = overhead.schedule(2)
    assert ops == ["add_input", "half"]
    assert_allclose(overhead.numpy_gradient(x0, ops), np.ones(4))
    assert_allclose(overhead.chainrule_gradient(x0, ops), np.ones(4))


def test_per_example_benchmark_checks_every_implementation_against_the_loop(capsys):
    from chainrule.apps.bench import per_example

    times = per_example.main(["--batch", "6", "--repeats", "1", "--warmup", "0"])
    assert {"chainrule vmap(grad)", "chainrule loop of grad"} <= set(times)
    assert "faster than a loop of 6 grad calls" in capsys.readouterr().out


def test_distributed_scaling_benchmark_reports_every_configuration(capsys):
    import sys
    from pathlib import Path

    import pytest

    if not Path(sys.executable).with_name("mpiexec").exists():
        pytest.skip("mpiexec not found beside Python: pip install 'chainrule[distributed]'")
    from chainrule.apps.bench import distributed_scaling

    name = "W5 window, row-sparse embedding"
    results = distributed_scaling.main(
        ["--processes", "1,2", "--steps", "2", "--warmup", "0", "--only", name]
    )
    assert [r["processes"] for r in results] == [1, 2]
    assert results[0]["bytes"] == 0 < results[1]["bytes"]
    assert "MB sent/step" in capsys.readouterr().out
