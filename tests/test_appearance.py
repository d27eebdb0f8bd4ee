"""The sheets a person reads: column widths that fit, number formats, frozen panes, print setup, the about sheet."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

import titanic_nn as tn

from workbook_cases import lesson_fits


@pytest.fixture(scope="module")
def book(titanic, tmp_path_factory):
    train, test = titanic
    path = tn.write_workbook(tmp_path_factory.mktemp("look") / "look.xlsx", lesson_fits(train), train, test)
    return openpyxl.load_workbook(path)


def _width(sheet, col: int) -> float:
    """The column's width as written (openpyxl groups equal neighbours under the first letter)."""
    letter = get_column_letter(col)
    for key, dimension in sheet.column_dimensions.items():
        if dimension.min <= col <= dimension.max:
            return dimension.width
    return sheet.column_dimensions[letter].width


@pytest.mark.parametrize("name", ["linear", "nnet", "mmult", "test", "submission"])
def test_every_column_is_wide_enough_for_its_header_and_values(book, name):
    sheet = book[name]
    header_row = 1 if name == "submission" else 3
    for cell in sheet[header_row]:
        if cell.value is None:
            continue
        assert _width(sheet, cell.column) >= len(str(cell.value)), (name, cell.coordinate, cell.value)
    # the test sheet's model columns tell ReLU1 from ReLU2 (their headers were cut to "nnet ReLU")
    if name == "test":
        headers = [c.value for c in sheet[3] if c.value]
        assert "nnet ReLU1" in headers and "nnet ReLU2" in headers


def test_number_formats_show_4_decimals_and_6_for_parameters_and_losses(book):
    sheet = book["nnet"]
    formats = {sheet.cell(3, c).value: sheet.cell(4, c).number_format for c in range(1, 23)}
    assert formats["Age"] == formats["Survived"] == "General"  # the raw data, as read
    assert formats["Age_N"] == formats["log_Fare"] == formats["Lin1"] == formats["ReLU2"] == formats["Preds"] == "0.0000"
    assert formats["Loss"] == "0.0000"
    assert formats["Pclass_1"] == formats["Male"] == "0"  # dummies are whole numbers
    assert sheet["Z4"].number_format == "0.000000"  # a parameter (Solver's variable cell)
    assert sheet["V1"].number_format == "0.000000" and sheet["V1"].value.startswith("=AVERAGE(")
    assert book["test"]["Q4"].number_format == "0.0000"


@pytest.mark.parametrize("name, frozen, titles", [
    ("linear", "I4", "$1:$3"), ("nnet", "I4", "$1:$3"), ("test", "I4", "$1:$3"), ("submission", "A2", "$1:$1"),
])
def test_panes_and_print_setup(book, name, frozen, titles):
    sheet = book[name]
    assert sheet.freeze_panes == frozen  # the header rows and the raw columns stay in view
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert sheet.page_setup.fitToHeight == 0 and sheet.page_setup.fitToWidth in (None, 1)  # one page wide
    assert sheet.print_title_rows == titles
    last = get_column_letter(sheet.max_column)
    assert sheet.print_area == f"'{name}'!$A$1:${last}${sheet.max_row}"


def test_the_about_sheet_wraps_its_text_in_one_wide_column(book):
    about = book["about"]
    assert about.column_dimensions["A"].width >= 90
    lines = [c for c in about["A"] if c.value]
    assert max(len(c.value) for c in lines) > 150  # long lines, which wrap instead of running on
    assert all(c.alignment.wrap_text for c in lines)
    assert about.max_column == 1
