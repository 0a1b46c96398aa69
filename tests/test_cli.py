"""The command line: ``python -m chainrule demo`` and argparse's usage errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chainrule.apps import cli


def run_chainrule(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_python_m_chainrule_demo_exits_0_with_every_row_agreeing():
    result = run_chainrule("demo")
    assert result.returncode == 0, result.stderr
    assert "✓" in result.stdout and "✗" not in result.stdout
    assert result.stderr == ""


def test_unknown_subcommand_is_a_one_line_usage_error_with_status_2():
    result = run_chainrule("frobnicate")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert errors[0].startswith("chainrule: error:") and "frobnicate" in errors[0]
    assert "demo" in errors[0]  # the message lists the valid choices


def test_missing_subcommand_is_a_usage_error():
    result = run_chainrule()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("chainrule: error:")


def test_main_runs_the_demo_in_process_and_returns_its_status(capsys):
    assert cli.main(["demo"]) == 0
    assert "all" in capsys.readouterr().out


def test_main_exits_2_on_unknown_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(command.name in out for command in cli.COMMANDS)
