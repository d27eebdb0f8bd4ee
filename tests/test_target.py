"""The target: one object codes it (case-sensitive, in pandas and as Excel text) for every reader, and one rule says
which training rows are kept; targets coded by a value verify in both engines, training sheets included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.features import Binary, target_of


def code(target: Binary, values: list) -> list[float]:
    return target.code(pd.Series(values, name="y"), source="t", locate=lambda i: f"row {i + 1}").tolist()


def test_text_is_compared_as_text_and_numbers_as_numbers():
    assert code(Binary("y", positive="yes"), ["yes", "YES", "yes"]) == [1.0, 0.0, 1.0]
    assert code(Binary("y", positive=1), [1, 2, 2, 1]) == [1.0, 0.0, 0.0, 1.0]
    assert code(Binary("y", positive=2), [1.0, 2.0]) == [0.0, 1.0]
    # the command line gives text: a number's text as a spreadsheet shows it (1, not 1.0)
    assert code(Binary("y", positive="1"), [1, 2]) == [1.0, 0.0]
    assert code(Binary("y"), [0, 1, 1]) == [0.0, 1.0, 1.0]
    with pytest.raises(tn.DataError, match="never holds 'Yes'"):
        code(Binary("y", positive="Yes"), ["yes", "no"])
    with pytest.raises(tn.DataError, match="holds 3 different values"):
        code(Binary("y", positive="yes"), ["yes", "no", "YES"])
    with pytest.raises(tn.DataError, match="must be 0 or 1, but row 2 holds 2, not 0 or 1"):
        code(Binary("y"), [0, 2])
    assert code(Binary("y"), [True, False]) == [1.0, 0.0]  # a file's booleans are 1 and 0
    # text is text, even "1": the sheet's (y=1) would not count it, so it is coded by a positive value or refused
    with pytest.raises(tn.DataError, match="must hold 0 or 1, but row 2 holds text '1'"):
        code(Binary("y"), [0, "1"])
    with pytest.raises(tn.DataError, match=r"positive is \[1\], not a value of the target"):
        tn.Schema(positive=[1])


def test_the_excel_text_of_each_coding():
    assert Binary("y").excel_code("A4") == "A4"
    assert Binary("y", positive=1).excel_code("A4") == "IF(A4=1,1,0)"
    assert Binary("y", positive="yes").excel_code("A4") == 'IF(EXACT(A4&"","yes"),1,0)'
    assert Binary("y", positive="yes").excel_code("A4:A9", array=True) == '--EXACT(A4:A9&"","yes")'
    # accuracy compares the class with the coded target, never text with =
    assert 'EXACT(A4:A9&"","yes")' in Binary("y", positive="yes").excel_accuracy("B4:B9", "A4:A9", 6)
    assert Binary("y").excel_accuracy("B4:B9", "A4:A9", 6) == "SUMPRODUCT(--((B4:B9>0.5)=(A4:A9=1)))/6"


def _table(target: list, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(target)
    return pd.DataFrame({
        "Id": np.arange(1, n + 1), "x": rng.normal(size=n).round(3), "g": rng.choice(["a", "b", "c"], size=n), "y": target,
    })


CODED = {
    # the two cases: a numeric target 1/2 coded by 1, and a text target whose values differ only by case
    "one of 1 and 2": (tn.Schema(target="y", id_column="Id", continuous=(tn.Continuous("x"),),
                                 categorical=(tn.Categorical("g"),), positive=1), [1, 2]),
    "yes, not YES": (tn.Schema(target="y", id_column="Id", continuous=(tn.Continuous("x"),),
                               categorical=(tn.Categorical("g"),), positive="yes"), ["yes", "YES"]),
}


@pytest.fixture(scope="module", params=list(CODED), ids=list(CODED))
def coded_book(request, tmp_path_factory):
    schema, values = CODED[request.param]
    rng = np.random.default_rng(1)
    train = _table([values[i] for i in rng.integers(0, 2, size=60)])
    test = _table([values[0]] * 15, seed=2).drop(columns="y")
    fits = [tn.train_model(train, model, features=tn.Features(schema, missing="mode"), valid_frac=0.2, restarts=2)
            for model in (tn.Linear(), tn.TwoReLU())]
    path = tn.write_workbook(tmp_path_factory.mktemp("coded") / "coded.xlsx", fits, train, test, training=20)
    return path, fits, train, values


def test_python_codes_the_target_by_its_value_case_and_all(coded_book):
    _, fits, train, values = coded_book
    y = fits[0].features.target(train)
    assert y.tolist() == [1.0 if v == values[0] else 0.0 for v in train["y"]]


@pytest.mark.engines
def test_a_coded_target_verifies_in_both_engines(coded_book):
    path, fits, _, _ = coded_book
    report = tn.verify(path, engines="all")
    assert report.ok and len(report.engines) == 3, str(report)  # LibreOffice, Gnumeric and HyperFormula
    for engine in report.engines:
        assert [t.sheet for t in engine.training] == ["train_linear", "train_nnet"]
        assert all(t.ok for t in engine.training)
    for got, written in zip(tn.read_workbook(path), fits):
        np.testing.assert_array_equal(got.model.flatten(got.params), written.model.flatten(written.params))


def test_the_command_line_keeps_the_rows_the_features_keep(tmp_path):
    """--preset kaggle --missing drop: the early checks count the rows Features keeps (712), not those with every
    column read (Cabin is text: its blank is empty text, never a dropped row)."""
    from titanic_nn.cli import main

    train, test = tn.load_titanic()
    kept = int(tn.Features("kaggle", missing="drop").kept_mask(train).sum())
    X, _ = tn.Features("kaggle", missing="drop").fit_transform(train, unlabelled=test)
    assert kept == len(X) == 712
    out = tmp_path / "out"
    # 183 rows have every column, Cabin included: with those, --valid-frac 0.998 would leave no training row (183 x 0.998 rounds to 183)
    assert main(["fit", "--preset", "kaggle", "--missing", "drop", "--valid-frac", "0.998", "--restarts", "1",
                 "--sheet-epochs", "0", "--quiet", "--out", str(out)]) == 0


def test_the_target_of_a_schema_is_its_kind():
    target = target_of(tn.Schema(target="Default", positive="yes"))
    assert isinstance(target, Binary) and target.column == "Default" and target.default_loss == "mse"
    assert tn.Features().fit(tn.load_titanic()[0]).target_ == Binary("Survived")
