"""The feature pipeline against the lesson workbook, on hand-checked rows and on random frames."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import titanic_nn as tn
from titanic_nn.lesson import LESSON_LINEAR_COEFFICIENTS

LESSON_NAMES = ["SibSp", "Parch", "Age_N", "log_Fare", "Pclass_1", "Pclass_2", "Embark_S", "Embark_C", "Male", "Ones"]


def test_default_features_are_the_lesson_workbooks(lesson_xy):
    feats, X, y = lesson_xy
    assert feats.feature_names_ == LESSON_NAMES
    assert list(feats.get_feature_names_out()) == LESSON_NAMES
    assert X.shape == (712, 10) and y.shape == (712,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert feats.divisors_ == {"Age": 80.0}
    assert y.sum() == 288


def test_passenger_1_row(lesson_xy):
    _, X, _ = lesson_xy
    expected = [1, 0, 0.275, math.log10(8.25), 0, 0, 1, 0, 1, 1]
    np.testing.assert_array_equal(X[0], expected)


def test_lesson_linear_coefficients_give_the_workbooks_loss(lesson_xy):
    _, X, y = lesson_xy
    loss = tn.mse(tn.Linear().predict(X, LESSON_LINEAR_COEFFICIENTS), y)
    assert abs(loss - 0.14422714930851466) < 1e-12


def test_test_rows_are_all_kept_and_scaled_by_the_training_max(titanic, lesson_xy):
    train, test = titanic
    feats, _, _ = lesson_xy
    X_test = feats.transform(test)
    assert X_test.shape == (418, 10)
    assert not np.isnan(X_test).any()
    assert test["Age"].max() == 76.0  # the test max, which must not be used
    ages = test["Age"].fillna(feats.fill_values_["Age"]).to_numpy()
    np.testing.assert_array_equal(X_test[:, 2], ages / 80.0)
    mask = feats.missing_mask(test)
    assert mask["Age"].sum() == 86 and mask["Fare"].sum() == 1 and mask.to_numpy().sum() == 87
    fare_row = int(np.flatnonzero(mask["Fare"])[0])
    assert X_test[fare_row, 3] == math.log10(feats.fill_values_["Fare"] + 1)


def test_transform_keeps_training_rows_that_fit_drops(titanic, lesson_xy):
    train, _ = titanic
    feats, X, _ = lesson_xy
    all_rows = feats.transform(train)
    assert all_rows.shape == (891, 10)
    np.testing.assert_array_equal(all_rows[train.index.get_indexer(feats.train_index_)], X)


def test_missing_mode_keeps_every_row(titanic):
    train, _ = titanic
    feats = tn.Features(missing="mode")
    X, y = feats.fit_transform(train)
    assert X.shape == (891, 10) and not np.isnan(X).any()
    assert feats.fill_values_["Age"] == 24.0 and feats.fill_values_["Embarked"] == "S"


def test_notebook_preset(titanic):
    train, test = titanic
    feats = tn.Features("notebook")
    X, y = feats.fit_transform(train)
    assert feats.missing_ == "mode"
    assert feats.feature_names_ == [
        "Age", "SibSp", "Parch", "LogFare", "Sex_male", "Sex_female", "Pclass_1", "Pclass_2", "Pclass_3",
        "Embarked_C", "Embarked_Q", "Embarked_S",
    ]
    assert X.shape == (891, 12)
    first = X[0]
    assert first[0] == 22 / 80 and first[1] == 1 / 8 and first[2] == 0 / 6
    assert first[3] == math.log(8.25) / math.log(train["Fare"].max() + 1)
    np.testing.assert_array_equal(first[4:], [1, 0, 0, 0, 1, 0, 0, 1])
    assert np.all(X[:, :4].max(axis=0) == 1.0)
    assert feats.transform(test).shape == (418, 12)


def test_unseen_level_gives_zero_dummies_and_a_warning_naming_the_rows(titanic, lesson_xy):
    _, test = titanic
    feats, _, _ = lesson_xy
    odd = test.head(3).copy()
    odd.loc[odd.index[1], "Embarked"] = "X"
    with pytest.warns(tn.UnseenLevelWarning, match=r"Embarked.*'X'.*line 3 \(PassengerId 893\)"):
        X = feats.transform(odd)
    assert X.shape == (3, 10)
    assert X[1, 6] == 0 and X[1, 7] == 0


def test_reference_level_gives_no_warning(titanic, lesson_xy):
    _, test = titanic
    feats, _, _ = lesson_xy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feats.transform(test)  # holds Q embarkations and third-class rows, the reference levels


def test_features_round_trip_through_a_dict(titanic, lesson_xy):
    _, test = titanic
    feats, _, _ = lesson_xy
    again = tn.Features.from_dict(feats.to_dict())
    np.testing.assert_array_equal(again.transform(test), feats.transform(test))
    assert again.to_dict() == feats.to_dict()


@pytest.mark.parametrize(
    "change, pattern",
    [
        (lambda f: f.drop(columns=["Age", "Fare"]), "missing columns Age, Fare"),
        (lambda f: f.assign(Survived=f["Survived"].where(f.index != 3)), r"target Survived is blank in 1 row\(s\), first on line 5 \(PassengerId 4\)"),
        (lambda f: f.assign(Survived=f["Survived"].replace(1, 2)), "target Survived must be 0 or 1"),
        (lambda f: f.assign(Fare=f["Fare"].astype(object).where(f.index != 5, "cheap")), r"column Fare must be numeric, but line 7 holds 'cheap'"),
        (lambda f: f.assign(Fare=-2.0), r"log\(x\+1\) needs values of at least -1\+1e-12"),
    ],
    ids=["missing-columns", "blank-target", "non-binary-target", "non-numeric", "log-domain"],
)
def test_bad_training_frames_give_clear_errors(titanic, change, pattern):
    train, _ = titanic
    with pytest.raises(tn.DataError, match=pattern):
        tn.Features().fit_transform(change(train))


def test_transform_before_fit_is_a_clear_error(titanic):
    with pytest.raises(tn.DataError, match="not fitted"):
        tn.Features().transform(titanic[1])


def test_custom_schema_learns_levels_and_drops_the_first(tmp_path):
    frame = pd.DataFrame({"y": [0, 1, 1, 0], "colour": ["red", "blue", "green", "blue"], "size": [1.0, 2.0, 4.0, 0.0]})
    schema = tn.Schema(target="y", id_column=None, continuous=[tn.Continuous("size", scale="max")],
                       categorical=[tn.Categorical("colour")])
    feats = tn.Features(schema)
    X, y = feats.fit_transform(frame)
    assert feats.feature_names_ == ["size_N", "colour_green", "colour_red", "Ones"]
    np.testing.assert_array_equal(X, [[0.25, 0, 1, 1], [0.5, 0, 0, 1], [1, 1, 0, 1], [0, 0, 0, 1]])
    path = tmp_path / "schema.toml"
    path.write_text('target = "y"\nid_column = "id"\ncontinuous = [{column = "size", log = "log10"}]\ncategorical = ["colour"]\n')
    loaded = tn.Schema.from_file(path)
    assert loaded.continuous[0] == tn.Continuous("size", log="log10") and loaded.categorical[0] == tn.Categorical("colour")


# -- properties on random small frames --------------------------------------------------------------

levels = {"Pclass": st.sampled_from([1, 2, 3]), "Sex": st.sampled_from(["male", "female"]),
          "Embarked": st.sampled_from(["S", "C", "Q"])}
ages = st.one_of(st.none(), st.floats(0.1, 90, allow_nan=False, allow_subnormal=False))
counts = st.integers(0, 8)
fares = st.one_of(st.none(), st.floats(0, 600, allow_nan=False, allow_subnormal=False))


def _rows(min_size: int):
    row = st.fixed_dictionaries(
        {"PassengerId": st.integers(1, 10_000), "Survived": st.sampled_from([0, 1]), "Pclass": levels["Pclass"],
         "Sex": levels["Sex"], "Age": ages, "SibSp": counts, "Parch": counts, "Fare": fares,
         "Embarked": st.one_of(st.none(), levels["Embarked"])}
    )
    return st.lists(row, min_size=min_size, max_size=12).map(pd.DataFrame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_rows(1), second=_rows(1), missing=st.sampled_from(["mode", "drop"]), preset=st.sampled_from(["sheet", "notebook"]))
def test_random_frames_give_finite_fixed_width_features_and_learning_is_untouched(first, second, missing, preset):
    feats = tn.Features(preset, missing=missing)
    try:
        X, y = feats.fit_transform(first)
    except tn.DataError as exc:
        assert missing == "drop" and "leaves no rows" in str(exc)
        return
    width = 10 if preset == "sheet" else 12
    assert X.shape[1] == width and X.dtype == np.float64 and not np.isnan(X).any()
    learned = feats.to_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tn.UnseenLevelWarning)
        X_second = feats.transform(second)
    assert X_second.shape == (len(second), width) and not np.isnan(X_second).any()
    assert feats.to_dict() == learned
    assert feats.transform(first).shape[0] == len(first)
