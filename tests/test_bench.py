"""The benchmark suite (chainrule.apps.bench): it imports, and one tiny configuration runs end to end.

No timing is asserted anywhere: times depend on the machine. The smoke run uses
``--quick`` sizes, chainrule and the hand-written NumPy limit only, one repeat.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chainrule.apps import cli
from chainrule.apps.bench import problems, report, run
from chainrule.apps.bench.suite import LIBRARIES, LIMIT, WORKLOADS

LIBRARY_MODULES = Path(run.__file__).parent / "libraries"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One quick run of every workload for chainrule and hand NumPy: (exit status, JSON, stdout)."""
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    argv = [
        "--quick",
        "--libraries",
        "chainrule,numpy",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--json",
        str(path),
    ]
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run.main(argv)
    return status, json.loads(path.read_text()), out.getvalue()


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
        source = (LIBRARY_MODULES / f"{library.module}.py").read_text()
        defined = {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
        for key, workload in WORKLOADS.items():
            if library.reason_to_skip(key) is None:
                assert workload.builder in defined, (library.name, key)


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
