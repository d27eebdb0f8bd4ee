"""read_workbook: the parameters found in the sheets, after a LibreOffice re-save or an edit, back in Python."""

from __future__ import annotations

import numpy as np
import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.engines import compare, recalculate
from titanic_nn.errors import DataError
from titanic_nn.workbook import read_contents

from workbook_cases import lesson_fits, other_fits


def _same_params(read, written, rtol):
    for a, b in zip(read.model.arrays(read.params), written.model.arrays(written.params)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


def test_read_workbook_gives_back_the_written_models_exactly(titanic, tmp_path):
    train, test = titanic
    fits = lesson_fits(train) + other_fits(train)[:2]
    fits[3].features = fits[0].features
    fits[4].features = fits[0].features
    path = tn.write_workbook(tmp_path / "book.xlsx", fits, train, test)
    read = tn.read_workbook(path)
    assert [f.name for f in read] == [f.name for f in fits]
    for got, written in zip(read, fits):
        assert got.model == written.model
        _same_params(got, written, rtol=0)
        assert got.features.to_dict() == written.features.to_dict()
    assert read[1].training["method"] == "gd" and read[1].training["history"]["train"][-1] == 0.15
    np.testing.assert_array_equal(read[2].predict(test), fits[2].predict(test))


@pytest.mark.engines
def test_resaved_by_libreoffice_and_edited_in_a_sheet(titanic, tmp_path):
    train, test = titanic
    fits = lesson_fits(train)
    path = tn.write_workbook(tmp_path / "book.xlsx", fits, train, test)
    # a user re-solves in a spreadsheet: new numbers in the parameter cells, saved
    edited = tmp_path / "edited.xlsx"
    book = openpyxl.load_workbook(path)
    book["linear"]["V4"].value = 0.125
    book["nnet"]["Z5"].value = -0.5
    book.save(edited)
    resaved, resaved_edit = recalculate([path, edited], tmp_path / "out")

    read = tn.read_workbook(resaved)
    for got, written in zip(read, fits):
        _same_params(got, written, rtol=1e-14)  # LibreOffice keeps 15 significant digits
    np.testing.assert_allclose(read[0].predict(test), fits[0].predict(test), rtol=1e-12, atol=1e-14)
    assert read[0].predict_survived(test).tolist() == fits[0].predict_survived(test).tolist()

    changed = tn.read_workbook(resaved_edit)
    assert changed[0].params[0] == 0.125 and changed[1].params[0, 1] == -0.5  # row 5 is unit 2, column Z its SibSp weight
    np.testing.assert_allclose(changed[0].params[1:], fits[0].params[1:], rtol=1e-14)
    # the edited workbook still computes what Python computes with its new parameters
    report = compare(read_contents(edited), resaved_edit)
    assert report.ok, str(report)
    frame = tn.make_submission(test["PassengerId"], changed[0].predict_survived(test))
    assert list(frame.columns) == ["PassengerId", "Survived"] and len(frame) == 418


def test_read_workbook_explains_what_is_wrong(titanic, tmp_path):
    train, _ = titanic
    with pytest.raises(DataError, match="no such workbook"):
        tn.read_workbook(tmp_path / "missing.xlsx")
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    with pytest.raises(DataError, match="has no _titanic_nn sheet"):
        tn.read_workbook(plain)
    path = tn.write_workbook(tmp_path / "book.xlsx", lesson_fits(train)[:1], train)
    book = openpyxl.load_workbook(path)
    book["linear"]["V4"].value = "oops"
    book.save(path)
    with pytest.raises(DataError, match=r"parameter cell linear!V4 is the text 'oops', not a number"):
        tn.read_workbook(path)
