"""Derived columns (title, family, ticket frequency, deck, group survival): hand-computed values, no leak, both engines."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.errors import UnseenLevelWarning
from titanic_nn.features import Count, Extract, Join, Levels, Ratio, Sum, TargetRate
from titanic_nn.training import CVResult, cross_validate, folds_for, plain_folds, stratified_folds

# Six training rows and two test rows, made to hold what COUNTIF or = would get wrong: tickets "A*1" (a
# wildcard), ">5" (a comparison) and "a*1" (the same but for case); a blank Cabin; a blank Age; a Name
# without ", " (no title, no surname); a woman-or-child group of three, one of one, and men outside any.
TRAIN = pd.DataFrame({
    "PassengerId": [1, 2, 3, 4, 5, 6],
    "Survived": [1, 0, 1, 0, 1, 0],
    "Name": ["Smith, Mrs. Anna", "Smith, Mr. John", "Smith, Master. Tom", "Jones, Miss. Ann", "Brown, Dr. Bob",
             "Smith, Miss. Eve"],
    "Sex": ["female", "male", "male", "female", "male", "female"],
    "Ticket": ["A*1", "A*1", "A*1", ">5", "a*1", "A*1"],
    "Cabin": ["C85", "C85", None, None, "E1", "C1"],
    "SibSp": [1, 1, 0, 0, 0, 0],
    "Parch": [0, 0, 2, 0, 0, 1],
    "Fare": [20.0, 20.0, 20.0, 8.0, 10.0, 20.0],
    "Age": [30.0, 40.0, np.nan, 20.0, 50.0, 10.0],
})
TEST = pd.DataFrame({
    "PassengerId": [7, 8],
    "Name": ["Smith, Mrs. Kate", "Lee Sam"],
    "Sex": ["female", "male"],
    "Ticket": ["A*1", ">5"],
    "Cabin": [None, "E5"],
    "SibSp": [0, 0],
    "Parch": [0, 0],
    "Fare": [5.0, 2.0],
    "Age": [np.nan, 33.0],
})


def schema() -> tn.Schema:
    return tn.Schema(
        target="Survived", id_column="PassengerId",
        derived=(
            Extract("Name", "Title", after=", ", before="."),
            Levels("Title", "TitleGroup", map={"Mrs": "Woman", "Miss": "Woman"}, min_count=2),
            Extract("Name", "Surname", before=","),
            Extract("Ticket", "TicketGroup", chars=-1),
            Extract("Cabin", "Deck", chars=1),
            Sum(("SibSp", "Parch"), "FamilySize", add=1),
            Count("Ticket", "TicketFrequency"),
            Ratio("Fare", "TicketFrequency", "FarePerPerson"),
            Join(("Surname", "TicketGroup"), "GroupKey", where={"Sex": "female", "Title": "Master"}),
            TargetRate("GroupKey", "GroupRate", known="GroupKnown"),
        ),
        continuous=(
            tn.Continuous("GroupRate"), tn.Continuous("GroupKnown"),
            tn.Continuous("Age", scale="max", fill="median", fill_by="TitleGroup"),
            tn.Continuous("FarePerPerson"), tn.Continuous("FamilySize", scale="max"), tn.Continuous("TicketFrequency"),
        ),
        categorical=(
            tn.Categorical("Sex"), tn.Categorical("TitleGroup"), tn.Categorical("Deck"),
            tn.Categorical("FamilySize", levels=(1,), names=("IsAlone",)),
        ),
    )


@pytest.fixture(scope="module")
def fitted():
    features = tn.Features(schema(), missing="mode")
    X, y = features.fit_transform(TRAIN, unlabelled=TEST)
    return features, X, y


def test_each_derived_column_by_hand(fitted):
    features, _, _ = fitted
    train = features.columns(TRAIN, training=True)
    test = features.columns(TEST)
    assert list(train["Title"]) == ["Mrs", "Mr", "Master", "Miss", "Dr", "Miss"]
    assert list(test["Title"]) == ["Mrs", ""]  # no ", " in the name: no title
    # Woman (Mrs + Miss) is seen 3 times in training, the rest once: below min_count 2, so Rare
    assert list(train["TitleGroup"]) == ["Woman", "Rare", "Rare", "Woman", "Rare", "Woman"]
    assert list(test["TitleGroup"]) == ["Woman", "Rare"]
    assert list(train["Surname"]) == ["Smith", "Smith", "Smith", "Jones", "Brown", "Smith"]
    assert list(train["Deck"]) == ["C", "C", "", "", "E", "C"]  # a blank Cabin is a level of its own
    assert list(train["FamilySize"]) == [2, 2, 3, 1, 1, 2]
    # "A*1" is held by 4 training rows and 1 test row; ">5" by one of each; "a*1" (case) by one alone
    assert list(train["TicketFrequency"]) == [5, 5, 5, 2, 1, 5]
    assert list(test["TicketFrequency"]) == [5, 2]
    assert list(train["FarePerPerson"]) == [4, 4, 4, 4, 10, 4]
    assert list(test["FarePerPerson"]) == [1, 1]
    # women and the Master: Smith|A* (rows 1, 3, 6), Jones|> (row 4); men no group
    assert list(train["GroupKey"]) == ["Smith|A*", "", "Smith|A*", "Jones|>", "", "Smith|A*"]
    assert list(test["GroupKey"]) == ["Smith|A*", ""]
    # each training row: the other training rows of its group (row 1: rows 3 and 6, survived 1 and 0)
    assert list(train["GroupRate"]) == [0.5, 0, 0.5, 0, 0, 1.0]
    assert list(train["GroupKnown"]) == [1, 0, 1, 0, 0, 1]
    # a test row: every training row of its group (1, 1, 0)
    assert list(test["GroupRate"]) == pytest.approx([2 / 3, 0])
    assert list(test["GroupKnown"]) == [1, 0]
    # a blank Age takes its TitleGroup's training median: Rare has 40 and 50; Woman 30, 20 and 10
    assert list(train["Age"]) == [30, 40, 45, 20, 50, 10]
    assert list(test["Age"]) == [20, 33]


def test_features_in_order(fitted):
    features, X, y = fitted
    assert features.feature_names_ == [
        "GroupRate", "GroupKnown", "Age_N", "FarePerPerson", "FamilySize_N", "TicketFrequency", "Sex_male",
        "TitleGroup_Woman", "Deck_C", "Deck_E", "IsAlone", "Ones",
    ]
    assert X[:, 2].tolist() == pytest.approx([30 / 50, 40 / 50, 45 / 50, 20 / 50, 1.0, 10 / 50])
    assert y.tolist() == [1, 0, 1, 0, 1, 0]


def test_the_statistics_are_saved_and_loaded(fitted):
    features, X, _ = fitted
    saved = features.to_dict()
    assert saved["counts"]["TicketFrequency"] == {"values": {">5": 2, "A*1": 5, "a*1": 1}, "unlabelled_rows": 2}
    assert saved["target_rates"]["GroupRate"] == {"Jones|>": [1, 0.0], "Smith|A*": [3, 2.0]}
    assert saved["kept_levels"]["TitleGroup"] == ["Woman"]
    loaded = tn.Features.from_dict(saved)
    np.testing.assert_array_equal(loaded.transform(TRAIN, training=True), X)
    np.testing.assert_array_equal(loaded.transform(TEST), features.transform(TEST))


def test_a_rows_own_label_never_reaches_its_features(fitted):
    features, X, _ = fitted
    for row in range(len(TRAIN)):
        flipped = TRAIN.copy()
        flipped.loc[row, "Survived"] = 1 - flipped.loc[row, "Survived"]
        X2, _ = tn.Features(schema(), missing="mode").fit_transform(flipped, unlabelled=TEST)
        np.testing.assert_array_equal(X2[row], X[row])  # no feature of that row changes
    # another row of the group does see it: row 1's label is in rows 3 and 6's rates
    flipped = TRAIN.copy()
    flipped.loc[0, "Survived"] = 0
    X2, _ = tn.Features(schema(), missing="mode").fit_transform(flipped, unlabelled=TEST)
    assert X2[[2, 5], 0].tolist() == [0.0, 0.5] and X[[2, 5], 0].tolist() == [0.5, 1.0]


def test_no_kaggle_training_row_sees_its_own_label(titanic):
    train, test = titanic
    X, _ = tn.Features("kaggle").fit_transform(train, unlabelled=test)
    # rows in a woman-or-child group of several: their label is in the others' rates
    for row in (7, 8, 10, 16):  # Palsson, Johnson, Sandstrom and Rice families
        flipped = train.copy()
        flipped.loc[flipped.index[row], "Survived"] = 1 - flipped["Survived"].iloc[row]
        X2, _ = tn.Features("kaggle").fit_transform(flipped, unlabelled=test)
        np.testing.assert_array_equal(X2[row], X[row])
        assert (X2 != X).any()


def test_transform_of_other_rows_as_training_is_refused(fitted):
    features, _, _ = fitted
    with pytest.raises(tn.DataError, match="not the training rows GroupRate was learned from"):
        features.transform(TRAIN.iloc[:4], training=True)


def test_the_formulas_written_are_those_the_saved_schema_rebuilds(fitted, tmp_path):
    """verify rebuilds every formula from the workbook's saved schema (whose tables come back with sorted keys): the
    written formulas must not depend on the order a schema's map or where was given in."""
    from titanic_nn.workbook import check_formulas, read_contents

    features, _, _ = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenLevelWarning)
        fit = tn.train_model(TRAIN, tn.build_model("linear"), features=features, valid_frac=0, unlabelled=TEST)
        path = tn.write_workbook(tmp_path / "derived.xlsx", [fit], TRAIN, TEST)
    check = check_formulas(read_contents(path))
    assert check.ok and check.checked == 200, str(check)


