"""The paper's numbers beside ours: one table per experiment, as text and as HTML.

Example::

    >>> from snntorch_ext.comparison import PaperComparison
    >>> table = PaperComparison(unit="%")
    >>> table.add("BPSA+BPTA, MNIST", figure="Table 2", paper=99.58, quick=97.1)
    >>> print(table)
    row               paper figure  paper (%)  ours, quick (%)  ours, full (%)
    ----------------  ------------  ---------  ---------------  --------------
    BPSA+BPTA, MNIST  Table 2           99.58            97.10    not run here
"""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["PaperComparison"]

NOT_RUN = "not run here"


@dataclass(frozen=True)
class _Row:
    row: str
    unit: str
    figure: str
    paper: str
    quick: str
    full: str


def _cell(value: float | str | None, digits: int, missing: str) -> str:
    if value is None:
        return missing
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


class PaperComparison:
    r"""A table with one row per result: the paper's figure and value, ours (quick), ours (full).

    Our values are numbers (formatted with ``digits`` decimals) or text; the paper's are shown as
    given (``99.42`` stays ``99.42``); a paper value of ``None`` reads "-" (not reported), a
    full-run value of ``None`` reads "not run here". With one ``unit`` for the whole table the unit
    stands in the column headers; without it every row names its unit in a "unit" column. In a
    Jupyter notebook or a sphinx-gallery page the table shows as HTML (the last expression of a
    cell), elsewhere ``print(table)`` gives plain text.

    Args:
        unit: the unit of every value (e.g. ``"%"``), or ``None`` when rows differ.
        digits: decimals of numeric values.

    Example::

        >>> from snntorch_ext.comparison import PaperComparison
        >>> table = PaperComparison()
        >>> table.add("firing rate", unit="spikes / neuron / step", figure="Table 6",
        ...           paper=0.082, quick=0.1234, digits=3)
        >>> "<th>unit</th>" in table._repr_html_()
        True
    """

    def __init__(self, unit: str | None = None, digits: int = 2) -> None:
        if unit is not None and not unit.strip():
            raise ValueError(f"unit must be a non-empty string or None, got {unit!r}")
        self.unit = unit
        self.digits = digits
        self.rows: list[_Row] = []

    def add(self, row: str, *, figure: str, paper: float | str | None,
            quick: float | str | None = None, full: float | str | None = None,
            unit: str | None = None, digits: int | None = None) -> None:
        """Append one result; ``unit`` is required exactly when the table has none.

        ``quick`` and ``full`` left out (``None``) read "not run here".
        """
        if (unit is None) == (self.unit is None):
            raise ValueError(f"unit must be given per row only when the table has no unit; "
                             f"table unit {self.unit!r}, row unit {unit!r}")
        digits = self.digits if digits is None else digits
        paper_cell = "-" if paper is None else str(paper)
        self.rows.append(_Row(row, unit or "", figure, paper_cell,
                              _cell(quick, digits, NOT_RUN), _cell(full, digits, NOT_RUN)))

    def _header(self) -> list[str]:
        suffix = f" ({self.unit})" if self.unit else ""
        head = ["row"] + ([] if self.unit else ["unit"]) + ["paper figure"]
        return head + [f"paper{suffix}", f"ours, quick{suffix}", f"ours, full{suffix}"]

    def _cells(self, row: _Row) -> list[str]:
        head = [row.row] + ([] if self.unit else [row.unit]) + [row.figure]
        return head + [row.paper, row.quick, row.full]

    def __str__(self) -> str:
        table = [self._header(), *(self._cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
        numeric = len(widths) - 3

        def line(cells: list[str]) -> str:
            return "  ".join(cell.rjust(w) if i >= numeric else cell.ljust(w)
                             for i, (cell, w) in enumerate(zip(cells, widths, strict=True)))

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(table[0]).rstrip(), rule] + [line(c).rstrip() for c in table[1:]])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._header())
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in self._cells(r))
                       + "</tr>" for r in self.rows)
        return (f'<table class="paper-comparison"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")
