"""Both spreadsheet engines recompute every workbook case, and every computed cell matches Python's float64 value.

These tests need LibreOffice (soffice) and Gnumeric (ssconvert) and fail, not skip, without either:
CI installs both. Each engine recalculates all the cases in one run.
"""

from __future__ import annotations

import re
import warnings
import zipfile

import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.engines import ENGINES, compare, recalculate
from titanic_nn.errors import SpreadsheetEngineError
from titanic_nn.workbook import read_contents

from workbook_cases import lesson_fits, loan_case, notebook_fits, other_fits, tanh_fits

pytestmark = pytest.mark.engines

WRONG = "12345"
CASES = ["lesson", "others", "notebook", "tanh", "loans"]


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
def books(titanic, tmp_path_factory):
    """Every case's workbook, and two broken copies of the lesson's."""
    train, test = titanic
    folder = tmp_path_factory.mktemp("verify")
    loans, loan_train, loan_test = loan_case()
    books = {
        # linear, nnet, mmult
        "lesson": tn.write_workbook(folder / "lesson.xlsx", lesson_fits(train), train, test),
        # layers=[3, 2], a linear head, sigmoid with mse and with log loss
        "others": tn.write_workbook(folder / "others.xlsx", other_fits(train), train, test),
        "notebook": tn.write_workbook(folder / "notebook.xlsx", notebook_fits(train), train, test, submission="mmult"),
        "tanh": tn.write_workbook(folder / "tanh.xlsx", tanh_fits(train), train, test),
        # not the Titanic: its own schema, blanks filled by mode in training and test rows
        "loans": tn.write_workbook(folder / "loans.xlsx", loans, loan_train, loan_test),
    }
    books["wrong"] = folder / "wrong.xlsx"
    _rewrite_sheets(books["lesson"], books["wrong"], _wrong_cached_values)
    books["tampered"] = folder / "tampered.xlsx"
    _rewrite_sheets(books["lesson"], books["tampered"], lambda xml: xml.replace("LOG10(", "LN("))
    return books


@pytest.fixture(scope="module", params=list(ENGINES))
def recalculated(request, books, tmp_path_factory):
    """(engine, {case: (written path, the engine's recalculated copy)}), one run of the engine for all cases."""
    engine = request.param
    outputs = recalculate(list(books.values()), tmp_path_factory.mktemp(engine), engine=engine)
    return engine, {name: (path, out) for (name, path), out in zip(books.items(), outputs)}


@pytest.mark.parametrize("case", CASES)
def test_each_engine_recomputes_every_cell_as_python(recalculated, case):
    engine, copies = recalculated
    path, out = copies[case]
    report = compare(read_contents(path), out, engine)
    assert report.ok, str(report)
    assert report.max_rel_diff < 1e-9 and report.max_abs_diff < 1e-12 + 1e-9
    # every kind of model and sheet took part
    assert report.cells_checked > (2_000 if case == "loans" else 20_000)


def test_every_model_kind_and_option_is_covered(books):
    models = [f.model for case in CASES for f in read_contents(books[case]).fits]
    assert {m.kind for m in models} == set(tn.MODELS)
    configs = [m.get_config() for m in models]
    assert any(c.get("layers") == [3, 2] for c in configs) and any(c.get("head") == "linear" for c in configs)
    assert {(m.output, m.loss_name) for m in models} >= {("raw", "mse"), ("sigmoid", "mse"), ("sigmoid", "logloss")}
    assert any(c.get("activation") == "tanh" for c in configs)
    assert read_contents(books["loans"]).fits[0].features.schema_.target == "Default"


