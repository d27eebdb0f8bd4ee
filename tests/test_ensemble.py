"""Ensembles: K members whose predictions are averaged, in Python, in the model file and in the sheet."""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pytest

import titanic_nn as tn
from titanic_nn.errors import InvalidModelError
from titanic_nn.nn import Ensemble, MAX_MEMBERS

from test_cli import run


def test_predict_is_the_mean_of_the_members_by_hand():
    X = np.array([[1.0, 0.5, -2.0], [0.0, 1.0, 1.0]])
    members = [np.array([0.1, 0.2, 0.3]), np.array([-1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.5])]
    model = Ensemble(tn.Linear(), 3)
    # row 1: -0.4, -3.0, -0.25; row 2: 0.5, 1.0, 1.0
    expected = np.array([(-0.4 - 3.0 - 0.25) / 3, (0.5 + 1.0 + 1.0) / 3])
    np.testing.assert_allclose(model.predict(X, members), expected, rtol=1e-15)
    # nnet: two ReLUs summed per member, then the members averaged
    nets = [np.array([[1.0, -1.0], [0.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 1.0]])]
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    by_hand = (relu(X[:, 0]) + relu(-X[:, 0]) + relu(2 * X[:, 1]) + relu(X[:, 2])) / 2
    np.testing.assert_allclose(Ensemble(tn.TwoReLU(), 2).predict(X, nets), by_hand, rtol=1e-15)


def test_settings_are_checked():
    for k in (0, MAX_MEMBERS + 1, True, 2.0):
        with pytest.raises(tn.TitanicNNError, match="ensemble must be a whole number"):
            Ensemble(tn.Linear(), k)
    with pytest.raises(tn.TitanicNNError, match="plain models"):
        Ensemble(Ensemble(tn.Linear(), 2), 2)
    with pytest.raises(tn.TitanicNNError, match="list of 3"):
        Ensemble(tn.Linear(), 3).predict(np.ones((1, 2)), [np.ones(2)] * 2)


@pytest.fixture(scope="module")
def nnet3(titanic):
    train, _ = titanic
    return tn.train_model(train, Ensemble(tn.TwoReLU(), 3))


def test_members_are_seeded_trainings(titanic, nnet3):
    train, test = titanic
    single = tn.train_model(train, tn.TwoReLU())
    # member 0 is the plain model of the same seed; the others come from other starts
    np.testing.assert_array_equal(nnet3.params[0], single.params)
    assert not np.allclose(nnet3.params[1], nnet3.params[0])
    assert nnet3.name == "nnet" and nnet3.training["settings"]["member_seeds"] == [0, 1, 2]
    X = nnet3.features.transform(test)
    by_hand = sum(tn.TwoReLU().predict(X, p) for p in nnet3.params) / 3
    np.testing.assert_allclose(nnet3.predict(test), by_hand, rtol=1e-15)
    assert nnet3.predict_survived(test).tolist() == (by_hand > 0.5).astype(int).tolist()
    scored = tn.mse(nnet3.predict_inputs(nnet3.features.transform(train)), nnet3.features.target(train))
    assert 0.1 < scored < 0.15


def test_json_round_trip_and_validation(nnet3, tmp_path):
    path = tmp_path / "nnet.json"
    tn.save_model(nnet3, path)
    data = json.loads(path.read_text())
    assert data["model"] == {"kind": "nnet", "output": "raw", "loss": None, "ensemble": 3}
    back = tn.load_model(path)
    assert back.model == nnet3.model and isinstance(back.model, Ensemble)
    for got, saved in zip(back.params, nnet3.params):
        np.testing.assert_array_equal(got, saved)

    def refused(change, match):
        bad = json.loads(path.read_text())
        change(bad)
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(InvalidModelError, match=match):
            tn.load_model(tmp_path / "bad.json")

    refused(lambda d: d["model"].update(ensemble=0), "model.ensemble is 0, not a number of members from 1 to 64")
    refused(lambda d: d["model"].update(ensemble=MAX_MEMBERS + 1), "not a number of members")
    refused(lambda d: d["model"].update(ensemble=True), "the boolean true, not a number of members")
    refused(lambda d: d["model"].update(ensemble="3"), "the text")
    refused(lambda d: d["params"].pop(), "must list 3 members' parameters")
    refused(lambda d: d["params"][1].pop(), "shapes")
    refused(lambda d: d["params"][2][0].__setitem__(0, "x"), r"params\[2\]\[0\]\[0\] is the text")


