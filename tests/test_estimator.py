"""SheetClassifier as a scikit-learn estimator: fit/predict, clone, cross_val_score, GridSearchCV."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score

import titanic_nn as tn

KINDS = ["linear", "nnet", "mmult"]


@pytest.mark.parametrize("method", ["solver", "gd"])
@pytest.mark.parametrize("kind", KINDS)
def test_fit_predict_proba_score(kind, method, titanic):
    train, test = titanic
    options = dict(restarts=2) if method == "solver" else dict(restarts=2, epochs=300, device="cpu")
    est = tn.SheetClassifier(model=kind, method=method, **options)
    assert est.fit(train, train["Survived"]) is est
    pred = est.predict(test)
    assert pred.shape == (418,) and set(np.unique(pred)) <= {0, 1} and pred.dtype == np.int64
    proba = est.predict_proba(test)
    assert proba.shape == (418, 2) and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(pred, (est.decision_function(test) > 0.5).astype(int))
    assert list(est.classes_) == [0, 1]
    assert 0.75 < est.score(train, train["Survived"]) < 0.9
    # the estimator's model is what train_model would give
    direct = tn.train_model(train, est.fitted_.model, valid_frac=None, method=method, **options)
    np.testing.assert_array_equal(direct.predict(test), est.decision_function(test))


def test_the_target_may_stay_in_the_frame(titanic):
    train, test = titanic
    a = tn.SheetClassifier(model="linear", restarts=1).fit(train)
    b = tn.SheetClassifier(model="linear", restarts=1).fit(train.drop(columns="Survived"), train["Survived"])
    np.testing.assert_array_equal(a.predict(test), b.predict(test))


def test_get_set_params_and_clone():
    est = tn.SheetClassifier(model="mmult", method="gd", hidden=3, lr=0.05, seed=4)
    params = est.get_params()
    assert params["model"] == "mmult" and params["hidden"] == 3 and params["lr"] == 0.05 and params["seed"] == 4
    assert est.set_params(hidden=5, method="solver") is est
    assert est.hidden == 5 and est.method == "solver"
    twin = clone(est)
    assert twin is not est and twin.get_params() == est.get_params() and not hasattr(twin, "fitted_")


def test_a_model_instance_is_accepted_and_cloned(titanic):
    train, _ = titanic
    est = tn.SheetClassifier(model=tn.MatMulNet(layers=[3, 2]), restarts=1)
    twin = clone(est)
    assert twin.model == est.model and twin.model is not est.model
    assert twin.fit(train, train["Survived"]).fitted_.model.layers == [3, 2]


def test_cross_val_score(titanic):
    train, _ = titanic
    scores = cross_val_score(tn.SheetClassifier(model="nnet", restarts=2), train, train["Survived"], cv=3)
    assert scores.shape == (3,) and np.all((scores > 0.7) & (scores < 0.9))


def test_grid_search(titanic):
    train, test = titanic
    search = GridSearchCV(
        tn.SheetClassifier(restarts=2), {"model": ["linear", "nnet"], "output": ["raw", "sigmoid"]}, cv=3
    ).fit(train, train["Survived"])
    assert search.best_params_["model"] in ("linear", "nnet") and 0.75 < search.best_score_ < 0.85
    assert search.predict(test).shape == (418,)


def test_unfitted_and_wrong_input_say_what_to_do(titanic):
    train, _ = titanic
    with pytest.raises(tn.TitanicNNError, match="not fitted yet"):
        tn.SheetClassifier().predict(train)
    with pytest.raises(tn.TitanicNNError, match="pandas DataFrame"):
        tn.SheetClassifier(model="linear", restarts=1).fit(train.to_numpy(), train["Survived"])
    with pytest.raises(tn.TitanicNNError, match="model must be one of"):
        tn.SheetClassifier(model="forest").fit(train)


@pytest.mark.parametrize("method", ["solver", "gd"])
def test_weight_decay_and_the_schedule_pass_to_the_trainer(method, titanic):
    train, _ = titanic
    options = dict(restarts=1) if method == "solver" else dict(restarts=1, epochs=40, device="cpu", schedule="one-cycle")
    est = tn.SheetClassifier(model="nnet", method=method, wd=0.02, **options)
    assert clone(est).get_params()["wd"] == 0.02
    settings = est.fit(train, train["Survived"]).fitted_.training["settings"]
    assert settings["wd"] == 0.02 and settings.get("schedule") == options.get("schedule")
    same = tn.train_model(train, tn.TwoReLU(), method=method, wd=0.02, valid_frac=None, **options)
    np.testing.assert_array_equal(est.fitted_.params, same.params)
