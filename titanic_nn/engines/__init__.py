"""Spreadsheet engines that recalculate a workbook, and `verify`, which compares their numbers with Python's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "verify": "._verify", "verify_many": "._verify", "VerifyReport": "._verify", "compare": "._verify",
    "expected_sheets": "._verify", "RTOL": "._verify", "ATOL": "._verify",
    "recalculate": "._libreoffice", "find_soffice": "._libreoffice", "INSTALL_HINT": "._libreoffice",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._libreoffice import INSTALL_HINT, find_soffice, recalculate
    from ._verify import ATOL, RTOL, VerifyReport, compare, expected_sheets, verify, verify_many
