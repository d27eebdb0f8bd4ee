"""A sheet's content before it is written: columns of per-row cells and single cells, each carrying Python's value.

The writer turns these into XML; `verify` builds them again from the workbook's own inputs and compares
every computed cell with LibreOffice's result, so both read the same description of the sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Column", "Cell", "Block", "Sheet"]


@dataclass
class Column:
    """One cell per data row at column `col` (0-based): a value, text, a per-row formula or part of an array.

    `formula` is a template whose "{r}" becomes each cell's row number. An array formula is written once,
    by the first column of its block (`array_formula` over `array_ref`); every column of the block carries
    its own values. `highlight` marks the rows whose value was filled in rather than read; with
    `fill_formula` (a reference to the fill value's cell) those cells are that formula, caching their
    value. `shift` is added to the row number before it fills "{r}" (the submission sheet's row 2 reads
    the test sheet's row 4). `scale` gives, per row, the size of the terms each value sums (|x| times |w| for a
    model's units): verify holds a cell to a tolerance relative to it, as cancellation can leave a small value.
    """

    col: int
    header: str
    values: Any  # float64 array, or a list of str/float for raw columns
    formula: str | None = None
    array_formula: str | None = None
    array_ref: str | None = None
    in_array: bool = False
    style: str | None = None
    highlight: np.ndarray | None = None
    fill_formula: str | None = None
    shift: int = 0
    array_cells: bool = False  # each cell's formula a one-cell array formula (it reads whole columns)
    scale: Any = None  # the size of the terms summed into each value (None: the value's own), for verify's tolerance

    @property
    def computed(self) -> bool:
        """True for cells a spreadsheet computes (and verify checks)."""
        return self.formula is not None or self.in_array


@dataclass
class Cell:
    """A single cell: `row` 1-based, `col` 0-based; a formula (without "=") or a plain value.

    An array formula over a block is written by its top-left cell (`formula` over `array_ref`); each
    other cell of the block is `in_array`, carrying its own value.
    """

    row: int
    col: int
    value: Any
    formula: str | None = None
    style: str | None = None
    array_ref: str | None = None
    in_array: bool = False
    scale: float | None = None  # the size of the terms behind the value (None: its own), for verify's tolerance

    @property
    def computed(self) -> bool:
        return self.formula is not None or self.in_array


@dataclass
class Block:
    """An array formula over a block of cells, from (`top` 1-based, `left` 0-based), each cell caching its value.

    `values` is the block's grid (rows, columns) of float64 values; the top-left cell holds `formula`. A block
    that copies another (`copy_of`: that block's top-left (row, column)) is a plain reference per cell instead,
    since an array formula that is a bare range is not one every engine evaluates.
    """

    top: int
    left: int
    values: np.ndarray
    formula: str | None
    style: str | None = None
    copy_of: tuple[int, int] | None = None

    @property
    def bottom(self) -> int:
        return self.top + self.values.shape[0] - 1

    @property
    def right(self) -> int:
        return self.left + self.values.shape[1] - 1


@dataclass
class Sheet:
    """A sheet's columns (data rows `first_row`.. `first_row + n_rows - 1`, 1-based) and single cells."""

    name: str
    first_row: int
    n_rows: int
    columns: list[Column] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)  # at least these, where the contents need less
    frozen_columns: int = 0  # the leading columns kept in view (the raw columns)

    @property
    def last_row(self) -> int:
        return self.first_row + self.n_rows - 1

    def column_at(self, col: int) -> Column:
        for column in self.columns:
            if column.col == col:
                return column
        raise KeyError(f"{self.name} has no column {col}")
