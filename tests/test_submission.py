"""The Kaggle submission's validation and the atomic writes every output goes through."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn import make_submission, submission_for, validate_submission, write_submission
from titanic_nn._atomic import AtomicFiles, atomic_path, check_output_directory, write_text_atomic  # internals under test
from titanic_nn._submission import submission_csv
from titanic_nn.errors import OutputPathError, SubmissionError


def test_make_submission_keeps_input_order_and_writes_integers(tmp_path):
    frame = make_submission([894, 892, 893], np.array([True, False, True]))
    assert list(frame.columns) == ["PassengerId", "Survived"]
    assert frame["PassengerId"].tolist() == [894, 892, 893]
    assert frame["Survived"].tolist() == [1, 0, 1]
    assert frame["Survived"].dtype == np.int64
    path = write_submission(frame, tmp_path / "submission.csv", expected_rows=3)
    assert path.read_text() == "PassengerId,Survived\n894,1\n892,0\n893,1\n"


def test_float_ids_that_are_whole_numbers_are_written_as_integers():
    frame = make_submission(pd.Series([892.0, 893.0]), [0, 1])
    assert submission_csv(frame) == "PassengerId,Survived\n892,0\n893,1\n"


def test_generic_names_and_string_ids():
    frame = make_submission(["a", "b"], np.array([1, 0], dtype=np.int32), id_column="LoanId", target="Default")
    assert submission_csv(frame) == "LoanId,Default\na,1\nb,0\n"


@pytest.mark.parametrize(
    "ids, survived, expected_rows, message",
    [
        ([1, 2], np.array([0.0, 1.0]), None, "must be integers 0 or 1, not float64"),
        ([1, 2], [0.3, 0.9], None, "must be integers"),
        ([1, 2], [0, 2], None, "must be 0 or 1, but row 2 holds 2"),
        ([1, 2], [-1, 0], None, "must be 0 or 1, but row 1 holds -1"),
        ([1, 1, 2], [0, 1, 0], None, "must be unique, but 1 appear(s) more than once"),
        ([1, 2, 3], [0, 1], None, "3 ids but 2 Survived values"),
        ([1, 2], [0, 1], 418, "has 2 rows but the input has 418"),
        ([], [], None, "has no rows"),
        ([1.0, np.nan], [0, 1], None, "PassengerId is blank in row 2"),
        ([1, 2], np.array(["0", "1"]), None, "must be integers"),
        ([1, 2], np.array([[0], [1]]), None, "expected one value per row"),
    ],
)
def test_make_submission_refuses_what_kaggle_would_reject(ids, survived, expected_rows, message):
    with pytest.raises(SubmissionError) as caught:
        make_submission(ids, survived, expected_rows=expected_rows)
    assert message in str(caught.value)
    assert isinstance(caught.value, tn.TitanicNNError)


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"PassengerId": [1], "Survived": [1], "extra": [0]}), "has two columns"),
        (pd.DataFrame({"PassengerId": [1, 2], "Survived": [1.0, 0.0]}), "must be integers"),
        (pd.DataFrame({"PassengerId": [1, 1], "Survived": [1, 0]}), "must be unique"),
        (pd.DataFrame({"PassengerId": [1, 2], "Survived": [True, False]}), "must be integers"),
    ],
)
def test_write_submission_validates_before_writing(tmp_path, frame, message):
    path = tmp_path / "submission.csv"
    with pytest.raises(SubmissionError, match=message):
        write_submission(frame, path)
    assert list(tmp_path.iterdir()) == []


def test_validate_submission_checks_the_header_and_row_count():
    frame = pd.DataFrame({"Id": [1], "Survived": [1]})
    with pytest.raises(SubmissionError, match="exactly the columns PassengerId,Survived; this one has Id,Survived"):
        validate_submission(frame)
    validate_submission(pd.DataFrame({"PassengerId": [1], "Survived": [1]}), expected_rows=1)


def test_submission_for_the_bundled_test_set(titanic):
    train, test = titanic
    features = tn.Features()
    X, y = features.fit_transform(train)
    weights = np.linalg.lstsq(X, y, rcond=None)[0]
    fitted = tn.FittedModel(features, tn.Linear(), weights)
    frame = submission_for(fitted, test)
    assert list(frame.columns) == ["PassengerId", "Survived"]
    assert frame["PassengerId"].tolist() == test["PassengerId"].tolist()
    assert frame["Survived"].dtype == np.int64
    expected = (features.transform(test) @ weights > 0.5).astype(int)
    assert frame["Survived"].tolist() == expected.tolist()
    # The least-squares linear model predicts survival for most women and few men.
    women = (test["Sex"] == "female").to_numpy()
    assert frame["Survived"][women].mean() > 0.8 and frame["Survived"][~women].mean() < 0.2


def test_submission_without_an_id_column_numbers_the_rows():
    schema = tn.Schema(target="Default", id_column=None, continuous=(tn.Continuous("x"),))
    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "Default": [0, 0, 1, 1]})
    features = tn.Features(schema)
    features.fit_transform(frame)
    fitted = tn.FittedModel(features, tn.Linear(), np.array([0.5, -0.2]))  # pred = 0.5x - 0.2
    submission = submission_for(fitted, pd.DataFrame({"x": [2.0, 0.0, 3.0]}))
    assert submission_csv(submission) == "Row,Default\n1,1\n2,0\n3,1\n"


# -- atomic writes -----------------------------------------------------------------------------------


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")
    write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    # the usual mode of a new file, not mkstemp's private 0600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_batch_leaves_the_old_files_and_no_temporaries(tmp_path, interruption):
    keep = tmp_path / "submission.csv"
    keep.write_text("previous run\n")
    with pytest.raises(interruption):
        with AtomicFiles() as batch:
            batch.stage(keep).write_text("half of a new")
            batch.stage(tmp_path / "titanic.xlsx").write_bytes(b"PK\x03\x04")
            raise interruption()
    assert keep.read_text() == "previous run\n"
    assert [p.name for p in tmp_path.iterdir()] == ["submission.csv"]


def test_a_batch_renames_everything_at_the_end(tmp_path):
    with AtomicFiles() as batch:
        first = batch.stage(tmp_path / "a.txt")
        first.write_text("a")
        assert not (tmp_path / "a.txt").exists()  # nothing final until the block ends
        batch.stage(tmp_path / "b.txt").write_text("b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_an_input_file_is_never_overwritten(tmp_path):
    source = tmp_path / "test.csv"
    source.write_text("PassengerId\n1\n")
    frame = make_submission([1], [1])
    with pytest.raises(OutputPathError, match="is an input of this run"):
        write_submission(frame, tmp_path / "." / "test.csv", inputs=[source])
    assert source.read_text() == "PassengerId\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["test.csv"]


@pytest.mark.parametrize(
    "make_target, message",
    [
        (lambda d: d, "is a directory"),
        (lambda d: d / "missing" / "out.csv", "does not exist"),
        (lambda d: d / "file.txt" / "out.csv", "is not a directory"),
    ],
)
def test_unwritable_output_paths(tmp_path, make_target, message):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OutputPathError, match=message):
        with atomic_path(make_target(tmp_path)) as temporary:
            temporary.write_text("never")
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_an_output_directory_is_checked_and_made_only_with_its_outputs(tmp_path):
    assert check_output_directory(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []  # not made, and the probe file is gone
    with AtomicFiles(create_folders=True) as batch:
        batch.write_text(tmp_path / "a" / "b" / "x.txt", "x")
        assert not (tmp_path / "a").exists()  # staged in the nearest folder that exists
    assert (tmp_path / "a" / "b" / "x.txt").read_text() == "x"
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputPathError, match="is a file, not a directory"):
        check_output_directory(tmp_path / "f")
    with pytest.raises(OutputPathError, match="is not a directory"):
        check_output_directory(tmp_path / "f" / "sub")
