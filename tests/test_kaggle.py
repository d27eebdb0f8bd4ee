"""The kaggle preset and the derived ops on another table, end to end: fit, the workbook, verify in both engines."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.cli import main


def run(argv: list[str]) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


@pytest.mark.engines
def test_the_kaggle_preset_fits_and_its_workbook_verifies_in_both_engines(tmp_path):
    result = run(["fit", "--preset", "kaggle", "--out", tmp_path, "--restarts", "1", "--sheet-epochs", "0"])
    assert result.code == 0, result.err
    assert "Age 177 with the training median of its TitleGroup; Embarked 2 with the training mode" in result.out
    submission = pd.read_csv(tmp_path / "submission.csv")
    assert len(submission) == 418 and set(submission["Survived"]) == {0, 1}
    checked = run(["verify", "--engine", "all", tmp_path / "titanic.xlsx"])
    assert checked.code == 0, checked.out + checked.err
    assert checked.out.count("agree with Python") == 3  # LibreOffice, Gnumeric and HyperFormula
    assert "LibreOffice" in checked.out and "Gnumeric" in checked.out
    # the saved models write the workbook again: their features are refitted on train.csv and test.csv
    again = run(["workbook", "--models", tmp_path / "linear.json", "--out", tmp_path / "again.xlsx", "--sheet-epochs", "0"])
    assert again.code == 0, again.err
    assert (tmp_path / "again.xlsx").is_file()


def test_kaggle_features_in_python(titanic):
    train, test = titanic
    features = tn.Features("kaggle")
    X, y = features.fit_transform(train, unlabelled=test)
    assert X.shape == (891, 25) and X.dtype == np.float64
    assert features.kept_levels_ if hasattr(features, "kept_levels_") else True
    columns = features.columns(train, training=True)
    # Mlle, Ms and Mme mapped, then every title of fewer than 10 training rows is Rare
    assert sorted(set(columns["TitleGroup"])) == ["Master", "Miss", "Mr", "Mrs", "Rare"]
    assert (columns["TicketFrequency"] >= 1).all()
    # TicketFrequency counts train.csv and test.csv: ticket CA. 2343 is held by 7 training and 4 test rows
    assert columns["TicketFrequency"][train["Ticket"] == "CA. 2343"].tolist() == [11.0] * 7


ORDERS = pd.DataFrame({
    "order_id": [f"o{i}" for i in range(1, 13)],
    "returned": [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0],
    "email": ["a@x.com", "b@y.org", "c@x.com", "d@y.org", "e@x.com", "f@z.net", "g@x.com", "h@y.org", "i@x.com",
              "j@z.net", "k@x.com", "no-at-sign"],
    "zip": [10115, 10115, 20095, 20095, 20095, 80331, 10115, 50667, 80331, 20095, 10115, 50667],
    "city": ["Berlin", "Berlin", "Hamburg", "Hamburg", "Hamburg", "Munich", "berlin", "Cologne", "Munich", "Hamburg",
             "Berlin", "Cologne"],
    "amount": [20.0, 35.5, 12.0, 80.0, 5.0, 44.0, 19.0, 60.0, 7.5, 15.0, 22.0, 31.0],
})
NEW_ORDERS = pd.DataFrame({
    "order_id": ["n1", "n2", "n3"],
    "email": ["p@x.com", "q@y.org", "r@x.com"],
    "zip": [10115, 99999, 20095],
    "city": ["Berlin", "Dresden", "Hamburg"],
    "amount": [10.0, 25.0, 40.0],
})
SCHEMA = """\
target = "returned"
id_column = "order_id"

[[derived]]
kind = "extract"
column = "email"
name = "domain"
after = "@"

[[derived]]
kind = "count"
column = "zip"
name = "zip_orders"

[[derived]]
kind = "target_rate"
column = "city"
name = "city_rate"
known = "city_known"

[[continuous]]
column = "amount"
log = "log10"

[[continuous]]
column = "zip_orders"
scale = "max"

[[continuous]]
column = "city_rate"

[[continuous]]
column = "city_known"

[[categorical]]
column = "domain"
"""


@pytest.fixture()
def orders(tmp_path):
    ORDERS.to_csv(tmp_path / "orders.csv", index=False)
    NEW_ORDERS.to_csv(tmp_path / "new.csv", index=False)
    (tmp_path / "orders.toml").write_text(SCHEMA, encoding="utf-8")
    return tmp_path


def test_the_derived_ops_on_another_table_by_hand(orders):
    features = tn.Features(tn.Schema.from_file(orders / "orders.toml"), missing="mode")
    features.fit(ORDERS, unlabelled=NEW_ORDERS)
    train, new = features.columns(ORDERS, training=True), features.columns(NEW_ORDERS)
    assert list(train["domain"])[:3] == ["x.com", "y.org", "x.com"] and train["domain"][11] == ""
    # zip 10115: 4 orders and 1 new one; 99999 only in the new orders
    assert list(train["zip_orders"])[:3] == [5, 5, 5] and list(new["zip_orders"]) == [5, 1, 5]
    # Berlin's orders o1, o2, o11 returned 1, 0, 1 ("berlin" is another city: case counts)
    assert list(train["city_rate"][[0, 1, 10]]) == [0.5, 1.0, 0.5]
    assert train["city_known"][6] == 0  # berlin: no other order
    assert list(new["city_rate"]) == pytest.approx([2 / 3, 0, 1 / 4]) and list(new["city_known"]) == [1, 0, 1]


@pytest.mark.engines
def test_the_derived_ops_on_another_table_through_the_schema_file(orders):
    result = run([
        "fit", "--train", orders / "orders.csv", "--test", orders / "new.csv", "--schema", orders / "orders.toml",
        "--out", orders / "o", "--restarts", "1", "--sheet-epochs", "0", "--valid-frac", "0",
    ])
    assert result.code == 0, result.err
    report = tn.verify(orders / "o" / "orders.xlsx", engines="all")
    assert report.ok, report
    assert [e.engine for e in report.engines] == ["libreoffice", "gnumeric", "hyperformula"]