def test_a_plain_model_writes_no_ensemble_setting():
    assert "ensemble" not in tn.TwoReLU().get_config()
    assert Ensemble(tn.MatMulNet(hidden=3), 2).get_config()["ensemble"] == 2


@pytest.mark.engines
def test_workbook_of_ensembles_verifies_in_both_engines_and_reads_back(titanic, tmp_path):
    train, test = titanic
    fits = [tn.train_model(train, Ensemble(tn.build_model(kind), 3)) for kind in ("linear", "nnet", "mmult")]
    path = tn.write_workbook(tmp_path / "book.xlsx", fits, train, test, training=50)
    report = tn.verify(path, engines="all")
    assert report.ok and len(report.engines) == 3  # LibreOffice, Gnumeric and HyperFormula
    for engine in report.engines:
        assert engine.cells_checked > 60_000 and engine.max_abs_diff < 1e-12

    read = tn.read_workbook(path)
    for got, fitted in zip(read, fits):
        assert got.name == fitted.name and got.model == fitted.model
        for a, b in zip(got.params, fitted.params):
            np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))

    book = openpyxl.load_workbook(path)
    assert not [name for name in book.sheetnames if name.startswith("train_")]  # no training sheet for an ensemble
    sheet = book["nnet"]
    headers = [c.value for c in sheet[3]]
    preds = [i for i, h in enumerate(headers) if h is not None and str(h).endswith("Preds")]
    assert [headers[i] for i in preds] == ["m1 Preds", "m2 Preds", "m3 Preds", "Preds"]
    letters = [openpyxl.utils.get_column_letter(i + 1) for i in preds]
    assert sheet.cell(4, preds[-1] + 1).value == f"=AVERAGE({letters[0]}4,{letters[1]}4,{letters[2]}4)"
    labels = {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    assert {"m1 Weights 1", "m2 Weights 1", "m3 Weights 1"} <= labels
    about = " ".join(str(c.value) for row in book["about"].iter_rows() for c in row if c.value)
    assert "nnet is an ensemble of 3 members" in about and "AVERAGE of the members' Preds columns" in about
    # the test sheet averages the members too, and the submission follows the averaged prediction
    test_headers = [c.value for c in book["test"][3]]
    assert "nnet Preds" in test_headers and "nnet m3 Preds" in test_headers


def test_cli_ensemble(tmp_path):
    done = run(["fit", "--ensemble", "2", "--restarts", "2", "--out", tmp_path / "out", "--quiet"])
    assert done.code == 0, done.err
    saved = tn.load_model(tmp_path / "out" / "mmult.json")
    assert isinstance(saved.model, Ensemble) and saved.model.k == 2
    book = openpyxl.load_workbook(tmp_path / "out" / "titanic.xlsx", read_only=True)
    assert not [name for name in book.sheetnames if name.startswith("train_")]
    for bad, says in (("0", "0 is outside [1, 64]"), ("65", "65 is outside [1, 64]"), ("two", "'two' is not a whole number")):
        done = run(["fit", "--ensemble", bad])
        assert done.code == 2 and f"argument --ensemble: {says}" in done.err
    done = run(["workbook", "--models", tmp_path / "out" / "nnet.json", "--ensemble", "2", "--out", tmp_path / "x.xlsx"])
    assert done.code == 2 and "leave out --ensemble" in done.err
    done = run(["fit", "--help"])
    assert "--ensemble K" in done.out and "AVERAGE of the members'" in " ".join(done.out.split())


def test_an_ensemble_of_one_is_its_member_and_trainers_train_one_member(titanic):
    train, _ = titanic
    one = tn.train_model(train, Ensemble(tn.TwoReLU(), 1), restarts=2)
    plain = tn.train_model(train, tn.TwoReLU(), restarts=2)
    assert isinstance(one.params, list) and len(one.params) == 1
    np.testing.assert_array_equal(one.params[0], plain.params)
    X, y = plain.features.fit_transform(train)
    with pytest.raises(tn.TitanicNNError, match="has 2 members, each trained on its own: train it with tn.train_model"):
        tn.fit_solver(Ensemble(tn.TwoReLU(), 2), X, y, restarts=1, progress=False)
    with pytest.raises(tn.TitanicNNError, match="has 3 members"):
        tn.fit_gd(Ensemble(tn.Linear(), 3), X, y, epochs=2, restarts=1, progress=False)
