"""The bundled files and the CSV reader's errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import titanic_nn as tn

ROOT = Path(__file__).resolve().parents[1]
SHA256 = {
    "train.csv": "7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f",
    "test.csv": "56023b9948236f3c7a1c9448fcf418b283e109ef177fa8c7e069158dd7dd52b2",
    "gender_submission.csv": "7a262a7f4cb807f53911dccc84257ed3976b21b7b50ffc468b58446bff8bb6a4",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_bundled_files_are_the_kaggle_files_byte_for_byte(name):
    for path in (ROOT / "data" / name, tn.data_path(name)):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name]


def test_load_titanic_returns_train_and_test(titanic):
    train, test = titanic
    assert train.shape == (891, 12)
    assert test.shape == (418, 11)
    assert int(train["Survived"].sum()) == 342
    assert train["Age"].isna().sum() == 177 and test["Fare"].isna().sum() == 1


def test_unknown_bundled_file_is_refused():
    with pytest.raises(tn.DataError, match="no bundled file"):
        tn.data_path("nope.csv")


GOOD_HEADER = "PassengerId,Survived,Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n"


@pytest.mark.parametrize(
    "content, pattern",
    [
        (None, "no such file"),
        ("<dir>", "is a directory"),
        ("", "the file is empty"),
        ("   \n\n", "the file is empty"),
        (GOOD_HEADER, "header but no data rows"),
        ("This is a letter, not a table.\nDear reader;\nit goes on\n", "not valid CSV|missing column|line 2 has 1 field"),
        ("just some prose without separators\nand a second line\n", "does not look like CSV"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
        ('a,b\n1,"unterminated\n', "not valid CSV"),
        ("PassengerId,Survived,Sex\n1,0,male\n", "missing columns Pclass, Age, SibSp, Parch, Fare, Embarked"),
        (GOOD_HEADER + "1,0,3,male,22,1,0,7.25,S\n2,1,1,female,old,1,0,71.3,C\n", "column Age must be numeric, but line 3 holds 'old'"),
    ],
    ids=["missing", "directory", "empty", "blank", "header-only", "ragged-prose", "no-commas", "binary",
         "bad-quoting", "missing-columns", "non-numeric"],
)
def test_read_csv_gives_one_clear_error_per_problem(tmp_path, content, pattern):
    path = tmp_path / "input.csv"
    if content == "<dir>":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    required = ["PassengerId", "Survived", "Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
    with pytest.raises(tn.DataError, match=pattern):
        tn.read_csv(path, required=required, numeric=["Age", "SibSp", "Parch", "Fare"])


def test_read_csv_keeps_blanks_as_missing_and_numbers_as_numbers(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(GOOD_HEADER + "1,0,3,male,,1,0,7.25,S\n2,1,1,female,38,1,0,71.3,\n")
    frame = tn.read_csv(path, numeric=["Age"])
    assert frame["Age"].isna().tolist() == [True, False]
    assert frame["Age"].iloc[1] == 38.0
    assert frame["Embarked"].isna().tolist() == [False, True]
