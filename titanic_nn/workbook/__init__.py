"""The workbook: fitted models written as live formulas (rendered from their programs), and read back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "write_workbook": "._writer",
    "read_workbook": "._readback", "read_contents": "._readback", "WorkbookContents": "._readback",
    "cell_value": "._readback", "read_rows": "._readback", "training_layouts": "._readback",
    "read_settings": "._readback", "read_blocks": "._readback", "read_epoch": "._readback", "formula_cells": "._readback",
    "open_workbook": "._untrusted",
    "build_sheets": "._sheets", "written_frame": "._sheets", "model_layout": "._sheets", "sheet_text_problem": "._sheets",
    "MATRIX_LAYOUTS": "._layout", "data_rows": "._layout", "SheetBackend": "._render", "SheetUnits": "._render",
    "SheetTraining": "._training_sheets", "check_training_sheets": "._training_sheets",
    "TrainingLayout": "._training_sheets", "training_part": "._training_sheets",
    "Sheet": "._cells", "Column": "._cells", "Cell": "._cells",
    "SOLVER_OPTIONS": "._solver_model", "MAX_VARIABLES": "._solver_model",
    "build_default_workbook": "._shipped", "default_models": "._shipped", "SHIPPED_PATH": "._shipped",
    "METADATA_SHEET": "._layout",
    "expected_sheets": "._expected", "expected_training_sheets": "._expected", "check_formulas": "._expected",
    "formula_key": "._expected", "FormulaCheck": "._expected",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._cells import Cell, Column, Sheet
    from ._expected import FormulaCheck, check_formulas, expected_sheets, expected_training_sheets, formula_key
    from ._layout import MATRIX_LAYOUTS, METADATA_SHEET, data_rows
    from ._render import SheetBackend, SheetUnits
    from ._readback import (
        WorkbookContents, cell_value, formula_cells, read_blocks, read_contents, read_epoch, read_rows, read_settings,
        read_workbook, training_layouts,
    )
    from ._training_sheets import SheetTraining, TrainingLayout, check_training_sheets, training_part
    from ._untrusted import open_workbook
    from ._sheets import build_sheets, model_layout, sheet_text_problem, written_frame
    from ._shipped import SHIPPED_PATH, build_default_workbook, default_models
    from ._solver_model import MAX_VARIABLES, SOLVER_OPTIONS
    from ._writer import write_workbook
