"""Spreadsheet engines (LibreOffice, Gnumeric) that recalculate a workbook, and `verify`, which compares them with Python."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "verify": "._verify", "verify_many": "._verify", "VerifyReport": "._verify", "EngineReport": "._verify",
    "compare": "._verify", "choose_engines": "._verify", "ENGINES": "._registry",
    "RTOL": "._verify", "ATOL": "._verify",
    "Engine": "._engine", "SheetValues": "._engine", "LibreOffice": "._libreoffice", "Gnumeric": "._gnumeric",
    "HyperFormula": "._hyperformula",
    "recalculate": "._verify",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._engine import Engine, SheetValues
    from ._gnumeric import Gnumeric
    from ._hyperformula import HyperFormula
    from ._libreoffice import LibreOffice
    from ._registry import ENGINES
    from ._verify import (
        ATOL, RTOL, EngineReport, VerifyReport, choose_engines, compare, recalculate, verify,
        verify_many,
    )
