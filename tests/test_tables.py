"""The one table formatter: rows under headers as aligned plain text, or as markdown."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.tables import format_cell, markdown_table, text_table


def test_text_left_numbers_right_and_floats_to_the_given_digits():
    text = text_table(["name", "count", "share"], [("a", 3, 0.5), ("longer", 12, 1 / 3)], digits=3)
    assert text.splitlines() == [
        "name    count  share",
        "------  -----  -----",
        "a           3  0.500",
        "longer     12  0.333",
    ]


def test_each_column_may_have_its_own_digits_and_numpy_numbers_count_as_numbers():
    text = text_table(
        ["what", "ms", "ratio"], [("x", np.float32(1.23456), np.float64(2.0))], digits=(0, 3, 1), rule=False
    )
    assert text.splitlines() == ["what     ms  ratio", "x     1.235    2.0"]


def test_a_column_mixing_text_and_numbers_is_text_unless_align_says_otherwise():
    rows = [("w", "no grad"), ("b", 0.25)]
    assert text_table(["p", "|grad|"], rows, digits=2).splitlines()[2:] == ["w  no grad", "b  0.25"]
    assert text_table(["p", "|grad|"], rows, digits=2, align="lr").splitlines()[2:] == [
        "w  no grad",
        "b     0.25",
    ]


def test_a_cell_of_several_lines_makes_its_row_that_tall_and_its_column_that_wide():
    matrix = "[[2., 0.],\n [0., 4.]]"
    text = text_table(["op", "J", "g"], [("mul", matrix, "1."), ("sum", "[1., 1.]", "2.")], rule=False)
    assert text.splitlines() == [
        "op   J           g",
        "mul  [[2., 0.],  1.",
        "      [0., 4.]]",
        "sum  [1., 1.]    2.",
    ]


def test_no_line_ends_in_spaces_and_the_gap_between_columns_is_chosen():
    text = text_table(None, [("x", "=", "1"), ("long", "=", "[1, 2]")], gap=1)
    assert text.splitlines() == ["x    = 1", "long = [1, 2]"]
    assert all(line == line.rstrip() for line in text_table(["a", "b"], [("x", "")]).splitlines())


def test_headers_alone_make_a_table_without_rows():
    assert text_table(["epoch", "loss"], []).splitlines() == ["epoch  loss", "-----  ----"]


def test_markdown_states_each_columns_alignment_and_escapes_pipes_and_line_breaks():
    text = markdown_table(["input", "|·|", "value"], [("a|b", "x\ny", 0.125)], digits=2)
    assert text.splitlines() == [
        "| input | \\|·\\| | value |",
        "|:---|:---|---:|",
        "| a\\|b | x<br>y | 0.12 |",
    ]


def test_format_cell_writes_floats_with_fixed_decimals_and_everything_else_as_str():
    assert [format_cell(v, 2) for v in (1.0, np.float32(0.125), 7, np.int64(3), True, None, "n/a")] == [
        "1.00",
        "0.12",
        "7",
        "3",
        "True",
        "None",
        "n/a",
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda: text_table(["a", "b"], [("x",)]),
        lambda: text_table(["a", "b"], [("x", 1)], digits=(1, 2, 3)),
        lambda: text_table(["a", "b"], [("x", 1)], align="l"),
        lambda: markdown_table(["a", "b"], [("x", 1)], align="lc"),
    ],
)
def test_a_row_digits_or_align_that_does_not_fit_the_columns_is_an_error(call):
    with pytest.raises(ValueError, match="table: "):
        call()
