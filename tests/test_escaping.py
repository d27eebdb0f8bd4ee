"""Text in cells: escaped exactly as Excel does, refused where XML cannot hold it, and the same string after a round trip."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import titanic_nn as tn
from titanic_nn import excel
from titanic_nn.workbook import read_contents, sheet_text_problem

SCHEMA = tn.Schema(
    target="y", id_column="Id", continuous=(tn.Continuous("x", scale="max"),), categorical=(tn.Categorical("word"),)
)


def _table(words, ids=None) -> pd.DataFrame:
    n = len(words)
    rng = np.random.default_rng(len(words))
    return pd.DataFrame({
        "Id": ids if ids is not None else [f"id-{i}" for i in range(n)], "word": words,
        "x": rng.uniform(1, 5, n).round(3), "y": (np.arange(n) % 2).astype(int),
    })


def _book(tmp_path, train, test=None, name="words.xlsx"):
    features = tn.Features(SCHEMA)
    X, _ = features.fit_transform(train)
    fitted = tn.FittedModel(features, tn.Linear(), np.linspace(-1, 1, X.shape[1]), "linear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tn.UnseenLevelWarning)
        return tn.write_workbook(tmp_path / name, [fitted], train, test), fitted


def _sheet_xml(path, index):
    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


@pytest.mark.parametrize("text, written", [
    ("_x0041_", "_x005F_x0041_"),
    ("_x005F_x0041_", "_x005F_x005F_x005F_x0041_"),
    ("a_x00e9_b", "a_x005F_x00e9_b"),
    ("plain_x_text", "plain_x_text"),
])
def test_a_literal_escape_is_written_as_excel_writes_it(text, written):
    assert excel.escape_text(text) == written and excel.unescape_text(written) == text


@pytest.mark.engines
def test_a_level_that_looks_like_an_escape_is_the_same_level_everywhere(tmp_path):
    words = ["_x0041_", "A", "_x0041_", "b", "A", "b"] * 3
    train = _table(words)
    path, fitted = _book(tmp_path, train, train.drop(columns="y"))
    data = _sheet_xml(path, 2)
    # a cell's "_x0041_" is a formula of two pieces: Excel and LibreOffice would read the text "_x0041_" as "A", and
    # Gnumeric its escape "_x005F_x0041_" as it stands; no reader unescapes ("_"&"x0041_")
    assert '<f>("_"&amp;"x0041_")</f>' in data and "<t>_x0041_</t>" not in data
    contents = read_contents(path)
    assert contents.train["word"].tolist() == words  # as every reader reads the cells
    assert contents.fits[0].features.levels_ == fitted.features.levels_ == {"word": ("_x0041_", "b")}
    np.testing.assert_array_equal(contents.fits[0].predict(train), fitted.predict(train))
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)


@pytest.mark.parametrize("bad", ["\ufffe", "\uffff", "a\x01b", "\x00", "x" * 40_000])
def test_text_a_cell_cannot_hold_is_refused_naming_the_column_and_row(tmp_path, bad):
    train = _table(["a", "b", bad, "a"])
    with pytest.raises(tn.DataError) as caught:
        _book(tmp_path, train)
    message = str(caught.value)
    assert "column word, row 3 (Id 'id-2')" in message and "\n" not in message
    assert ("XML 1.0" in message) if len(bad) < 10 else ("32,767" in message)
    assert not (tmp_path / "words.xlsx").exists()


@pytest.mark.engines
def test_a_carriage_return_survives_the_round_trip(tmp_path):
    ids = ["\r=1+1", "a\rb\nc", "tab\there", " padded "]
    train = _table(["a", "b", "a", "b"], ids=ids)
    path, _ = _book(tmp_path, train, train.drop(columns="y"))
    assert read_contents(path).test["Id"].tolist() == ids
    assert tn.verify(path, engines="all").ok


# Any text a cell can hold: every character XML 1.0 allows, short and long, escape-like runs included.
cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), min_size=1, max_size=40,
).filter(lambda t: sheet_text_problem(t) is None) | st.from_regex(r"_x[0-9A-Fa-f]{4}_(x[0-9A-Fa-f]{4}_)?", fullmatch=True)


@pytest.mark.engines
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(words=st.lists(cell_text, min_size=2, max_size=24), ids=st.lists(cell_text, min_size=2, max_size=24, unique=True))
@example(words=["0", "0\r0"], ids=["0", "00"])  # a level holding a CR, compared in a formula's text literal
@example(words=["0", "0"], ids=["0", "_x0000_"])  # an escape-like id, which Gnumeric's copy writes unescaped
def test_any_text_survives_write_read_and_every_engine(tmp_path_factory, words, ids):
    n = min(len(words), len(ids))
    train = _table(words[:n], ids=ids[:n])
    tmp_path = tmp_path_factory.mktemp("text")
    path, _ = _book(tmp_path, train, train.drop(columns="y"))
    contents = read_contents(path)
    # ids and categorical values are text, written and read back exactly as they came
    assert contents.test["Id"].tolist() == ids[:n]
    assert contents.train["word"].tolist() == words[:n]
    report = tn.verify(path, engines="all")
    assert report.ok, str(report)