@pytest.mark.engines
def test_the_workbook_computes_every_derived_column_in_every_engine(fitted, tmp_path):
    features, _, _ = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenLevelWarning)
        fit = tn.train_model(TRAIN, tn.build_model("linear"), features=features, valid_frac=0, unlabelled=TEST)
        path = tn.write_workbook(tmp_path / "derived.xlsx", [fit], TRAIN, TEST)
    report = tn.verify(path, engines="all")
    assert report.ok, report
    assert [e.engine for e in report.engines] == ["libreoffice", "gnumeric", "hyperformula"]
    assert all(e.mismatches == 0 and e.cells_checked == 200 for e in report.engines)
    import openpyxl

    sheet = openpyxl.load_workbook(path)["linear"]
    header = {}
    for cell in sheet[3]:  # the data columns' headers come first (the parameter blocks' labels repeat them)
        header.setdefault(cell.value, cell.column_letter)
    # every derived cell is a live formula, and the exact ones never COUNTIF (a pattern) nor = (no case)
    def formula(name: str) -> str:
        value = sheet[f"{header[name]}4"].value
        return str(getattr(value, "text", value))  # a whole-column formula is a one-cell array formula

    for name in ("Title", "TitleGroup", "TicketFrequency", "GroupKey", "GroupRate", "GroupKnown"):
        formula_ = formula(name)
        assert formula_.startswith("="), (name, formula_)
        assert "COUNTIF" not in formula_ and "SUMIF" not in formula_
    assert "SUMPRODUCT(--EXACT(" in formula("TicketFrequency")
    assert "test!" in formula("TicketFrequency")  # the test rows' tickets counted too


