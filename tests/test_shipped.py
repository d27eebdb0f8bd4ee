"""workbooks/titanic.xlsx: the lesson's models on the bundled data, as the package writes them today."""

from __future__ import annotations

from pathlib import Path

import pytest

import titanic_nn as tn
from titanic_nn.workbook import build_default_workbook, default_models

from workbook_compare import differences

SHIPPED = Path(__file__).resolve().parent.parent / "workbooks" / "titanic.xlsx"
# rewrites the file from its own models; `b()` alone trains them again
REGENERATE = (
    "python -c 'import titanic_nn as tn; from titanic_nn.workbook import build_default_workbook as b; "
    "b(fits=tn.read_workbook(\"workbooks/titanic.xlsx\"))'"
)


def test_the_committed_workbook_is_what_the_writer_makes_of_its_models(tmp_path):
    # its own models, written again: the same sheets, cells, formulas and names, every cached number within verify's
    # tolerance (the training sheets' last digits depend on this machine's numpy), whatever its optimiser finds
    assert SHIPPED.is_file(), f"workbooks/titanic.xlsx is missing: {REGENERATE}"
    fresh = build_default_workbook(tmp_path / "titanic.xlsx", tn.read_workbook(SHIPPED))
    found = differences(SHIPPED, fresh)
    assert not found, f"workbooks/titanic.xlsx is out of date ({'; '.join(found)}); regenerate it with {REGENERATE}"


def test_the_comparison_finds_a_changed_formula_and_a_changed_number(tmp_path):
    import openpyxl

    book = openpyxl.load_workbook(SHIPPED)
    book["nnet"]["S4"] = "=IF(Q4<0,0,R4)"
    book["linear"]["V4"] = book["linear"]["V4"].value * (1 + 1e-6)
    book.save(tmp_path / "changed.xlsx")
    found = differences(SHIPPED, tmp_path / "changed.xlsx", most=10**6)
    assert any(line.startswith("linear!V4: -0.0549") for line in found)
    assert any(line.startswith("nnet!S4: '=IF(Q4<0,0,Q4)'") for line in found)


def test_the_shipped_workbook_holds_the_lessons_three_models():
    fits = tn.read_workbook(SHIPPED)
    assert [f.name for f in fits] == ["linear", "nnet", "mmult"]
    assert all(f.training["method"] == "solver" for f in fits)
    assert abs(fits[0].training["loss"] - 0.14422714930851466) < 1e-9
    assert fits[1].training["loss"] <= 0.1330 and fits[2].training["loss"] <= 0.1330


def test_training_the_default_models_again_reaches_the_shipped_losses():
    fits = default_models()
    assert [f.name for f in fits] == list(tn.MODELS)
    shipped = {f.name: f.training["loss"] for f in tn.read_workbook(SHIPPED)}
    assert fits[0].training["loss"] == pytest.approx(shipped["linear"], abs=1e-9)
    for fitted in fits[1:]:  # the nets' local minimum depends on the machine's floating point, within a band
        assert fitted.training["loss"] <= 0.1330
