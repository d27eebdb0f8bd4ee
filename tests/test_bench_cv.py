"""bench/cv.py's tables of every kind of target, run fast (3 folds x 1 repeat on a sample): sane scores, the same folds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import cv  # noqa: E402  (bench/cv.py)


@pytest.fixture(scope="module")
def tables():
    return cv.kinds_table(
        ["breast_cancer", "iris", "diabetes"], ["linear", "nnet", "mmult", "tabular"], folds=3, repeats=1, rows=300
    )


def test_every_model_scores_each_kind_sanely_on_the_same_folds(tables):
    cancer, diabetes = tables["breast_cancer"], tables["diabetes"]
    assert (cancer["kind"], cancer["metric"], diabetes["kind"], diabetes["metric"]) == ("binary", "accuracy", "regression", "rmse")
    expected = {
        "titanic-nn linear", "titanic-nn nnet", "titanic-nn mmult", f"titanic-nn {cv.label_of('tabular')}",
        "sklearn HistGradientBoosting",
    }
    assert expected | {"sklearn LogisticRegression", "sklearn MLPClassifier"} == set(cancer["results"])
    assert expected | {"sklearn Ridge", "sklearn MLPRegressor"} == set(diabetes["results"])
    for label, (result, _) in cancer["results"].items():
        assert len(result.scores) == 3 and result.mean > 0.85, label
    for label, (result, _) in diabetes["results"].items():
        assert len(result.scores) == 3 and result.mean_of("r2") > 0.2 and 30 < result.mean < 80, label  # RMSE in the target's unit
    iris = tables["iris"]  # three classes, 150 rows
    assert (iris["kind"], iris["metric"]) == ("multiclass", "accuracy")
    assert expected | {"sklearn LogisticRegression", "sklearn MLPClassifier"} == set(iris["results"])
    for label, (result, _) in iris["results"].items():
        # no weight decay: the linear solver fits separable folds with large weights, confident where wrong
        assert len(result.scores) == 3 and result.mean > 0.85 and 0 < result.mean_of("logloss") < 5, label
    for table in (cancer, iris, diabetes):  # mmult's default is nnet's model, trained alike: why the full bench skips it
        results = table["results"]
        assert results["titanic-nn mmult"][0].scores == pytest.approx(results["titanic-nn nnet"][0].scores, abs=1e-9)
        met, best, peer = cv.verdict(table)
        assert best.startswith("titanic-nn ") and peer == cv.LINEAR_PEER[table["kind"]]


def test_the_kinds_tables_skip_only_the_model_kind_trained_as_another():
    assert cv.kind_models(None) == [kind for kind in cv.tn.MODELS if kind != "mmult"]
    assert cv.kind_models(["mmult"]) == ["mmult"]
