"""The benchmark suite (chainrule.apps.bench): it imports, and one tiny configuration runs end to end.

No timing is asserted anywhere: times depend on the machine. The smoke run uses
``--quick`` sizes, chainrule and the hand-written NumPy limit only, one repeat.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from chainrule.apps import cli
from chainrule.apps.bench import problems, report, run
from chainrule.apps.bench.suite import LIBRARIES, LIMIT, WORKLOADS

LIBRARY_MODULES = Path(run.__file__).parent / "libraries"


def _quick_run(path: Path, *argv: str) -> tuple[int, dict, str]:
    """``run.main`` at --quick sizes, one repeat, no warm-up: (exit status, JSON, stdout)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run.main(["--quick", "--repeats", "1", "--warmup", "0", "--json", str(path), *argv])
    return status, json.loads(path.read_text()), out.getvalue()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One quick run of every workload for chainrule and hand NumPy: (exit status, JSON, stdout)."""
    return _quick_run(tmp_path_factory.mktemp("bench") / "bench.json", "--libraries", "chainrule,numpy")


def test_smoke_run_passes_every_gradient_check_and_exits_0(smoke):
    status, document, _ = smoke
    assert status == 0
    results = {(r["workload"], r["library"]): r for r in document["results"]}
    assert set(results) == {(w, lib) for w in WORKLOADS for lib in (LIMIT, "chainrule")}
    for result in results.values():
        assert result["status"] == "ok", result.get("error") or result["cases"]
        assert result["cases"], result
        for case in result["cases"]:
            assert case["check"]["passed"], case["check"]["failures"]


def test_smoke_json_holds_config_machine_and_a_ratio_per_metric(smoke):
    _, document, _ = smoke
    assert {"config", "machine", "libraries", "results", "table", "targets"} <= set(document)
    assert document["config"]["quick"] is True and document["config"]["threads"] == 1
    assert document["machine"]["cpu"] and document["machine"]["numpy"]
    for result in document["results"]:
        workload = WORKLOADS[result["workload"]]
        assert len(result["cases"]) == len(workload.configs(quick=True))
        for case in result["cases"]:
            for metric in workload.metrics:
                stats = case["metrics"][metric]
                assert stats["q1"] <= stats["median"] <= stats["q3"]
                assert case["ratios"][metric]["ratio"] > 0
            if result["library"] == LIMIT:
                assert all(r["ratio"] == 1 for r in case["ratios"].values())


def test_smoke_prints_the_markdown_table_with_targets(smoke):
    _, document, printed = smoke
    table = document["table"]
    assert table in printed
    header = table.splitlines()[0]
    assert "hand NumPy (limit)" in header and "chainrule" in header and "target" in header
    for key in WORKLOADS:
        assert f"| {key} " in table
    assert "≤ 3×" in table  # W2's target
    assert "≤ 2.5×" in table and "≤ 0.95×" in table  # W4's and W1's
    assert "mismatch" not in table and "error" not in table


def test_compare_names_the_output_and_element_that_differ():
    reference = {"dW": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), "loss": np.float32(0.5)}
    ok = problems.compare({k: np.array(v) for k, v in reference.items()}, reference, "float32")
    assert ok["passed"] and ok["failures"] == []
    wrong = {"dW": np.array([[1.0, 2.0], [3.0, 4.5]], dtype=np.float32), "loss": np.float32(0.5)}
    result = problems.compare(wrong, reference, "float32")
    assert not result["passed"]
    assert result["failures"][0].startswith("dW[1, 1]: got 4.5, expected 4")
    assert problems.compare({}, reference, "float32")["failures"] == ["dW: missing", "loss: missing"]


def test_a_failed_check_shows_mismatch_instead_of_a_ratio():
    check = {"passed": False, "rtol": 1e-3, "atol": 1e-5, "failures": ["grad[3]: got 1, expected 2"]}
    stats = {"median": 1.0, "q1": 1.0, "q3": 1.0}
    results = [
        {
            "workload": "W2",
            "library": LIMIT,
            "status": "ok",
            "cases": [{"label": "", "check": {**check, "passed": True}, "metrics": {"time per op": stats}}],
        },
        {
            "workload": "W2",
            "library": "chainrule",
            "status": "mismatch",
            "cases": [{"label": "", "check": check, "metrics": {}}],
        },
    ]
    report.add_ratios(results)
    table, notes = report.markdown_table(results, ["W2"], [LIMIT, "chainrule"])
    assert "**mismatch**[1]" in table
    assert "grad[3]: got 1, expected 2" in notes[0]


def test_every_library_module_defines_each_workload_it_does_not_skip():
    import ast

    for library in LIBRARIES.values():
        tree = ast.parse((LIBRARY_MODULES / f"{library.module}.py").read_text())
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        defined |= {  # a builder may be another's name (W5-dense where W5 is dense already)
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for key, workload in WORKLOADS.items():
            if library.reason_to_skip(key) is None:
                assert workload.builder in defined, (library.name, key)


def test_variants_share_their_base_workloads_sizes_and_data():
    assert WORKLOADS["W1-raw"].configs() == WORKLOADS["W1"].configs()
    assert WORKLOADS["W5-dense"].configs() == WORKLOADS["W5"].configs()
    for quick in (False, True):
        config = WORKLOADS["W1"].configs(quick)[0]
        base, raw = problems.problem("W1", config), problems.problem("W1-raw", config)
        for (W, b), (W_in_out, b_raw) in zip(base["layers"], raw["layers"]):
            assert W_in_out.flags.c_contiguous and np.array_equal(W_in_out, W.T)
            assert np.array_equal(b_raw, b)
        assert np.array_equal(raw["x"], base["x"]) and np.array_equal(raw["y"], base["y"])
        config = WORKLOADS["W5"].configs(quick)[0]
        base, dense = problems.problem("W5", config), problems.problem("W5-dense", config)
        assert base.keys() == dense.keys()
        assert all(np.array_equal(base[k], dense[k]) for k in base)


def test_the_limits_of_the_variants_do_the_same_step():
    """W1-raw's limit is W1's with every weight and its gradient transposed; W5-dense's is W5's."""
    from chainrule.apps.bench.libraries import hand_numpy

    config = WORKLOADS["W1"].configs(quick=True)[0]
    base = hand_numpy.mlp_step(problems.problem("W1", config))()
    raw = hand_numpy.mlp_step_raw(problems.problem("W1-raw", config))()
    assert base.keys() == raw.keys()
    for name, value in base.items():
        got = raw[name].T if name.startswith(("W", "dW")) else raw[name]
        np.testing.assert_allclose(got, value, rtol=1e-6, atol=1e-7, err_msg=name)
    assert hand_numpy.window_step_dense is hand_numpy.window_step


@pytest.mark.parametrize("quick", [True, False])
def test_the_hessian_limit_equals_the_textbook_form(quick):
    """W4's limit Aᵀ(p ⊙ A) − (Aᵀp)(Aᵀp)ᵀ against Aᵀ(diag p − ppᵀ)A, p = softmax(Ax)."""
    from chainrule.apps.bench.libraries import hand_numpy

    data = problems.problem("W4", WORKLOADS["W4"].configs(quick)[0])
    A, x = data["A"], data["x"]
    z = A @ x
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    want = A.T @ (np.diag(p) - np.outer(p, p)) @ A
    got = hand_numpy.hessian(data)()["hessian"]
    assert got.shape == (A.shape[1], A.shape[1])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_the_workloads_option_selects_the_variants():
    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    args = parser.parse_args(["--workloads", "W5-dense,W1-raw"])
    assert args.workloads == ["W1-raw", "W5-dense"]  # the suite's order


