"""Every kind of target end to end, on a small hand-checked table per kind and for every model kind (both registries):
the loss and scores by hand, the gradient against torch autograd, the sheets in every engine (training sheets step by
step), the submission's format, the model files and the read-back."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.features import TARGETS
from titanic_nn.nn import MODELS, NUMPY
from titanic_nn.training import autograd_loss_and_grad, loss_and_grad

X6 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
G6 = ["a", "b", "a", "b", "a", "b"]


def _schema(target: object = "y", **settings: object) -> tn.Schema:
    return tn.Schema(
        target=target, id_column="Id", continuous=(tn.Continuous("x", scale="max"),), categorical=(tn.Categorical("g"),),
        **settings,
    )


# Each kind's table: the schema, the six training targets, the model values y they code to (worked by hand: a binary
# target's 1 where it is "yes"; a regression target's value over its largest absolute value, 12; several classes
# one-hot over the levels sorted, Cat, bird, cat, dog: text exactly, upper case first), three predictions and what a
# submission of them writes (a labelled target's own values; the numbers times 12; the level of the largest
# probability, the first of equals; each label's class at 0.5, a column each).
KINDS = {
    "binary": (_schema(positive="yes"), ["yes", "no", "no", "yes", "yes", "no"], [1, 0, 0, 1, 1, 0],
               [0.7, 0.2, -0.1], ["yes", "no", "no"]),
    "regression": (_schema(), [3.0, -8.0, 6.0, 12.0, -2.0, 4.5], [0.25, -8 / 12, 0.5, 1.0, -2 / 12, 0.375],
                   [0.7, 0.2, -0.1], [8.4, 2.4, -1.2]),
    "multiclass": (_schema(), ["cat", "dog", "cat", "bird", "dog", "Cat"],
                   [[0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]],
                   [[0.1, 0.6, 0.2, 0.1], [0.4, 0.1, 0.1, 0.4], [0.2, 0.2, 0.5, 0.1]], ["bird", "Cat", "cat"]),
    "multilabel": (_schema(["y1", "y2"]), [(1, 0), (0, 1), (1, 1), (0, 0), (1, 0), (0, 1)],
                   [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]],
                   [[0.7, 0.2], [0.4, 0.9], [0.5, 0.51]], [[1, 0], [0, 1], [0, 1]]),
}


def _targets(kind: str, values: list) -> dict[str, list]:
    """The target's columns of `values`: one, or a column per label."""
    names = KINDS[kind][0].target_columns
    return {names[0]: list(values)} if len(names) == 1 else {n: [v[j] for v in values] for j, n in enumerate(names)}


def _train(kind: str) -> pd.DataFrame:
    return pd.DataFrame({"Id": range(1, 7), "x": X6, "g": G6, **_targets(kind, KINDS[kind][1])})


def _test() -> pd.DataFrame:
    return pd.DataFrame({"Id": [7, 8, 9], "x": [2.5, 6.0, 0.5], "g": ["b", "a", "a"]})


