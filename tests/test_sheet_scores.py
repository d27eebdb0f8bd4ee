"""The sheet's scores are the command line's: validation rows marked, train and valid loss and accuracy, Solver on the training loss."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.excel import column_letter


@pytest.fixture(scope="module")
def split_book(titanic, tmp_path_factory):
    """linear and a sigmoid nnet (linear head, SUMPRODUCT sheet) trained with the default 80/20 split."""
    train, test = titanic
    features = tn.Features()
    fits = [
        tn.train_model(train, model, features=features, restarts=1, seed=3)
        for model in (tn.Linear(), tn.TwoReLU(output="sigmoid"))
    ]
    path = tn.write_workbook(tmp_path_factory.mktemp("split") / "book.xlsx", fits, train, test)
    return path, fits


def scores_of(sheet) -> dict[str, tuple[str, object]]:
    """Each score label of rows 1-2 -> (the address of the cell right of it, that cell's content: a formula's text)."""
    found = {}
    for row in sheet.iter_rows(min_row=1, max_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.endswith(("loss:", "accuracy:")):
                right = sheet.cell(row=cell.row, column=cell.column + 1)
                found[cell.value] = (right.coordinate, getattr(right.value, "text", right.value))
    return found


def column_named(sheet, header: str) -> list:
    for cell in sheet[3]:
        if cell.value == header:
            return [sheet.cell(row=r, column=cell.column).value for r in range(4, sheet.max_row + 1)]
    raise KeyError(header)


def test_the_validation_rows_are_marked_and_each_side_is_scored(split_book):
    path, fits = split_book
    formulas = openpyxl.load_workbook(path)
    cached = openpyxl.load_workbook(path, data_only=True)  # the cached values are Python's numbers
    for fitted in fits:
        marks = column_named(formulas[fitted.name], "Valid")[:712]
        assert [i for i, v in enumerate(marks) if v == 1] == fitted.training["split"]["valid_rows"]
        assert sum(marks) == fitted.training["split"]["n_valid"] == 142
        found = scores_of(formulas[fitted.name])
        values = scores_of(cached[fitted.name])
        assert set(found) == {"Train loss:", "Valid loss:", "Train accuracy:", "Valid accuracy:"}
        assert re.fullmatch(r"AVERAGEIF\([A-Z]+4:[A-Z]+715,0,[A-Z]+4:[A-Z]+715\)", found["Train loss:"][1].lstrip("="))
        assert found["Valid loss:"][1].startswith("=AVERAGEIF(") and ",1," in found["Valid loss:"][1]
        assert "COUNTIF(" in found["Train accuracy:"][1]
        # the sheet shows the numbers the command line prints
        for label, key in (("Train loss:", "train_loss"), ("Valid loss:", "valid_loss"),
                           ("Train accuracy:", "train_accuracy"), ("Valid accuracy:", "valid_accuracy")):
            assert values[label][1] == pytest.approx(fitted.training[key], rel=1e-12, abs=1e-15), (fitted.name, label)


def test_solver_minimises_the_training_loss_only(split_book):
    path, fits = split_book
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/workbook.xml").decode("utf-8")
    book = openpyxl.load_workbook(path)
    for sheet_id, fitted in enumerate(fits, start=1):
        objective = re.search(rf'<definedName name="solver_opt" localSheetId="{sheet_id}" hidden="1">([^<]*)<', xml)
        cell = objective.group(1).split("!")[1].replace("$", "")
        assert scores_of(book[fitted.name])["Train loss:"][0] == cell


@pytest.mark.engines
def test_both_engines_recompute_the_split_scores_and_follows_moved_marks(split_book, tmp_path):
    path, fits = split_book
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)
    # a person moves a row from training to validation: the scores and the read-back split follow the marks
    book = openpyxl.load_workbook(path)
    sheet = book["linear"]
    header = next(c for c in sheet[3] if c.value == "Valid")
    letter = column_letter(header.column - 1)
    moved = next(i for i, v in enumerate(column_named(sheet, "Valid")[:712]) if v == 0)
    sheet[f"{letter}{4 + moved}"] = 1
    book.save(tmp_path / "moved.xlsx")
    linear = tn.read_workbook(tmp_path / "moved.xlsx")[0]
    assert linear.training["split"]["n_valid"] == 143 and moved in linear.training["split"]["valid_rows"]
    report = tn.verify(tmp_path / "moved.xlsx", engines="all")
    assert report.ok, str(report)


def test_a_model_trained_on_every_row_keeps_the_lessons_total_loss(titanic, tmp_path):
    train, _ = titanic
    fitted = tn.train_model(train, tn.Linear(), valid_frac=0, restarts=1)
    path = tn.write_workbook(tmp_path / "all.xlsx", [fitted], train)
    sheet = openpyxl.load_workbook(path)["linear"]
    found = scores_of(sheet)
    assert set(found) == {"Train loss:", "Train accuracy:"}
    assert found["Train loss:"][1] == "=AVERAGE(R4:R715)"
    assert set(column_named(sheet, "Valid")[:712]) == {0}


@pytest.mark.engines
def test_a_two_valued_text_target_is_coded_by_the_sheets_formulas(tmp_path):
    """A yes/no target is written as read; its loss and accuracy formulas code it as Python does."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"x": rng.normal(size=60), "colour": rng.choice(["red", "blue"], 60)})
    frame["answer"] = np.where(frame["x"] + rng.normal(0, 0.5, 60) > 0, "yes", "no")
    schema = tn.Schema(target="answer", id_column=None, continuous=(tn.Continuous("x"),),
                       categorical=(tn.Categorical("colour"),), positive="yes")
    fitted = tn.train_model(frame, tn.Linear(), features=tn.Features(schema), restarts=1)
    assert fitted.features.target(frame).tolist() == (frame["answer"] == "yes").astype(float).tolist()
    path = tn.write_workbook(tmp_path / "yes.xlsx", [fitted], frame)
    sheet = openpyxl.load_workbook(path)["linear"]
    assert sheet["A4"].value in ("yes", "no")
    loss = column_named(sheet, "Loss")[0]
    # text compared as text: EXACT, never = (which ignores case in every spreadsheet)
    assert 'IF(EXACT(A4&"","yes"),1,0)' in loss
    assert 'EXACT(A4:A63&"","yes")' in scores_of(sheet)["Train accuracy:"][1]
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)
