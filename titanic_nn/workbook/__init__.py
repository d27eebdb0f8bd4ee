"""The workbook: fitted models written as live formulas (rendered from their programs), and read back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "write_workbook": "._writer",
    "read_workbook": "._readback", "read_contents": "._readback", "WorkbookContents": "._readback",
    "cell_value": "._readback",
    "build_sheets": "._sheets", "written_frame": "._sheets", "model_layout": "._sheets",
    "MATRIX_LAYOUTS": "._layout", "SheetBackend": "._render", "SheetUnits": "._render",
    "SheetTraining": "._training", "check_training": "._training",
    "Sheet": "._cells", "Column": "._cells", "Cell": "._cells",
    "SOLVER_OPTIONS": "._solver_model", "MAX_VARIABLES": "._solver_model",
    "build_default_workbook": "._shipped", "default_models": "._shipped", "SHIPPED_PATH": "._shipped",
    "METADATA_SHEET": "._layout",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._cells import Cell, Column, Sheet
    from ._layout import MATRIX_LAYOUTS, METADATA_SHEET
    from ._render import SheetBackend, SheetUnits
    from ._readback import WorkbookContents, cell_value, read_contents, read_workbook
    from ._training import SheetTraining, check_training
    from ._sheets import build_sheets, model_layout, written_frame
    from ._shipped import SHIPPED_PATH, build_default_workbook, default_models
    from ._solver_model import MAX_VARIABLES, SOLVER_OPTIONS
    from ._writer import write_workbook