def test_every_target_kind_has_its_table():
    assert set(KINDS) == set(TARGETS)  # a new kind of target is tested here once it has a table


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_kind_is_inferred_and_coded_by_hand(kind):
    schema, _, coded, _, _ = KINDS[kind]
    features = tn.Features(schema, missing="mode")
    X, y = features.fit_transform(_train(kind))
    assert features.target_.kind == kind  # inferred: 0/1 coded by a positive, numbers, text of 3 or more values
    np.testing.assert_allclose(y, coded, rtol=0, atol=1e-15)
    assert features.feature_names_ == ["x_N", "g_b", "Ones"]
    np.testing.assert_allclose(X[:, 0], np.array(X6) / 6)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_loss_and_the_scores_by_hand(kind):
    schema, values, coded, _, _ = KINDS[kind]
    features = tn.Features(schema, missing="mode")
    X, y = features.fit_transform(_train(kind))
    target = features.target_
    if kind == "multiclass":
        # four classes' logits x/6, g_b, 1, 0 (weights one column per class); softmax and -log p of the row's class
        w = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 0]])
        logits = [[x / 6, float(g == "b"), 1.0, 0.0] for x, g in zip(X6, G6)]
        probs = [[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in logits]
        model = tn.Linear(output="softmax", outputs=4)
        np.testing.assert_allclose(model.predict(X, w), probs, rtol=1e-14)
        want = -sum(math.log(sum(p * t for p, t in zip(row, own))) for row, own in zip(probs, coded)) / 6
        assert model.loss_op.mean(np.array(probs), y) == pytest.approx(want, rel=1e-14)
        assert target.score("logloss", probs, y) == pytest.approx(want, rel=1e-14)
        # the largest logit, the first of equals: rows 1, 3, 5 (g a) cat (1 against x/6 < 1); rows 2 and 4 (g b) bird
        # (g_b 1 ties cat's 1, bird first); row 6 Cat (x/6 = 1 ties both). Right: rows 1 (cat), 3 (cat), 4 (bird), 6 (Cat)
        assert target.score("accuracy", probs, y) == 4 / 6
        return
    if kind == "multilabel":
        # two labels' logits x/6 - 0.5 and g_b - 0.5, each through its sigmoid; a row's loss the sum of both labels'
        w = np.array([[1.0, 0], [0, 1.0], [-0.5, -0.5]])
        logits = [[x / 6 - 0.5, float(g == "b") - 0.5] for x, g in zip(X6, G6)]
        probs = [[1 / (1 + math.exp(-v)) for v in row] for row in logits]
        model = tn.Linear(output="sigmoid", loss="logloss", outputs=2)
        np.testing.assert_allclose(model.predict(X, w), probs, rtol=1e-14)
        want = -sum(t * math.log(p) + (1 - t) * math.log(1 - p) for row, own in zip(probs, coded) for p, t in zip(row, own)) / 6
        assert model.loss_op.mean(np.array(probs), y) == pytest.approx(want, rel=1e-14)
        assert target.score("logloss", probs, y) == pytest.approx(want, rel=1e-14)
        # classes: label 1 is 1 for x > 3 (rows 4-6; row 3's 0.5 is not above 0.5), label 2 for g b (rows 2, 4, 6);
        # against (1,0) (0,1) (1,1) (0,0) (1,0) (0,1): label 1 right on rows 2 and 5, label 2 on rows 1, 2, 5, 6: 6 of 12
        assert target.score("accuracy", probs, y) == 6 / 12
        return
    w = np.array([0.6, -0.3, 0.1])
    pred = [0.6 * x / 6 - 0.3 * (g == "b") + 0.1 for x, g in zip(X6, G6)]
    np.testing.assert_allclose(tn.Linear().predict(X, w), pred, rtol=1e-15)
    mse = sum((p - t) ** 2 for p, t in zip(pred, coded)) / 6
    assert tn.Linear().loss_op.mean(np.array(pred), y) == pytest.approx(mse, rel=1e-14)
    if kind == "binary":
        # pred is 0.2, 0, 0.4, 0.2, 0.6, 0.4: class 1 only on row 5; the target is 1 on rows 1, 4 and 5, so rows 1 and
        # 4 are wrong and 4 of 6 right
        assert target.score("accuracy", pred, y) == 4 / 6
    else:
        errors = [12 * p - v for p, v in zip(pred, values)]
        mean = sum(values) / 6
        assert target.score("rmse", pred, y) == pytest.approx(math.sqrt(sum(e * e for e in errors) / 6), rel=1e-13)
        assert target.score("mae", pred, y) == pytest.approx(sum(abs(e) for e in errors) / 6, rel=1e-13)
        r2 = 1 - sum(e * e for e in errors) / sum((v - mean) ** 2 for v in values)
        assert target.score("r2", pred, y) == pytest.approx(r2, rel=1e-13)


@pytest.mark.parametrize("model_kind", list(MODELS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_gradient_is_autograds(kind, model_kind):
    import torch

    schema = KINDS[kind][0]
    features = tn.Features(schema, missing="mode")
    X, y = features.fit_transform(_train(kind))
    model = features.target_.model_for(tn.build_model(model_kind))  # as train_model gives it: K softmax outputs
    arrays = model.arrays(model.init(X.shape[1], seed=3))
    loss, grads = loss_and_grad(model.program(), model.loss_op, X, y, arrays, NUMPY)
    reference, expected = autograd_loss_and_grad(model, torch.tensor(X), torch.tensor(y), [torch.tensor(a) for a in arrays])
    assert float(loss) == pytest.approx(float(reference), rel=1e-12)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_submission_writes_the_targets_own_values(kind):
    schema, _, _, preds, written = KINDS[kind]
    target = tn.Features(schema, missing="mode").fit(_train(kind)).target_
    got = target.submission(np.array(preds))
    if kind == "regression":
        np.testing.assert_allclose(got, written, rtol=1e-15)
    else:
        assert got.tolist() == written
    names = schema.target_columns
    frame = tn.make_submission([7, 8, 9], got, id_column="Id", target=names[0] if len(names) == 1 else names, rule=target)
    text = tn._submission.submission_csv(frame)
    expected = [repr(float(v)) for v in got] if kind == "regression" else [
        ",".join(map(str, v)) if isinstance(v, list) else v for v in written
    ]
    assert text.splitlines() == [",".join(["Id", *names])] + [f"{i},{v}" for i, v in zip([7, 8, 9], expected)]
    wrong = [1.5, 2.0, 3.0] if kind == "binary" else ["yes", "no", "CAT"]
    with pytest.raises(tn.SubmissionError):  # another kind's values are not this one's
        tn.make_submission([7, 8, 9], np.array([wrong] * len(names), dtype=object).T if len(names) > 1 else wrong,
                           id_column="Id", target=names[0] if len(names) == 1 else names, rule=target)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_model_file_keeps_what_the_target_learned(kind, tmp_path):
    schema = KINDS[kind][0]
    fitted = tn.train_model(_train(kind), tn.Linear(), features=tn.Features(schema, missing="mode"), valid_frac=0)
    loaded = tn.load_model(tn.save_model(fitted, tmp_path / "m.json"))
    assert loaded.features.target_ == fitted.features.target_ and loaded.features.target_.kind == kind
    np.testing.assert_array_equal(loaded.predict_target(_test()), fitted.predict_target(_test()))
    data = fitted.to_dict()
    data["features"]["target"] = {"kind": kind, "scale": -1.0, "negative": 5, "levels": ["a"]}
    with pytest.raises(tn.InvalidModelError, match="saved target state"):
        tn.training.FittedModel.from_dict(data)


@pytest.fixture(scope="module", params=list(KINDS))
def kind_book(request, tmp_path_factory):
    """Every model kind trained on the kind's table (a bigger draw of it), written with test rows and 3-epoch training
    sheets."""
    kind = request.param
    rng = np.random.default_rng(5)
    train = pd.DataFrame({
        "Id": range(1, 41), "x": rng.normal(size=40).round(3), "g": rng.choice(["a", "b", "c"], size=40),
        **_targets(kind, [KINDS[kind][1][i] for i in rng.integers(0, 6, size=40)]),
    })
    test = pd.DataFrame({"Id": range(41, 49), "x": rng.normal(size=8).round(3), "g": rng.choice(["a", "b"], size=8)})
    features = tn.Features(KINDS[kind][0], missing="mode")
    fits = [tn.train_model(train, tn.build_model(m), features=features, valid_frac=0.25, restarts=2) for m in MODELS]
    path = tn.write_workbook(tmp_path_factory.mktemp(kind) / f"{kind}.xlsx", fits, train, test, training=3)
    return kind, path, fits, train, test


@pytest.mark.engines
def test_every_kind_verifies_in_every_engine_and_reads_back(kind_book):
    kind, path, fits, train, test = kind_book
    report = tn.verify(path, engines="all")
    assert report.ok and len(report.engines) == 3, str(report)
    for engine in report.engines:
        assert [t.sheet for t in engine.training] == [f"train_{m}" for m in MODELS]
        assert all(t.ok for t in engine.training)
    for got, written in zip(tn.read_workbook(path), fits):
        assert got.features.target_ == written.features.target_
        np.testing.assert_array_equal(got.model.flatten(got.params), written.model.flatten(written.params))


def test_every_kind_writes_its_scores_and_submission_on_the_sheet(kind_book):
    from openpyxl import load_workbook

    kind, path, fits, _, test = kind_book
    book = load_workbook(path, data_only=True)  # the cached values: Python's
    labels = [c.value for row in book["linear"].iter_rows(min_row=1, max_row=3) for c in row if isinstance(c.value, str)]
    expected = {
        "binary": ["accuracy"], "regression": ["RMSE", "MAE", "R²"], "multiclass": ["accuracy", "log loss"],
        "multilabel": ["accuracy", "log loss"],
    }[kind]
    for label in expected:
        assert f"Train {label}:" in labels and f"Valid {label}:" in labels
    # the submission sheet's cached values are what the submission CSV writes, a column per label
    chosen = next(f for f in fits if f.name == "linear")
    want = chosen.predict_target(test)
    if kind == "multilabel":
        got = [[c.value for c in book["submission"][letter]][1:] for letter in "BC"]
        assert [row[0].value for row in book["submission"].iter_rows(max_row=1)] == ["Id"]
        np.testing.assert_array_equal(np.array(got).T, want)
        return
    column = [c.value for c in book["submission"]["B"]][1:]
    if kind == "regression":
        np.testing.assert_allclose(np.array(column, dtype=float), want, rtol=1e-12)
    else:
        assert column == want.tolist() and set(column) <= set(KINDS[kind][1])


# -- the command line: a table of numbers to predict, typed for you --------------------------------------


def _run(argv: list) -> "tuple[int, str, str]":
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from titanic_nn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    """scikit-learn's diabetes table (regression), its first 120 rows to train and 20 to predict, with an id column."""
    from sklearn.datasets import load_diabetes

    table = load_diabetes(as_frame=True, scaled=False).frame.rename(columns={"target": "progression"})
    table.insert(0, "Id", range(1, len(table) + 1))
    folder = tmp_path_factory.mktemp("diabetes")
    table.iloc[:120].to_csv(folder / "train.csv", index=False)
    table.iloc[120:140].drop(columns="progression").to_csv(folder / "test.csv", index=False)
    return folder


def test_a_table_of_numbers_is_typed_and_predicted_as_numbers(diabetes):
    out = diabetes / "out"
    code, printed, err = _run(["fit", "--train", diabetes / "train.csv", "--test", diabetes / "test.csv",
                               "--target", "progression", "--id-column", "Id", "--restarts", "2", "--sheet-epochs", "2",
                               "--out", out])
    assert code == 0, err
    assert "progression  target      the column to predict (regression)" in printed
    assert "valid RMSE  valid MAE  valid R²" in printed and "best validation RMSE" in printed
    submission = pd.read_csv(out / "submission.csv")
    assert list(submission.columns) == ["Id", "progression"] and submission["Id"].tolist() == list(range(121, 141))
    # the submission is each test row's number, in the target's unit (not the scaled 0..1 the models predict)
    chosen = tn.load_model(out / f"{printed.split('submission: ')[1].split(' ')[0]}.json")
    np.testing.assert_allclose(submission["progression"], chosen.predict_target(pd.read_csv(diabetes / "test.csv")), rtol=1e-15)
    largest = float(pd.read_csv(diabetes / "train.csv")["progression"].abs().max())  # 341 in these rows
    assert 25 < submission["progression"].min() and submission["progression"].max() < largest
    assert chosen.features.target_.kind == "regression" and chosen.features.target_.scale == largest
    # schema.toml reads back to the same run
    again = diabetes / "again"
    code, printed_again, err = _run(["fit", "--train", diabetes / "train.csv", "--test", diabetes / "test.csv",
                                     "--schema", out / "schema.toml", "--restarts", "2", "--sheet-epochs", "2", "--out", again])
    assert code == 0, err
    assert (again / "submission.csv").read_text() == (out / "submission.csv").read_text()
    table = lambda text: [line.rsplit(None, 1)[0] for line in text.split("model ")[1].split("\nsubmission")[0].splitlines()]  # noqa: E731
    assert table(printed_again) == table(printed)  # every score but the seconds


def test_a_regression_target_refuses_a_sigmoid_and_a_binary_task(diabetes):
    code, _, err = _run(["fit", "--train", diabetes / "train.csv", "--target", "progression", "--id-column", "Id",
                         "--task", "binary", "--out", diabetes / "no"])
    assert code == 1 and "target progression must be 0 or 1, but line 2 holds 151" in err and len(err.splitlines()) == 1
    with pytest.raises(tn.DataError, match="output='sigmoid', which stays between 0 and 1"):
        tn.train_model(pd.read_csv(diabetes / "train.csv"), tn.Linear(output="sigmoid", loss="logloss"),
                       features=tn.Features(tn.infer_schema(pd.read_csv(diabetes / "train.csv"), target="progression",
                                                            id_column="Id")[0]))


def _sklearn_tables() -> dict[str, pd.DataFrame]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

    iris = load_iris(as_frame=True).frame
    iris["target"] = [load_iris().target_names[i] for i in iris["target"]]
    return {
        "iris": iris, "diabetes": load_diabetes(as_frame=True, scaled=False).frame,
        "breast cancer": load_breast_cancer(as_frame=True).frame,
    }


def test_scikit_learns_tables_are_typed_as_the_readme_shows():
    """The typed-for-you path on the three tables: every column continuous, each table's kind of target, and the
    README's printed tables exactly what the run prints (breast cancer's 30 rows shortened there)."""
    from pathlib import Path

    from titanic_nn.cli._messages import choices_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    kinds = {"iris": "multiclass", "diabetes": "regression", "breast cancer": "binary"}
    for name, table in _sklearn_tables().items():
        schema, choices = tn.infer_schema(table, target="target")
        features = tn.Features(schema)
        features.fit(table)
        assert features.target_.kind == kinds[name]
        assert [c.column for c in schema.continuous] == [c for c in table.columns if c != "target"], name
        printed = ["    " + line for line in choices_table(choices).splitlines()]
        if name == "breast cancer":
            printed = printed[:2] + printed[-2:]  # the README's shortened table
        shown = "\n".join(printed)
        assert (shown if name != "breast cancer" else "\n".join(printed[:2])) in readme, name
        assert "\n".join(printed[-2:]) in readme, name


def test_several_labels_on_the_command_line(tmp_path):
    """--target A,B,C: several 0/1 columns, each a sigmoid output; the submission writes every column, and predict
    and import write the same."""
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=120, n_features=4, n_classes=3, random_state=0)
    table = pd.DataFrame(X, columns=["f0", "f1", "f2", "f3"]).assign(action=Y[:, 0], comedy=Y[:, 1], drama=Y[:, 2])
    table.insert(0, "Id", range(1, 121))
    table.iloc[:100].to_csv(tmp_path / "train.csv", index=False)
    table.iloc[100:, :5].to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "out"
    code, printed, err = _run(["fit", "--train", tmp_path / "train.csv", "--test", tmp_path / "test.csv",
                               "--target", "action,comedy,drama", "--id-column", "Id", "--restarts", "2",
                               "--sheet-epochs", "2", "--out", out])
    assert code == 0, err
    assert "drama   target      the column to predict (multilabel)" in printed
    submission = (out / "submission.csv").read_text().splitlines()
    assert submission[0] == "Id,action,comedy,drama" and len(submission) == 21
    assert all(set(line.split(",")[1:]) <= {"0", "1"} for line in submission[1:])
    chosen = printed.split("submission: ")[1].split(" ")[0]
    code, _, err = _run(["predict", out / f"{chosen}.json", "--input", tmp_path / "test.csv", "--out", tmp_path / "p.csv"])
    assert code == 0, err
    assert (tmp_path / "p.csv").read_text().splitlines() == submission
    model = tn.load_model(out / f"{chosen}.json")
    assert model.model.outputs == 3 and model.model.output == "sigmoid" and model.model.loss_name == "logloss"


@pytest.mark.engines
@pytest.mark.parametrize("kind", ["multiclass", "multilabel"])
def test_an_ensembles_members_average_each_output_in_every_engine(kind, tmp_path):
    """An ensemble of a model of K outputs: the sheet averages the members' predictions output by output."""
    rng = np.random.default_rng(7)
    train = pd.DataFrame({
        "Id": range(1, 31), "x": rng.normal(size=30).round(3), "g": rng.choice(["a", "b"], size=30),
        **_targets(kind, [KINDS[kind][1][i] for i in rng.integers(0, 6, size=30)]),
    })
    fitted = tn.train_model(train, tn.Ensemble(tn.TwoReLU(), 2), features=tn.Features(KINDS[kind][0]), restarts=2)
    assert fitted.model.outputs == fitted.features.target_.outputs > 1
    path = tn.write_workbook(tmp_path / "ensemble.xlsx", [fitted], train)
    report = tn.verify(path, engines="all")
    assert report.ok and len(report.engines) == 3, str(report)


def test_a_class_training_never_held_is_refused_for_the_target():
    features = tn.Features(KINDS["multiclass"][0], missing="mode").fit(_train("multiclass"))
    frame = _test().assign(y=["cat", "fish", "dog"])
    with pytest.raises(tn.DataError, match="holds 'fish' at .*, a class the training rows never held"):
        features.target(frame)
    with pytest.warns(tn.UnseenLevelWarning, match="level"):  # an input's unseen level: all-zero dummies, and a word
        assert features.transform(frame.assign(g=["z", "a", "b"])).shape == (3, 3)


@pytest.mark.engines
def test_fifty_classes_choose_their_level_in_every_engine(tmp_path):
    """LibreOffice takes 30 arguments in a call: the class of 50 levels is a CHOOSE nested by 29."""
    train = pd.DataFrame({"x": np.arange(100) % 7 / 7, "y": [f"L{i % 50:02d}" for i in range(100)]})
    schema = tn.Schema(target="y", id_column=None, continuous=(tn.Continuous("x"),), categorical=())
    fitted = tn.train_model(train, tn.Linear(), features=tn.Features(schema), valid_frac=0)
    assert fitted.model.outputs == 50
    path = tn.write_workbook(tmp_path / "fifty.xlsx", [fitted], train)
    report = tn.verify(path, engines="all")
    assert report.ok and len(report.engines) == 3, str(report)
