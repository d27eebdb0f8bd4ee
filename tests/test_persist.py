"""Saving and loading fitted models as JSON: exact round trips for every kind, atomic writes, clear errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import titanic_nn as tn
from titanic_nn.training import FORMAT, FORMAT_VERSION

MODELS = {
    "linear": lambda: tn.Linear(),
    "nnet": lambda: tn.TwoReLU(),
    "mmult": lambda: tn.MatMulNet(hidden=3),
    "deeper": lambda: tn.MatMulNet(layers=[3, 2]),
    "linear-head": lambda: tn.MatMulNet(hidden=2, head="linear", output="sigmoid", loss="logloss"),
}


@pytest.fixture(scope="module")
def fits(titanic):
    train, _ = titanic
    out = {name: tn.train_model(train, make(), restarts=1, maxiter=50) for name, make in MODELS.items()}
    out["gd"] = tn.train_model(train, tn.TwoReLU(), method="gd", epochs=30, restarts=2, device="cpu")
    out["mode"] = tn.train_model(train, tn.Linear(), features=tn.Features(missing="mode"), restarts=1)
    out["notebook"] = tn.train_model(train, tn.Linear(output="sigmoid"), features=tn.Features("notebook"), restarts=1, maxiter=50)
    return out


@pytest.mark.parametrize("name", [*MODELS, "gd", "mode", "notebook"])
def test_a_loaded_model_predicts_bit_identical_values(name, fits, titanic, tmp_path):
    train, test = titanic
    fitted = fits[name]
    path = tn.save_model(fitted, tmp_path / "model.json")
    loaded = tn.load_model(path)
    assert isinstance(loaded, tn.FittedModel) and loaded.model == fitted.model and loaded.name == fitted.name
    for frame in (train, test):
        np.testing.assert_array_equal(loaded.predict(frame), fitted.predict(frame))
    np.testing.assert_array_equal(loaded.model.flatten(loaded.params), fitted.model.flatten(fitted.params))
    assert loaded.training == fitted.training
    assert loaded.features.to_dict() == fitted.features.to_dict()
    assert os.listdir(tmp_path) == ["model.json"]  # the temporary file was renamed, none is left


def test_the_json_holds_what_the_issue_lists(fits, tmp_path):
    path = tn.save_model(fits["gd"], tmp_path / "nnet.json")
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and data["format_version"] == FORMAT_VERSION
    assert data["library_version"] == tn.__version__
    assert data["model"] == {"kind": "nnet", "output": "raw", "loss": None}
    assert data["features"]["schema"]["target"] == "Survived" and "divisors" in data["features"]
    assert np.array(data["params"]).shape == (10, 2)
    assert all(isinstance(v, float) for row in data["params"] for v in row)
    assert data["training"]["method"] == "gd" and len(data["training"]["history"]["train"]) == 30


def test_to_dict_from_dict_round_trip_without_a_file(fits):
    fitted = fits["deeper"]
    again = tn.FittedModel.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert [a.tolist() for a in again.params] == [a.tolist() for a in fitted.params]


def test_saving_over_a_file_replaces_it(fits, tmp_path):
    path = tmp_path / "m.json"
    tn.save_model(fits["linear"], path)
    tn.save_model(fits["nnet"], path)
    assert tn.load_model(path).model == tn.TwoReLU()


def _write(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "absent.json", "no such file"),
        (lambda p: p, "is a directory"),
        (lambda p: _write(p, "PassengerId,Survived\n1,0\n"), "is not JSON"),
        (lambda p: _write(p, json.dumps({"hello": 1})), "not a titanic-nn model"),
        (lambda p: _write(p, "[1, 2]"), "not a titanic-nn model"),
        (lambda p: _write(p, json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION + 1, "library_version": "9.0"})), "newer than this titanic-nn reads.*upgrade"),
    ],
)
def test_loading_anything_else_says_what_is_wrong(make, message, tmp_path):
    with pytest.raises(tn.TitanicNNError, match=message):
        tn.load_model(make(tmp_path))


def test_damaged_parameters_are_refused(fits, tmp_path):
    data = fits["nnet"].to_dict()
    data["params"] = data["params"][:-1]
    with pytest.raises(tn.TitanicNNError, match="saved parameters have shapes"):
        tn.load_model(_write(tmp_path, json.dumps(data)))


def test_saving_into_a_missing_folder_says_so(fits, tmp_path):
    with pytest.raises(tn.TitanicNNError, match="no such directory"):
        tn.save_model(fits["linear"], tmp_path / "nowhere" / "m.json")