def test_a_workbook_needs_the_test_rows_counted(fitted, tmp_path):
    features, _, _ = fitted
    fit = tn.train_model(TRAIN, tn.build_model("linear"), features=features, valid_frac=0, unlabelled=TEST)
    with pytest.raises(tn.DataError, match="counted over the training rows and 2 test rows"):
        tn.write_workbook(tmp_path / "no_test.xlsx", [fit], TRAIN)


def test_stratified_folds_partition_every_row_each_repeat():
    y = np.array([0] * 12 + [1] * 8)
    folds = list(stratified_folds(y, folds=4, repeats=2))
    assert len(folds) == 8
    for repeat in range(2):
        held = np.concatenate([h for _, h in folds[repeat * 4 : repeat * 4 + 4]])
        assert sorted(held.tolist()) == list(range(20))
    for train, held in folds:
        assert len(set(train) & set(held)) == 0
        assert y[held].sum() == 2 and len(held) == 5  # each fold holds the classes' shares


def test_plain_folds_deal_every_row_by_the_same_seeded_rule_and_each_kind_gets_its_own():
    folds = list(plain_folds(10, folds=3, repeats=2, seed=4))
    assert _same_folds(folds, stratified_folds(np.zeros(10), folds=3, repeats=2, seed=4))  # one class: the same rule
    for repeat in range(2):
        held = [h for _, h in folds[repeat * 3 : repeat * 3 + 3]]
        assert sorted(np.concatenate(held).tolist()) == list(range(10)) and sorted(map(len, held)) == [3, 3, 4]
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])  # a regression target's numbers are not classes to stratify by
    assert _same_folds(folds_for("regression", y, 2, 1), plain_folds(6, 2, 1))
    y = np.array([0, 0, 0, 0, 1, 1])
    assert _same_folds(folds_for("binary", y, 2, 1), stratified_folds(y, 2, 1))
    assert not _same_folds(folds_for("binary", y, 2, 1), plain_folds(6, 2, 1))


def _same_folds(a, b) -> bool:
    a, b = list(a), list(b)
    return len(a) == len(b) and all(np.array_equal(x, y) for f, g in zip(a, b) for x, y in zip(f, g))


def test_a_regression_target_is_cross_validated_by_rmse_and_its_other_scores():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(1, 2, 60)})
    frame["y"] = 10 * frame["x"] + 5
    schema = tn.Schema(target="y", id_column=None, continuous=(tn.Continuous("x"),), constant="Ones")
    result = cross_validate(frame, tn.build_model("linear"), schema=schema, folds=3, repeats=2)
    assert result.metric == "rmse" and len(result.scores) == 6 and set(result.other_scores) == {"mae", "r2"}
    assert result.mean < 1e-3 and result.mean_of("r2") == pytest.approx(1.0) and str(result).startswith("RMSE ")
    with pytest.raises(AttributeError, match="no accuracies"):
        result.accuracies
    assert CVResult([0.5, 1.0]).accuracies == [0.5, 1.0]  # a binary target's, as before


@pytest.mark.filterwarnings("ignore::titanic_nn.errors.UnseenLevelWarning")  # deck T is in one row: some fold lacks it
def test_cross_validation_learns_each_fold_from_its_training_folds(titanic):
    train, _ = titanic
    seen = []

    def model(X, y, X_held):  # a model that remembers what it was given
        seen.append((len(X), len(X_held)))
        return np.full(len(X_held), 0.0)

    result = cross_validate(train, model, schema="kaggle", folds=3, repeats=1)
    assert [n for n, _ in seen] == [594, 594, 594] and sum(h for _, h in seen) == 891
    assert result.mean == pytest.approx(549 / 891, abs=1e-3)  # predicting 0 everywhere: the share who died
