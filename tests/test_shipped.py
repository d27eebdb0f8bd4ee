"""workbooks/titanic.xlsx is what the package generates from the bundled data with the defaults."""

from __future__ import annotations

from pathlib import Path

import titanic_nn as tn
from titanic_nn.shipped import build_default_workbook

SHIPPED = Path(__file__).resolve().parent.parent / "workbooks" / "titanic.xlsx"


def test_the_committed_workbook_is_up_to_date(tmp_path):
    fresh = build_default_workbook(tmp_path / "titanic.xlsx")
    assert SHIPPED.is_file(), "workbooks/titanic.xlsx is missing: python -c 'from titanic_nn.shipped import build_default_workbook as b; b()'"
    assert fresh.read_bytes() == SHIPPED.read_bytes(), (
        "workbooks/titanic.xlsx is out of date; regenerate it with "
        "python -c 'from titanic_nn.shipped import build_default_workbook as b; b()'"
    )


def test_the_shipped_workbook_holds_the_lessons_three_models():
    fits = tn.read_workbook(SHIPPED)
    assert [f.name for f in fits] == ["linear", "nnet", "mmult"]
    assert all(f.training["method"] == "solver" for f in fits)
    assert abs(fits[0].training["loss"] - 0.14422714930851466) < 1e-9