def test_wrong_cached_values_come_back_corrected(recalculated):
    engine, copies = recalculated
    path, out = copies["wrong"]
    assert openpyxl.load_workbook(path, data_only=True, read_only=True)["linear"]["R1"].value == int(WRONG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl's note on Gnumeric's styles
        recomputed = openpyxl.load_workbook(out, data_only=True, read_only=True)["linear"]
    assert recomputed["R1"].value == pytest.approx(0.14422714930851466, rel=1e-12), engine
    assert recomputed["Q4"].value != int(WRONG)
    report = compare(read_contents(path), out, engine)
    assert report.ok, str(report)


def test_a_wrong_formula_is_caught_and_named(recalculated):
    engine, copies = recalculated
    path, out = copies["tampered"]
    report = compare(read_contents(path), out, engine)
    assert not report.ok and report.engine == engine
    assert report.first_mismatch.startswith("linear!J4: Python 0.9164539485499251, sheet 2.110213")
    assert report.mismatches >= 712 * 3


def test_verify_end_to_end_in_both_engines(titanic, tmp_path):
    train, _ = titanic
    path = tn.write_workbook(tmp_path / "one.xlsx", lesson_fits(train)[:1], train)
    report = tn.verify(path, engines="all")
    assert isinstance(report, tn.VerifyReport) and report.ok
    assert [r.engine for r in report.engines] == list(ENGINES)
    # 7 features, Preds, Loss; Max, loss, accuracy
    assert report.cells_checked == report["gnumeric"].cells_checked == 712 * 9 + 3
    assert "agree with Python" in str(report) and "Gnumeric" in str(report) and "LibreOffice" in str(report)


def test_a_changed_formula_is_named_before_any_engine_runs(books):
    """A formula that is not Python's fails verify by the formula check alone: each engine recomputing the changed
    formula would only agree with itself (each engine's own disagreement is test_a_wrong_formula_is_caught_and_named)."""
    report = tn.verify(books["tampered"], engines="all")
    assert not report.ok and report.engines == []
    assert report.formulas.mismatches >= 712 * 3  # J4:J715 of each of the three model sheets, at least
    assert report.first_mismatch == "formulas: linear!J4: Python =LOG10(F4+1), the workbook =LN(F4+1)"
    assert str(report).endswith(", first linear!J4: Python =LOG10(F4+1), the workbook =LN(F4+1), so no engine recalculated it")


def test_a_missing_engine_says_how_to_install_it(titanic, tmp_path, monkeypatch):
    train, _ = titanic
    path = tn.write_workbook(tmp_path / "one.xlsx", lesson_fits(train)[:1], train)
    with pytest.raises(SpreadsheetEngineError, match="apt-get install -y --no-install-recommends libreoffice-calc-nogui"):
        tn.verify(path, soffice=str(tmp_path / "no-such-soffice"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SpreadsheetEngineError, match="not installed or not on PATH.*libreoffice-calc-nogui gnumeric"):
        tn.verify(path)
    with pytest.raises(SpreadsheetEngineError, match=r"Gnumeric \(ssconvert\) is not installed.*install-recommends gnumeric"):
        tn.verify(path, engines="gnumeric")
    with pytest.raises(SpreadsheetEngineError, match="unknown engine 'excel'; the engines are libreoffice, gnumeric, hyperformula or all"):
        tn.verify(path, engines="excel")


def test_an_engine_failure_names_the_engine_s_own_reason(titanic, tmp_path):
    """An engine that fails says why in its first line naming an error, not in the end of its stack trace."""
    train, _ = titanic
    path = tn.write_workbook(tmp_path / "one.xlsx", lesson_fits(train)[:1], train)
    fake = tmp_path / "ssconvert"
    fake.write_text("#!/bin/sh\necho 'some warning' >&2\necho 'TypeError: the engine s own reason' >&2\n"
                    "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \"    at frame$i (/a/long/path/to/a/module.js:1:1)\" >&2; done\n"
                    "exit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SpreadsheetEngineError) as caught:
        tn.verify(path, engines="gnumeric", ssconvert=str(fake))
    message = str(caught.value)
    assert message.endswith("(exit status 1): TypeError: the engine s own reason"), message


@pytest.mark.engines
def test_verify_timeout_is_an_option_and_a_one_line_error(books, capsys):
    from titanic_nn.cli import main

    assert main(["verify", str(books["lesson"]), "--engine", "gnumeric", "--timeout", "0.001"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "within 0.001 s" in err and "verify --timeout SECONDS" in err
    assert main(["verify", str(books["lesson"]), "--engine", "gnumeric", "--timeout", "600"]) == 0
    assert "Gnumeric: all" in capsys.readouterr().out


@pytest.mark.parametrize("given", ["0", "-5", "soon", "100000"])
def test_verify_timeout_refuses_what_is_no_time_in_one_line(given, tmp_path, capsys):
    from titanic_nn.cli import main

    assert main(["verify", str(tmp_path / "none.xlsx"), "--timeout", given]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--timeout" in err
