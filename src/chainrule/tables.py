"""Printed tables: rows under headers, as aligned plain text or as markdown.

Every table the package prints goes through here (the table of derivative rules is
another thing: ``chainrule.ops``). A float is written with a fixed number of decimals,
anything else with ``str``; a column of numbers is right-aligned and any other column
left-aligned, unless the caller says otherwise. A cell may hold several lines (a
matrix, say): in plain text its row is as tall as its tallest cell.

>>> rows = [("model", 0.5, 3), ("always O", 0.0, 12)]
>>> print(text_table(["tagger", "F1", "errors"], rows, digits=2))
tagger      F1  errors
--------  ----  ------
model     0.50       3
always O  0.00      12
>>> print(markdown_table(["tagger", "F1", "errors"], rows, digits=2))
| tagger | F1 | errors |
|:---|---:|---:|
| model | 0.50 | 3 |
| always O | 0.00 | 12 |
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

LEFT, RIGHT = "l", "r"


def text_table(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[object]],
    *,
    digits: int | Sequence[int] = 4,
    align: str | None = None,
    rule: bool = True,
    gap: int = 2,
) -> str:
    """``rows`` under ``headers`` as plain text, each column as wide as its widest line.

    ``digits`` is the number of decimals of every float (one count, or one per column);
    ``align`` gives one letter per column, ``"l"`` or ``"r"`` (by default a column of
    numbers is right-aligned, any other left-aligned). ``rule`` underlines the headers
    with dashes; ``gap`` is the number of spaces between columns. ``headers=None``
    prints the rows alone. Lines carry no trailing spaces.

    >>> print(text_table(["op", "local ∂out/∂in", "out"], [("sin", "[[0.54, 0.  ],\\n [0.  , 0.96]]", 2)],
    ...                  rule=False))
    op   local ∂out/∂in  out
    sin  [[0.54, 0.  ],    2
          [0.  , 0.96]]
    """
    cells, sides = _cells(headers, rows, digits, align)
    widths = [
        max((len(line) for row in cells for line in row[k].split("\n")), default=0) for k in range(len(sides))
    ]
    if headers is not None and rule:
        cells.insert(1, ["-" * w for w in widths])
    separator = " " * gap
    lines = []
    for row in cells:
        blocks = [cell.split("\n") for cell in row]
        for i in range(max((len(b) for b in blocks), default=1)):
            parts = [_pad(b[i] if i < len(b) else "", w, side) for b, w, side in zip(blocks, widths, sides)]
            lines.append(separator.join(parts).rstrip())
    return "\n".join(lines)


def markdown_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    digits: int | Sequence[int] = 4,
    align: str | None = None,
) -> str:
    """``rows`` under ``headers`` as a markdown table: cells formatted and aligned as by
    :func:`text_table`, ``|`` escaped and line breaks written ``<br>``.

    >>> print(markdown_table(["a|b", "ratio"], [("x", 1.5)], digits=1))
    | a\\|b | ratio |
    |:---|---:|
    | x | 1.5 |
    """
    cells, sides = _cells(headers, rows, digits, align)
    marks = {LEFT: ":---", RIGHT: "---:"}
    lines = [_markdown_row(cells[0]), "|" + "|".join(marks[side] for side in sides) + "|"]
    return "\n".join(lines + [_markdown_row(row) for row in cells[1:]])


def format_cell(value: object, digits: int) -> str:
    """A float with ``digits`` decimals; anything else as ``str`` writes it.

    >>> format_cell(2 / 3, 3), format_cell(7, 3), format_cell("n/a", 3)
    ('0.667', '7', 'n/a')
    """
    if _is_number(value) and not isinstance(value, numbers.Integral):
        return f"{value:.{digits}f}"
    return str(value)


def _cells(
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[object]],
    digits: int | Sequence[int],
    align: str | None,
) -> tuple[list[list[str]], str]:
    """The header row (when there is one) and the rows as text, and each column's side."""
    columns = len(headers) if headers is not None else len(rows[0]) if rows else 0
    places = [digits] * columns if isinstance(digits, int) else list(digits)
    if any(len(row) != columns for row in rows):
        raise ValueError(
            f"table: each row needs {columns} cells, one per column; got rows of "
            f"{sorted({len(row) for row in rows})}"
        )
    if len(places) != columns:
        raise ValueError(f"table: digits needs one count per column ({columns}), got {len(places)}")
    if align is None:
        align = "".join(
            RIGHT if rows and all(_is_number(row[k]) for row in rows) else LEFT for k in range(columns)
        )
    elif len(align) != columns or set(align) - {LEFT, RIGHT}:
        raise ValueError(f"table: align needs one letter, 'l' or 'r', per column ({columns}), got {align!r}")
    text = [[format_cell(v, d) for v, d in zip(row, places)] for row in rows]
    return ([list(headers)] if headers is not None else []) + text, align


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _pad(text: str, width: int, side: str) -> str:
    return text.rjust(width) if side == RIGHT else text.ljust(width)


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", "<br>") for c in cells) + " |"
