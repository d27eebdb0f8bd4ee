"""LibreOffice recomputes the workbooks and every computed cell matches Python's float64 value.

These tests need LibreOffice (soffice) and fail, not skip, without it: CI installs it. All workbooks go
through one LibreOffice start, which costs seconds.
"""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.errors import SpreadsheetEngineError
from titanic_nn.workbook import read_contents
from titanic_nn.engines import compare, recalculate

from workbook_cases import lesson_fits, notebook_fits, other_fits

pytestmark = pytest.mark.libreoffice

WRONG = "12345"


def _rewrite_sheets(source, target, change):
    """Copy an .xlsx, passing each worksheet's XML through `change`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(item, data)


def _wrong_cached_values(xml: str) -> str:
    return re.sub(r"(</f>)<v>[^<]*</v>", rf"\1<v>{WRONG}</v>", xml)


@pytest.fixture(scope="module")
def recalculated(titanic, tmp_path_factory):
    """{case: (written path, LibreOffice's recalculated copy)} from a single LibreOffice run."""
    train, test = titanic
    folder = tmp_path_factory.mktemp("verify")
    books = {
        "lesson": tn.write_workbook(folder / "lesson.xlsx", lesson_fits(train), train, test),
        "others": tn.write_workbook(folder / "others.xlsx", other_fits(train), train, test),
        "notebook": tn.write_workbook(folder / "notebook.xlsx", notebook_fits(train), train, test, submission="mmult"),
    }
    books["wrong"] = folder / "wrong.xlsx"
    _rewrite_sheets(books["lesson"], books["wrong"], _wrong_cached_values)
    books["tampered"] = folder / "tampered.xlsx"
    _rewrite_sheets(books["lesson"], books["tampered"], lambda xml: xml.replace("LOG10(", "LN("))
    outputs = recalculate(list(books.values()), folder / "out")
    return {name: (path, out) for (name, path), out in zip(books.items(), outputs)}


@pytest.mark.parametrize("case", ["lesson", "others", "notebook"])
def test_libreoffice_recomputes_every_cell_as_python(recalculated, case):
    path, out = recalculated[case]
    report = compare(read_contents(path), out)
    assert report.ok, str(report)
    assert report.max_rel_diff < 1e-9 and report.max_abs_diff < 1e-12 + 1e-9
    # every kind of model and sheet took part
    assert report.cells_checked > 20_000


def test_every_model_kind_is_covered(recalculated):
    kinds = {f.model.get_config()["kind"] for case in ("lesson", "others", "notebook") for f in read_contents(recalculated[case][0]).fits}
    assert kinds == {"linear", "nnet", "mmult"}
    others = {f.name: f.model for f in read_contents(recalculated["others"][0]).fits}
    assert others["deep"].layers == [3, 2] and others["head"].head == "linear" and others["sig"].output == "sigmoid"


def test_wrong_cached_values_come_back_corrected(recalculated):
    path, out = recalculated["wrong"]
    assert openpyxl.load_workbook(path, data_only=True, read_only=True)["linear"]["R1"].value == int(WRONG)
    recomputed = openpyxl.load_workbook(out, data_only=True, read_only=True)["linear"]
    assert recomputed["R1"].value == pytest.approx(0.14422714930851466, rel=1e-12)
    assert recomputed["Q4"].value != int(WRONG)
    report = compare(read_contents(path), out)
    assert report.ok, str(report)


def test_a_wrong_formula_is_caught_and_named(recalculated):
    path, out = recalculated["tampered"]
    report = compare(read_contents(path), out)
    assert not report.ok
    assert report.first_mismatch.startswith("linear!J4: Python 0.9164539485499251, sheet 2.110213")
    assert report.mismatches >= 712 * 3


def test_verify_end_to_end(titanic, tmp_path):
    train, _ = titanic
    path = tn.write_workbook(tmp_path / "one.xlsx", lesson_fits(train)[:1], train)
    report = tn.verify(path)
    assert isinstance(report, tn.VerifyReport) and report.ok
    assert report.cells_checked == 712 * 9 + 3  # 7 features, Preds, Loss; Max, loss, accuracy and "agree with Python" in str(report)


def test_missing_libreoffice_says_how_to_install_it(titanic, tmp_path, monkeypatch):
    train, _ = titanic
    path = tn.write_workbook(tmp_path / "one.xlsx", lesson_fits(train)[:1], train)
    with pytest.raises(SpreadsheetEngineError, match="apt-get install -y --no-install-recommends libreoffice-calc-nogui"):
        tn.verify(path, soffice=str(tmp_path / "no-such-soffice"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SpreadsheetEngineError, match="not installed or not on PATH.*libreoffice-calc-nogui"):
        tn.verify(path)
