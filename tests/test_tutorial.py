"""docs/tutorial.md runs: its ```python blocks, in order, in one namespace, print what it shows."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

import chainrule as cr

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(python|text)\n(.*?)^```", flags=re.S | re.M)


def blocks(kind: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")) if lang == kind]


def shown_output(code: str) -> list[str]:
    """The comment lines right under a top-level ``print(...)``: the output the text promises."""
    shown, after_print = [], False
    for line in code.splitlines():
        if after_print and line.startswith("# "):
            shown.append(line[2:])
            continue
        after_print = line.startswith("print(")
    return shown


def is_subsequence(wanted: list[str], lines: list[str]) -> bool:
    rest = iter(lines)
    return all(any(w == line for line in rest) for w in wanted)


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory) -> tuple[dict, list[str]]:
    """Run every python block in a scratch directory: the namespace and each block's output."""
    namespace: dict = {"__name__": "tutorial"}
    outputs = []
    dtype, cwd = cr.get_default_dtype(), os.getcwd()
    os.chdir(tmp_path_factory.mktemp("tutorial"))  # cr.draw writes its picture here
    try:
        for number, code in enumerate(blocks("python"), start=1):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"docs/tutorial.md python block {number}", "exec"), namespace)
            outputs.append(out.getvalue())
    finally:
        os.chdir(cwd)
        cr.set_default_dtype(dtype)
    return namespace, outputs


def test_the_tutorial_has_runnable_examples_for_every_section():
    assert len(blocks("python")) >= 15
    headings = re.findall(r"^## (\d+)\.", TUTORIAL.read_text(encoding="utf-8"), flags=re.M)
    assert headings == [str(k) for k in range(1, 11)]


def test_every_python_block_runs_in_order(tutorial):
    namespace, outputs = tutorial
    assert len(outputs) == len(blocks("python"))
    assert namespace["trace"].leaf_gradients["y"] == 5.0


def test_printed_output_is_what_the_text_shows(tutorial):
    _, outputs = tutorial
    checked = 0
    for number, (code, out) in enumerate(zip(blocks("python"), outputs), start=1):
        wanted = shown_output(code)
        assert is_subsequence(wanted, out.splitlines()), (
            f"python block {number} printed\n{out}\nbut the tutorial shows\n" + "\n".join(wanted)
        )
        checked += bool(wanted)
    assert checked >= 8


def test_the_explain_trace_and_the_dot_text_are_shown_as_printed(tutorial):
    namespace, _ = tutorial
    shown = blocks("text")
    assert str(namespace["trace"]) + "\n" in shown
    assert namespace["dot"] in shown


def test_the_gradcheck_failure_is_shown_as_printed(tutorial):
    namespace, _ = tutorial
    site = re.compile(r"docs/tutorial\.md python block \d+:\d+")
    assert site.sub("<file>:<line>", namespace["message"]) + "\n" in blocks("text")


def test_the_readme_links_the_tutorial():
    assert "(docs/tutorial.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