INSTALLED = [name for name in LIBRARIES if name != LIMIT and run.installed(name)]


@pytest.mark.skipif(INSTALLED == ["chainrule"], reason="no peer installed (pip install 'chainrule[bench]')")
def test_every_installed_library_matches_the_limit_on_the_variants_and_w4(tmp_path):
    """W1-raw, W4 (its closed-form limit) and W5-dense at --quick sizes in every installed
    library: each checked against the hand-written limit, and printed beside the others."""
    keys = ["W1-raw", "W4", "W5-dense"]
    status, document, printed = _quick_run(
        tmp_path / "bench.json", "--workloads", ",".join(keys), "--libraries", "all"
    )
    assert status == 0
    results = {(r["workload"], r["library"]): r for r in document["results"]}
    assert set(results) == {(key, name) for key in keys for name in [LIMIT, *INSTALLED]}
    for (key, name), result in results.items():
        if result["status"] == "n/a":
            assert LIBRARIES[name].reason_to_skip(key), (key, name)
            continue
        assert result["status"] == "ok", (key, name, result.get("error") or result["cases"])
        assert all(case["check"]["passed"] for case in result["cases"]), (key, name)
    table = document["table"]
    assert table in printed
    for key in keys:  # the target and a ratio in every column but those not run (n/a)
        row = next(line for line in table.splitlines() if line.startswith(f"| {key} "))
        runs = [name for name in [LIMIT, *INSTALLED] if not LIBRARIES[name].reason_to_skip(key)]
        assert row.count("×") == 1 + len(runs), row


def test_bench_is_a_command_whose_help_lists_the_runner_options(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["bench", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--workloads", "--libraries", "--repeats", "--threads", "--quick", "--json"):
        assert option in out


def test_unknown_workload_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        run.main(["--workloads", "W9"])
    assert exc.value.code == 2
    assert "unknown workload W9" in capsys.readouterr().err
