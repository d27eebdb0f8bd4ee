"""The written workbook without a spreadsheet engine: layout, formulas, cached values, names, limits, bytes."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn import excel
from titanic_nn.errors import DataError, TitanicNNError
from titanic_nn.features import Dummies
from titanic_nn.nn import SumUnits
from titanic_nn.workbook import SOLVER_OPTIONS

from workbook_cases import fitted, lesson_fits, other_fits

LESSON_HEADERS = [
    "Survived", "Embarked", "Pclass", "Sex", "Age", "Fare", "SibSp", "Parch",
    "Age_N", "log_Fare", "Pclass_1", "Pclass_2", "Embark_S", "Embark_C", "Male", "Ones",
]


@pytest.fixture(scope="module")
def lesson_book(titanic, tmp_path_factory):
    train, test = titanic
    fits = lesson_fits(train)
    path = tmp_path_factory.mktemp("book") / "lesson.xlsx"
    tn.write_workbook(path, fits, train, test)
    return path, fits


def _xml(path, member):
    with zipfile.ZipFile(path) as archive:
        return archive.read(member).decode("utf-8")


def test_sheets_in_order_with_the_metadata_hidden(lesson_book):
    path, _ = lesson_book
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["about", "linear", "nnet", "mmult", "test", "submission", "loss", "_titanic_nn"]
    assert book["_titanic_nn"].sheet_state == "hidden"
    about = " ".join(str(c.value) for c in book["about"]["A"] if c.value)
    assert "Solver" in about and "test" in about and "submission" in about


def test_model_sheet_has_the_lesson_layout_as_live_formulas(lesson_book):
    path, _ = lesson_book
    sheet = openpyxl.load_workbook(path)["linear"]
    assert [sheet.cell(3, c).value for c in range(1, 17)] == LESSON_HEADERS
    assert sheet["E1"].value == "=MAX(E4:E715)"
    assert sheet["I4"].value == "=E4/E$1"
    assert sheet["J4"].value == "=LOG10(F4+1)"
    assert sheet["K4"].value == '=IF(EXACT(C4,"1"),1,0)'
    assert sheet["M4"].value == '=IF(EXACT(B4,"S"),1,0)'
    assert sheet["O4"].value == '=IF(EXACT(D4,"male"),1,0)'
    assert sheet["P4"].value == 1
    assert sheet["Q3"].value == "Preds"
    assert re.fullmatch(r"=SUMPRODUCT\(\$G4:\$P4,\$[A-Z]+\$4:\$[A-Z]+\$4\)", sheet["Q4"].value)
    assert sheet["R4"].value == "=(Q4-A4)*(Q4-A4)"
    assert sheet["R1"].value == "=AVERAGE(R4:R715)"
    assert sheet["R715"].value == "=(Q715-A715)*(Q715-A715)" and sheet["A716"].value is None


def test_nnet_and_mmult_render_relu_and_one_array_formula(lesson_book):
    path, _ = lesson_book
    book = openpyxl.load_workbook(path)
    nnet = book["nnet"]
    assert [nnet.cell(3, c).value for c in range(17, 23)] == ["Lin1", "Lin2", "ReLU1", "ReLU2", "Preds", "Loss"]
    assert nnet["S4"].value == "=IF(Q4<0,0,Q4)" and nnet["U4"].value == "=S4+T4"
    mmult = book["mmult"]
    anchor = mmult["Q4"].value
    assert anchor.ref == "Q4:R715" and anchor.text.startswith("=MMULT($G$4:$P$715,")
    assert mmult["R4"].value is None or not str(mmult["R4"].value).startswith("=")


def test_cached_values_are_pythons_float64_numbers_in_every_array_cell(lesson_book, titanic):
    path, fits = lesson_book
    train, _ = titanic
    cached = openpyxl.load_workbook(path, data_only=True)
    X = fits[0].features.transform(train.loc[fits[0].features.train_index_])
    for fit, pred_col in (("linear", "Q"), ("nnet", "U"), ("mmult", "U")):
        fitted_model = next(f for f in fits if f.name == fit)
        sheet = cached[fit]
        values = np.array([sheet[f"{pred_col}{r}"].value for r in range(4, 716)], dtype=np.float64)
        assert np.array_equal(values, fitted_model.predict_inputs(X))
    arrays = tn.MatMulNet().arrays(fits[2].params)
    lin = X @ arrays[0]
    second = np.array([cached["mmult"][f"R{r}"].value for r in range(4, 716)], dtype=np.float64)
    assert np.array_equal(second, lin[:, 1])
    assert cached["linear"]["R1"].value == pytest.approx(0.14422714930851466, rel=1e-12)


def test_the_file_asks_for_a_full_recalculation_on_load(lesson_book):
    path, _ = lesson_book
    calc = re.search(r"<calcPr[^>]*>", _xml(path, "xl/workbook.xml")).group()
    assert 'fullCalcOnLoad="1"' in calc and "manual" not in calc


def test_solver_names_are_hidden_sheet_local_and_complete(lesson_book):
    path, _ = lesson_book
    xml = _xml(path, "xl/workbook.xml")
    names = re.findall(r'<definedName name="(solver_\w+)" localSheetId="(\d+)" hidden="1">([^<]*)</definedName>', xml)
    by_sheet: dict[str, dict[str, str]] = {}
    for name, sheet_id, value in names:
        by_sheet.setdefault(sheet_id, {})[name] = value
    assert set(by_sheet) == {"1", "2", "3"}  # linear, nnet, mmult (about is sheet 0)
    expected = dict(SOLVER_OPTIONS)
    for sheet_id, sheet in zip("123", ("linear", "nnet", "mmult")):
        found = by_sheet[sheet_id]
        assert {k: found[k] for k in expected} == expected
        assert found["solver_typ"] == "2" and found["solver_eng"] == "1" and found["solver_neg"] == "2"
        assert not any(v.startswith("=") for v in found.values())
    assert by_sheet["1"]["solver_opt"] == "linear!$R$1"
    # the parameters sit right of Loss (R), the Valid marks (S) and a blank column
    assert by_sheet["1"]["solver_adj"] == "linear!$V$4:$AE$4"
    assert by_sheet["2"]["solver_adj"] == "nnet!$Z$4:$AI$5"
    assert by_sheet["3"]["solver_adj"] == "mmult!$Z$4:$AA$13"
    book = openpyxl.load_workbook(path)
    assert book["linear"]["R1"].value.startswith("=AVERAGE(")  # trained on every row: the lesson's total loss
    assert book["linear"]["V4"].value == pytest.approx(-0.05493400846598555, abs=0)


def test_test_and_submission_sheets(lesson_book, titanic):
    path, fits = lesson_book
    _, test = titanic
    book = openpyxl.load_workbook(path)
    sheet = book["test"]
    assert sheet["A3"].value == "PassengerId" and sheet["I4"].value == "=E4/linear!E$1"
    assert "Age: 86 blank cells" in sheet["A1"].value
    age_col = [c.value for c in sheet[3]].index("Age") + 1
    blank_row = int(np.flatnonzero(test["Age"].isna().to_numpy())[0]) + 4
    assert sheet.cell(blank_row, age_col).fill.fgColor.rgb.endswith("FFEB9C")
    assert sheet.cell(4, age_col).fill.fgColor.rgb in (None, "00000000")
    submission = book["submission"]
    assert [submission["A1"].value, submission["B1"].value] == ["PassengerId", "Survived"]
    assert submission["A2"].value == "=test!A4"
    assert re.fullmatch(r"=IF\(test!Q4>0\.5,1,0\)", submission["B2"].value)
    cached = openpyxl.load_workbook(path, data_only=True)["submission"]
    survived = [cached.cell(r, 2).value for r in range(2, 420)]
    assert survived == fits[0].predict_survived(test).tolist()
    assert [cached.cell(r, 1).value for r in range(2, 420)] == test["PassengerId"].tolist()


def test_loss_chart_only_for_gradient_descent_models(lesson_book, titanic, tmp_path):
    path, _ = lesson_book
    with zipfile.ZipFile(path) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/")]
    assert charts == ["xl/charts/chart1.xml"]
    chart = _xml(path, "xl/charts/chart1.xml")
    assert "<c:lineChart>" in chart and "loss!$B$2:$B$5" in chart and "loss!$C$2:$C$5" in chart
    train, _ = titanic
    no_gd = tmp_path / "nogd.xlsx"
    tn.write_workbook(no_gd, lesson_fits(train)[:1], train)
    with zipfile.ZipFile(no_gd) as archive:
        assert not [n for n in archive.namelist() if "chart" in n]
    assert "loss" not in openpyxl.load_workbook(no_gd).sheetnames


def test_same_inputs_give_the_same_bytes(titanic, tmp_path):
    train, test = titanic
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    tn.write_workbook(first, lesson_fits(train), train, test)
    tn.write_workbook(second, lesson_fits(train), train, test)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("text", ["=cmd|'/c calc'!A1", "+A1", "-A1+2", "@SUM(A1)"])
def test_csv_strings_are_written_as_text_never_as_formulas(titanic, tmp_path, text):
    train, test = titanic
    train = train.copy()
    train.loc[1, "Embarked"] = text
    test = test.copy()
    test.loc[0, "Sex"] = text
    path = tmp_path / "text.xlsx"
    with pytest.warns(tn.UnseenLevelWarning):
        tn.write_workbook(path, lesson_fits(train)[:1], train, test)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for member in ("xl/worksheets/sheet2.xml", "xl/worksheets/sheet3.xml"):
        xml = _xml(path, member)
        assert f"<is><t>{escaped}</t></is>" in xml
        assert f"<f>{escaped}" not in xml and f"<f>{escaped[1:]}" not in xml
    assert openpyxl.load_workbook(path)["linear"]["B5"].value == text


def test_case_differences_switch_the_dummy_to_exact(titanic, tmp_path):
    train, test = titanic
    test = test.copy()
    test.loc[0, "Sex"] = "MALE"  # not the level "male" for Python, though Excel's = would match it
    path = tmp_path / "case.xlsx"
    with pytest.warns(tn.UnseenLevelWarning):
        tn.write_workbook(path, lesson_fits(train)[:1], train, test)
    assert openpyxl.load_workbook(path)["linear"]["O4"].value == '=IF(EXACT(D4,"male"),1,0)'


def test_row_limits_refuse_instead_of_truncating(titanic, tmp_path, monkeypatch):
    train, test = titanic
    fits = lesson_fits(train)[:1]
    with pytest.raises(DataError, match=r"712 rows, more than max_rows=500"):
        tn.write_workbook(tmp_path / "cap.xlsx", fits, train, max_rows=500)
    doubled = pd.concat([test, test], ignore_index=True)
    with pytest.raises(DataError, match=r"test data has 836 rows, more than max_rows=800"):
        tn.write_workbook(tmp_path / "cap.xlsx", fits, train, doubled, max_rows=800)
    monkeypatch.setattr(excel, "MAX_ROWS", 600)
    with pytest.raises(DataError, match=r"a sheet holds 597 below its header rows"):
        tn.write_workbook(tmp_path / "big.xlsx", fits, train)
    assert not (tmp_path / "cap.xlsx").exists() and not (tmp_path / "big.xlsx").exists()


def test_more_than_200_variables_keeps_formulas_but_no_solver_names(titanic, tmp_path):
    train, _ = titanic
    features = tn.Features().fit(train)
    fits = [fitted(features, tn.Linear(), "linear"), fitted(features, tn.MatMulNet(hidden=25), "wide")]
    path = tmp_path / "wide.xlsx"
    tn.write_workbook(path, fits, train)
    xml = _xml(path, "xl/workbook.xml")
    solver_sheets = set(re.findall(r'<definedName name="solver_\w+" localSheetId="(\d+)"', xml))
    assert solver_sheets == {"1"}  # linear has Solver's names, wide (sheet 2) none
    assert '<definedName name="_xlnm.Print_Area" localSheetId="2"' in xml  # (its print area is a name too)
    about = " ".join(str(c.value) for c in openpyxl.load_workbook(path)["about"]["A"] if c.value)
    assert "wide has 250 parameters, more than Solver's 200" in about
    anchor = openpyxl.load_workbook(path)["wide"]["Q4"].value
    assert anchor.ref == "Q4:AO715"


def test_deeper_nets_and_sigmoid_outputs_render(titanic, tmp_path):
    train, _ = titanic
    path = tmp_path / "others.xlsx"
    fits = other_fits(train)
    tn.write_workbook(path, fits, train)
    book = openpyxl.load_workbook(path)
    deep = book["deep"]
    headers = [c.value for c in deep[3]]
    assert headers[16:25] == ["Lin1", "Lin2", "Lin3", "ReLU1", "ReLU2", "ReLU3", "L2Lin1", "L2Lin2", "L2ReLU1"]
    assert deep["Q4"].value.ref == "Q4:S715" and deep["W4"].value.text.startswith("=MMULT($T$4:$V$715,")
    sig = book["sig"]
    assert sig["R4"].value == "=1/(1+EXP(-IF(Q4<-700,-700,Q4)))" and sig["R3"].value == "Preds" and sig["Q3"].value == "Logit"
    siglog = book["siglog"]
    # log loss of the probability clipped to [1e-12, 1-1e-12], as Python clips it, in Python's order of operations
    assert siglog["W4"].value.startswith("=-((A4*LN(IF(V4<0.000000000001,0.000000000001,IF(V4>0.999999999999,0.999999999999,V4))))+")
    head = book["head"]
    assert [c.value for c in head[3]][22:24] == ["Head", "Preds"]
    assert head["W4"].value.text.startswith("=MMULT($T$4:$V$715,") and re.fullmatch(r"=W4\+\$[A-Z]+\$\d+", head["X4"].value)


def test_models_must_share_features_and_have_sheet_names(titanic, tmp_path):
    train, _ = titanic
    a = lesson_fits(train)[0]
    b = fitted(tn.Features(missing="mode").fit(train), tn.Linear(), "other")
    with pytest.raises(TitanicNNError, match="different features"):
        tn.write_workbook(tmp_path / "x.xlsx", [a, b], train)
    bad = fitted(a.features, tn.Linear(), "my sheet")
    with pytest.raises(TitanicNNError, match="cannot be a sheet name"):
        tn.write_workbook(tmp_path / "x.xlsx", [bad], train)
    with pytest.raises(TitanicNNError, match="submission='nope'"):
        tn.write_workbook(tmp_path / "x.xlsx", [a], train, train.drop(columns="Survived"), submission="nope")


def test_excel_helpers():
    assert [excel.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert excel.column_index("AH") == 33
    assert excel.on_sheet("my sheet", "A1") == "'my sheet'!A1" and excel.on_sheet("A1", "B2") == "'A1'!B2"
    assert Dummies.excel_level("D4", 'say "hi"') == 'IF(EXACT(D4,("say "&CHAR(34)&"hi"&CHAR(34))),1,0)'

    from titanic_nn.workbook import SheetBackend, SheetUnits

    sheet = SheetBackend(first_col=20, first_row=4, last_row=10)
    units = SheetUnits(sheet, placed=range(20))  # 20 units in columns A..T
    assert SumUnits().forward(units, (), sheet).formulas == ["SUM(A{r}:T{r})"]
