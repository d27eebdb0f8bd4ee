"""The `titanic-nn` command line: every command in-process, a few as real subprocesses, and every bad input."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import titanic_nn as tn
from titanic_nn.cli import main
from titanic_nn.cli import results_table
from titanic_nn.cli import plotting_available
from titanic_nn.lesson import LESSON_LINEAR_COEFFICIENTS

ROOT = Path(__file__).resolve().parents[1]
# Small settings where the point is the plumbing, not the training quality.
FAST = ["--restarts", "1"]
FAST_GD = ["--method", "gd", "--epochs", "30", "--restarts", "1"]
MODEL_FILES = ["linear.json", "mmult.json", "nnet.json"]
SUBMISSION_LINE = re.compile(r"^\d+,[01]$")


def run(argv: list[str]) -> SimpleNamespace:
    """main(argv) in-process, with its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


def run_subprocess(argv: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "titanic_nn", *map(str, argv)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
    )


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The results table's rows by model name (the line after the header, three of them)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["model", "method"])
    assert lines[start].split() == ["model", "method", "train", "loss", "valid", "loss", "valid", "accuracy", "seconds"]
    return {line.split()[0]: line.split()[1:] for line in lines[start + 1 : start + 4]}


def assert_kaggle_submission(path: Path, test: pd.DataFrame) -> list[int]:
    """Exactly `PassengerId,Survived`, one integer 0/1 row per test row in test order; returns Survived."""
    lines = path.read_text().splitlines()
    assert lines[0] == "PassengerId,Survived"
    assert len(lines) == 1 + len(test) == 419
    assert all(SUBMISSION_LINE.match(line) for line in lines[1:])
    ids = [int(line.split(",")[0]) for line in lines[1:]]
    assert ids == test["PassengerId"].tolist()
    return [int(line.split(",")[1]) for line in lines[1:]]


def snapshot(directory: Path) -> dict[str, str]:
    """Every path under `directory` with a hash of its bytes (directories as "dir")."""
    result = {}
    for path in sorted(directory.rglob("*")):
        key = str(path.relative_to(directory))
        result[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return result


# -- fit, end to end --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fit_run(tmp_path_factory):
    """`titanic-nn fit` on the bundled data with the solver, one start per model."""
    out = tmp_path_factory.mktemp("fit") / "out"
    started = time.perf_counter()
    result = run(["fit", "--out", out, *FAST])
    result.seconds = time.perf_counter() - started
    result.dir = out
    return result


def test_one_program_trains_once_and_each_model_holds_what_its_own_training_gives(fit_run):
    """nnet and mmult are one program (MatMul, ReLU, SumUnits) with the same starts: fit trains it once, and mmult's
    parameters are exactly those tn.train_model gives mmult on its own."""
    assert "training mmult (solver): the same program and starts as nnet" in fit_run.out
    train, _ = tn.load_titanic()
    alone = {
        name: tn.train_model(train, model, method="solver", restarts=1)
        for name, model in (("nnet", tn.TwoReLU()), ("mmult", tn.MatMulNet(hidden=2)))
    }
    for name, fitted in alone.items():
        saved = tn.load_model(fit_run.dir / f"{name}.json")
        assert [a.tolist() for a in saved.model.arrays(saved.params)] == [a.tolist() for a in fitted.model.arrays(fitted.params)]
        assert saved.training["train_loss"] == fitted.training["train_loss"]
    linear = tn.load_model(fit_run.dir / "linear.json")
    assert "the same program" not in fit_run.out.split("training linear")[1].split("\n")[0]  # linear is another program
    assert linear.training["train_loss"] == tn.train_model(train, tn.Linear(), restarts=1).training["train_loss"]


def test_fit_writes_the_workbook_the_submission_and_one_json_per_model(fit_run):
    assert fit_run.code == 0, fit_run.err
    assert sorted(p.name for p in fit_run.dir.iterdir()) == sorted(["titanic.xlsx", "submission.csv", *MODEL_FILES])
    assert (fit_run.dir / "titanic.xlsx").read_bytes()[:2] == b"PK"  # a zip, as every .xlsx is


def test_fit_prints_the_results_table(fit_run):
    rows = table_rows(fit_run.out)
    assert list(rows) == ["linear", "nnet", "mmult"]
    for name, (method, train_loss, valid_loss, valid_accuracy, seconds) in rows.items():
        assert method == "solver"
        # the lesson's mean squared errors: about 0.14 for linear, lower for the nets on training rows
        assert 0.09 < float(train_loss) < 0.2, name
        assert 0.09 < float(valid_loss) < 0.25, name
        assert 0.7 < float(valid_accuracy) < 0.92, name
        assert float(seconds) >= 0
    assert "loss.png: skipped; the solver records no loss per epoch" in fit_run.out


def test_fit_submission_is_what_kaggle_accepts_from_the_best_model(fit_run, titanic):
    _, test = titanic
    survived = assert_kaggle_submission(fit_run.dir / "submission.csv", test)
    rows = table_rows(fit_run.out)
    best = max(rows, key=lambda name: float(rows[name][3]))  # the first of equals, as fit picks
    assert f"submission: {best} (best validation accuracy), 418 rows, {sum(survived)} predicted Survived=1" in fit_run.out
    fitted = tn.load_model(fit_run.dir / f"{best}.json")
    assert survived == fitted.predict_survived(test).tolist()
    assert 100 < sum(survived) < 250  # most of the 418 die, as in the training data


def test_fit_saved_models_reload_with_their_training_record(fit_run, titanic):
    train, _ = titanic
    rows = table_rows(fit_run.out)
    for name in ["linear", "nnet", "mmult"]:
        fitted = tn.load_model(fit_run.dir / f"{name}.json")
        assert fitted.name == name and fitted.model.kind == name
        assert fitted.training["train_loss"] == pytest.approx(float(rows[name][1]), abs=5e-6)


def test_fit_model_option_chooses_the_submission(tmp_path, titanic):
    _, test = titanic
    result = run(["fit", "--out", tmp_path, "--model", "linear", "--quiet", *FAST])
    assert result.code == 0, result.err
    survived = assert_kaggle_submission(tmp_path / "submission.csv", test)
    linear = tn.load_model(tmp_path / "linear.json")
    assert survived == linear.predict_survived(test).tolist()
    # --quiet: the table and nothing else, no progress
    assert result.err == ""
    assert len(result.out.splitlines()) == 4


def test_fit_with_gradient_descent(tmp_path):
    result = run(["fit", "--out", tmp_path, "--hidden", "3", "--output", "sigmoid", "--seed", "1", *FAST_GD])
    assert result.code == 0, result.err
    rows = table_rows(result.out)
    assert [row[0] for row in rows.values()] == ["gd", "gd", "gd"]
    mmult = tn.load_model(tmp_path / "mmult.json")
    assert mmult.model.hidden == 3 and mmult.model.output == "sigmoid"
    assert len(mmult.training["history"]["train"]) == 30
    # the progress of a run whose stderr is not a terminal: plain lines, no carriage returns
    assert "gd epochs 30/30" in result.err and "\r" not in result.err
    if plotting_available():
        assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert "loss.png: skipped; no plotting library is installed" in result.out
        assert not (tmp_path / "loss.png").exists()


def test_fit_layers_and_the_notebook_preset(tmp_path):
    result = run(["fit", "--out", tmp_path, "--layers", "3,2", "--preset", "notebook", "--quiet", *FAST_GD])
    assert result.code == 0, result.err
    mmult = tn.load_model(tmp_path / "mmult.json")
    assert mmult.model.layers == [3, 2]
    assert mmult.features.missing_ == "mode"
    assert "Sex_female" in mmult.features.feature_names_


def test_an_interrupted_fit_leaves_no_output(tmp_path, monkeypatch):
    def interrupted_workbook(path, *args, **kwargs):
        Path(path).write_bytes(b"PK half a workbook")
        raise KeyboardInterrupt

    monkeypatch.setattr(tn, "write_workbook", interrupted_workbook)
    monkeypatch.chdir(tmp_path)
    result = run(["fit", "--out", "out", *FAST_GD[:-2], "--epochs", "2"])
    assert result.code == 130
    assert result.err.splitlines()[-1] == "titanic-nn: interrupted; no output was written and no temporary file was left"
    assert list(tmp_path.iterdir()) == []


def test_fit_into_an_existing_directory_replaces_only_its_outputs(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "submission.csv").write_text("old")
    result = run(["fit", "--out", tmp_path, "--quiet", *FAST_GD])
    assert result.code == 0, result.err
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "submission.csv").read_text().startswith("PassengerId,Survived\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_fit_with_weight_decay_and_the_one_cycle_schedule(tmp_path, titanic):
    """`fit --wd 0.01 --schedule one-cycle --method gd`: the models train as train_model does with those settings, their
    files record them, and the workbook's training sheets run the same schedule and decay (checked by verify)."""
    train, _ = titanic
    result = run([
        "fit", "--out", tmp_path, "--quiet", "--wd", "0.01", "--schedule", "one-cycle", "--sheet-epochs", "8", *FAST_GD,
    ])
    assert result.code == 0, result.err
    nnet = tn.load_model(tmp_path / "nnet.json")
    settings = nnet.training["settings"]
    assert (settings["wd"], settings["schedule"], settings["schedule_settings"]["div"]) == (0.01, "one-cycle", 25.0)
    expected = tn.train_model(
        train, tn.TwoReLU(), method="gd", epochs=30, restarts=1, wd=0.01, schedule="one-cycle", device="cpu"
    )
    np.testing.assert_allclose(nnet.params, expected.params, rtol=1e-6, atol=1e-7)
    plain = tn.train_model(train, tn.TwoReLU(), method="gd", epochs=30, restarts=1, device="cpu")
    assert np.abs(plain.params - expected.params).max() > 1e-4  # the settings changed the training
    from titanic_nn.workbook import read_contents, training_layouts

    (book,) = tmp_path.glob("*.xlsx")
    contents = read_contents(book)
    layouts = dict((f.name, layout) for f, layout in training_layouts(contents.description, contents.fits, len(contents.train)))
    assert layouts["nnet"].descent.wd == 0.01 and layouts["nnet"].descent.schedule.name == "one-cycle"
    assert set(layouts["nnet"].schedule_cols) == {"rate", "momentum"}  # Adam's beta1 follows the cycle


# -- the other commands -------------------------------------------------------------------------------


def test_predict_reproduces_the_fit_submission(fit_run, tmp_path):
    best = re.search(r"submission: (\w+)", fit_run.out).group(1)
    result = run(["predict", fit_run.dir / f"{best}.json", "--out", tmp_path / "s.csv"])
    assert result.code == 0, result.err
    assert (tmp_path / "s.csv").read_bytes() == (fit_run.dir / "submission.csv").read_bytes()
    assert re.match(rf"wrote .*s\.csv: 418 rows, \d+ predicted Survived=1 \({best}\)", result.out)


def test_predict_keeps_input_order_and_fills_blanks(fit_run, tmp_path, titanic):
    _, test = titanic
    shuffled = test.sample(frac=1.0, random_state=3)
    shuffled.loc[shuffled.index[:5], "Age"] = np.nan
    shuffled.to_csv(tmp_path / "shuffled.csv", index=False)
    result = run(["predict", fit_run.dir / "nnet.json", "--input", tmp_path / "shuffled.csv", "--out", tmp_path / "s.csv"])
    assert result.code == 0, result.err
    written = pd.read_csv(tmp_path / "s.csv")
    assert written["PassengerId"].tolist() == shuffled["PassengerId"].tolist()
    assert written["Survived"].dtype == np.int64
    assert written["Survived"].tolist() == tn.load_model(fit_run.dir / "nnet.json").predict_survived(shuffled).tolist()


def test_workbook_from_saved_models_writes_only_the_workbook(fit_run, tmp_path):
    models = [fit_run.dir / name for name in MODEL_FILES]
    result = run(["workbook", "--models", *models, "--out", tmp_path / "book.xlsx"])
    assert result.code == 0, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
    books = {f.name: f for f in tn.read_workbook(tmp_path / "book.xlsx")}
    for name in MODEL_FILES:
        saved = tn.load_model(fit_run.dir / name)
        np.testing.assert_allclose(
            saved.model.flatten(saved.params), books[saved.name].model.flatten(books[saved.name].params), rtol=1e-14
        )


@pytest.fixture(scope="module")
def small_titanic(tmp_path_factory, titanic):
    """The first 80 training and 20 test rows as CSV files, for workbooks LibreOffice checks quickly."""
    train, test = titanic
    directory = tmp_path_factory.mktemp("small")
    train.head(80).to_csv(directory / "train.csv", index=False)
    test.head(20).to_csv(directory / "test.csv", index=False)
    return directory


def test_workbook_trains_when_given_no_models(tmp_path, small_titanic):
    result = run([
        "workbook", "--train", small_titanic / "train.csv", "--test", small_titanic / "test.csv",
        "--out", tmp_path / "sub" / "book.xlsx", "--quiet", *FAST_GD,
    ])
    assert result.code == 0, result.err
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["book.xlsx"]
    assert list(table_rows(result.out)) == ["linear", "nnet", "mmult"]
    assert [f.name for f in tn.read_workbook(tmp_path / "sub" / "book.xlsx")] == ["linear", "nnet", "mmult"]


def test_import_reads_the_workbook_back(fit_run, tmp_path, titanic):
    _, test = titanic
    result = run(["import", fit_run.dir / "titanic.xlsx", "--out", tmp_path, "--model", "nnet"])
    assert result.code == 0, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["submission.csv", *MODEL_FILES])
    survived = assert_kaggle_submission(tmp_path / "submission.csv", test)
    original = tn.load_model(fit_run.dir / "nnet.json")
    assert survived == original.predict_survived(test).tolist()
    imported = tn.load_model(tmp_path / "nnet.json")
    np.testing.assert_allclose(imported.model.flatten(imported.params), original.model.flatten(original.params), rtol=1e-14)


def test_import_takes_parameters_re_solved_in_the_workbook(fit_run, tmp_path, titanic):
    """Parameters typed over in the sheet (as Excel's Solver would) come back in the JSON and the submission."""
    import openpyxl

    _, test = titanic
    linear = tn.load_model(fit_run.dir / "linear.json")
    book = openpyxl.load_workbook(fit_run.dir / "titanic.xlsx")
    sheet = book["linear"]
    found = {}
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, float) and cell.value in linear.params.tolist():
                found[linear.params.tolist().index(cell.value)] = cell
    assert sorted(found) == list(range(10))  # every weight sits in one cell
    resolved = LESSON_LINEAR_COEFFICIENTS

    for index, cell in found.items():
        cell.value = float(resolved[index])
    book.save(tmp_path / "resolved.xlsx")
    result = run(["import", tmp_path / "resolved.xlsx", "--out", tmp_path / "out", "--model", "linear"])
    assert result.code == 0, result.err
    imported = tn.load_model(tmp_path / "out" / "linear.json")
    np.testing.assert_allclose(imported.params, resolved, rtol=1e-15)  # openpyxl writes 16 digits
    survived = assert_kaggle_submission(tmp_path / "out" / "submission.csv", test)
    expected = (imported.features.transform(test) @ imported.params > 0.5).astype(int)
    assert survived == expected.tolist()
    assert "submission: linear (--model), 418 rows" in result.out


def _put_params(book_path: Path, fitted, params, saved_as: Path) -> None:
    """Write `params` into the parameter cells of `fitted`'s sheet, as Excel's Solver would, and save."""
    import openpyxl
    from titanic_nn.excel import column_letter
    from titanic_nn.workbook import model_layout

    _, blocks, _ = model_layout(fitted.features, fitted.model, 712)
    book = openpyxl.load_workbook(book_path)
    sheet = book[fitted.name]
    for block, array in zip(blocks, fitted.model.arrays(params)):
        grid = block.grid(array)
        for i in range(grid.shape[0]):
            for k in range(grid.shape[1]):
                sheet[f"{column_letter(block.left + k)}{block.top + i}"] = float(grid[i, k])
    book.save(saved_as)


def test_import_recomputes_the_scores_and_submits_the_best_sheet_as_it_stands(fit_run, tmp_path, titanic):
    """nnet re-solved in the sheet beats linear on the validation rows now: import says so and submits nnet."""
    train, test = titanic
    nnet = tn.load_model(fit_run.dir / "nnet.json")
    rows = table_rows(fit_run.out)
    assert max(rows, key=lambda name: float(rows[name][3])) == "linear"  # at one start, linear wins
    X, y = nnet.features.transform(nnet.features.training_rows(train)), nnet.features.target(nnet.features.training_rows(train))
    valid = np.zeros(len(X), dtype=bool)
    valid[nnet.training["split"]["valid_rows"]] = True
    # a better local minimum on the training rows alone, as re-running Solver in the sheet finds
    resolved = tn.fit_solver(nnet.model, X[~valid], y[~valid], restarts=20, progress=False).params
    _put_params(fit_run.dir / "titanic.xlsx", nnet, resolved, tmp_path / "resolved.xlsx")

    result = run(["import", tmp_path / "resolved.xlsx", "--out", tmp_path / "out"])
    assert result.code == 0, result.err
    now = table_rows(result.out)
    expected_train = tn.mse(nnet.model.predict(X[~valid], resolved), y[~valid])
    expected_valid = tn.mse(nnet.model.predict(X[valid], resolved), y[valid])
    assert now["nnet"][0] == "import"
    assert float(now["nnet"][1]) == pytest.approx(expected_train, abs=5e-6)  # not the stale 0.131 of the fit
    assert float(now["nnet"][2]) == pytest.approx(expected_valid, abs=5e-6)
    assert now["linear"][1:4] == rows["linear"][1:4]  # untouched sheets score as they did
    assert float(now["nnet"][3]) > float(now["linear"][3])
    assert "submission: nnet (best validation accuracy; scored with the parameters and Valid marks the sheets hold now)" in result.out
    imported = tn.load_model(tmp_path / "out" / "nnet.json")
    assert imported.training["method"] == "import" and imported.training["trained_by"] == "solver"
    assert imported.training["train_loss"] == pytest.approx(expected_train, rel=1e-12)
    assert "history" not in imported.training and "start_losses" not in imported.training
    survived = assert_kaggle_submission(tmp_path / "out" / "submission.csv", test)
    assert survived == (nnet.model.predict(nnet.features.transform(test), resolved) > 0.5).astype(int).tolist()


def test_import_help_says_what_the_defaults_are():
    text = " ".join(run(["import", "--help"]).out.split())
    assert "(default: the workbook's own test rows)" in text
    assert "(default: the best validation score with the parameters and Valid marks the sheets hold now;" in text


def test_import_names_the_models_of_the_workbook(fit_run, tmp_path):
    result = run(["import", fit_run.dir / "titanic.xlsx", "--out", tmp_path, "--model", "forest"])
    assert result.code == 2
    assert "--model forest: the workbook's models are linear, nnet, mmult" in result.err
    assert list(tmp_path.iterdir()) == []


def test_verify_exits_1_on_a_mismatch(fit_run, monkeypatch):
    from titanic_nn.engines import EngineReport

    report = tn.VerifyReport(Path("book.xlsx"), [
        EngineReport("libreoffice", Path("book.xlsx"), cells_checked=100, max_abs_diff=1e-15),
        EngineReport("gnumeric", Path("book.xlsx"), cells_checked=100, mismatches=2, max_abs_diff=0.5,
                     max_rel_diff=1.0, first_mismatch="nnet!T5: Python 0.4, sheet 0.9"),
    ])
    monkeypatch.setattr(tn, "verify", lambda path, engines=None, timeout=None: report)
    book = fit_run.dir / "titanic.xlsx"
    result = run(["verify", book])
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err == (
        f"titanic-nn: error: Gnumeric disagrees with Python on 2 cell(s) of {book}, first nnet!T5: Python 0.4, sheet 0.9\n"
    )
    assert result.out.splitlines() == [
        f"ok: {book}: LibreOffice: all 100 computed cells agree with Python (largest difference 1e-15)",
        f"{book}: Gnumeric: 2 of 100 computed cells disagree",
    ]


@pytest.mark.engines
@pytest.mark.parametrize("engine", ["libreoffice", "gnumeric", "hyperformula", "all"])
def test_verify_a_small_workbook_in_each_engine(tmp_path, small_titanic, engine):
    made = run([
        "fit", "--train", small_titanic / "train.csv", "--test", small_titanic / "test.csv", "--out", tmp_path, "--quiet",
        *FAST_GD,
    ])
    assert made.code == 0, made.err
    (tmp_path / "train.xlsx").rename(tmp_path / "small.xlsx")  # named after the training CSV
    result = run(["verify", "--engine", engine, tmp_path / "small.xlsx"])
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert all(line.startswith(f"ok: {tmp_path / 'small.xlsx'}: ") for line in lines)
    engines = [line for line in lines if "computed cells agree with Python" in line]
    assert len(engines) == (3 if engine == "all" else 1)
    # and each engine checked every step of the three training sheets
    steps = [line for line in lines if "cells of its 300 steps agree with Python's step" in line]
    assert len(steps) == 3 * len(engines) and all("the whole trajectory agrees" in line for line in steps)


# -- any tabular CSV --------------------------------------------------------------------------------


def loans(rows: int, seed: int) -> pd.DataFrame:
    """A synthetic 0/1 task: default is likely for grade C and low incomes."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(["A", "B", "C"], size=rows)
    income = np.round(rng.lognormal(10, 0.6, size=rows))
    age = rng.integers(18, 70, size=rows)
    score = (grade == "C") * 1.2 - np.log10(income + 1) + 4.2 + rng.normal(0, 0.3, size=rows)
    return pd.DataFrame(
        {"LoanId": np.arange(1000, 1000 + rows), "Grade": grade, "Income": income, "Age": age, "Default": (score > 0.4).astype(int)}
    )


@pytest.fixture
def loan_files(tmp_path):
    loans(300, 1).to_csv(tmp_path / "loans.csv", index=False)
    new = loans(40, 2).drop(columns="Default")
    new.to_csv(tmp_path / "new.csv", index=False)
    return tmp_path, new


def test_fit_on_another_dataset_with_an_id_column(loan_files):
    directory, new = loan_files
    result = run([
        "fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", "--target", "Default",
        "--id-column", "LoanId", "--categorical", "Grade", "--continuous", "Age", "--log", "Income",
        "--out", directory / "out", "--quiet", *FAST_GD,
    ])
    assert result.code == 0, result.err
    lines = (directory / "out" / "submission.csv").read_text().splitlines()
    assert lines[0] == "LoanId,Default"
    assert [int(line.split(",")[0]) for line in lines[1:]] == new["LoanId"].tolist()
    assert all(line.split(",")[1] in ("0", "1") for line in lines[1:])
    linear = tn.load_model(directory / "out" / "linear.json")
    assert linear.features.feature_names_ == ["Age_N", "log_Income", "Grade_B", "Grade_C", "Ones"]


def test_fit_on_another_dataset_without_an_id_numbers_the_rows(loan_files):
    directory, new = loan_files
    new.drop(columns="LoanId").to_csv(directory / "noid.csv", index=False)
    result = run([
        "fit", "--train", directory / "loans.csv", "--test", directory / "noid.csv", "--target", "Default",
        "--categorical", "Grade", "--log", "Income", "--out", directory / "out", "--quiet", *FAST_GD,
    ])
    assert result.code == 0, result.err
    lines = (directory / "out" / "submission.csv").read_text().splitlines()
    assert lines[0] == "Row,Default"
    assert [line.split(",")[0] for line in lines[1:]] == [str(i) for i in range(1, 41)]


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_fit_with_a_schema_file(loan_files, suffix):
    directory, new = loan_files
    schema = tn.Schema(
        target="Default", id_column="LoanId", continuous=(tn.Continuous("Income", log="ln", scale="max"),),
        categorical=(tn.Categorical("Grade", levels=("C",), names=("GradeC",)),),
    )
    if suffix == ".json":
        import json

        (directory / "schema.json").write_text(json.dumps(schema.to_dict()))
    else:
        (directory / "schema.toml").write_text(
            'target = "Default"\nid_column = "LoanId"\n'
            '[[continuous]]\ncolumn = "Income"\nlog = "ln"\nscale = "max"\n'
            '[[categorical]]\ncolumn = "Grade"\nlevels = ["C"]\nnames = ["GradeC"]\n'
        )
    result = run([
        "fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", "--schema", directory / f"schema{suffix}",
        "--out", directory / "out", "--quiet", *FAST_GD,
    ])
    assert result.code == 0, result.err
    assert (directory / "out" / "submission.csv").read_text().startswith("LoanId,Default\n")
    assert tn.load_model(directory / "out" / "nnet.json").features.feature_names_ == ["ln_Income_N", "GradeC", "Ones"]


def test_fit_on_another_dataset_without_a_test_file_skips_the_submission(loan_files):
    directory, _ = loan_files
    result = run([
        "fit", "--train", directory / "loans.csv", "--target", "Default", "--continuous", "Age",
        "--out", directory / "out", *FAST_GD,
    ])
    assert result.code == 0, result.err
    assert "submission: skipped; give --test" in result.out
    plot = ["loss.png"] if plotting_available() else []  # a gd run draws it where matplotlib is installed
    # the columns not named (Grade, Income; LoanId, row numbers, left out) are typed, and the schema written
    assert sorted(p.name for p in (directory / "out").iterdir()) == sorted(["loans.xlsx", "schema.toml", *MODEL_FILES, *plot])


# -- help, version, the bare command, --debug ---------------------------------------------------------


@pytest.mark.parametrize("command", ["fit", "lr-find", "predict", "workbook", "verify", "import"])
def test_every_command_has_help_with_examples(command):
    result = run([command, "--help"])
    assert result.code == 0
    assert f"usage: titanic-nn {command}" in result.out
    assert "examples:" in result.out and f"titanic-nn {command}" in result.out.split("examples:")[1]


def test_top_level_help_and_version():
    result = run(["--help"])
    assert result.code == 0
    for command in ["fit", "lr-find", "predict", "workbook", "verify", "import"]:
        assert re.search(rf"^\s+{command}\s", result.out, re.MULTILINE)
    assert run(["--version"]).out == f"titanic-nn {tn.__version__}\n"


def test_no_command_is_a_usage_error():
    result = run([])
    assert result.code == 2
    assert result.err == "titanic-nn: error: choose a command, e.g. `titanic-nn fit`; see `titanic-nn --help`\n"


def test_debug_shows_the_exception(tmp_path):
    with pytest.raises(tn.DataError, match="no such file"):
        main(["fit", "--train", str(tmp_path / "nope.csv"), "--debug"])
    with pytest.raises(tn.DataError, match="no such file"):
        main(["--debug", "fit", "--train", str(tmp_path / "nope.csv")])


def test_results_table_aligns_columns():
    fits = [
        SimpleNamespace(name="linear", training={"method": "solver", "train_loss": 0.1402, "valid_loss": 0.15, "valid_accuracy": 0.8, "seconds": 0.25}),
        SimpleNamespace(name="mmult", training={"method": "gd", "train_loss": 0.12, "valid_loss": None, "valid_accuracy": 0.825, "seconds": 12.5}),
    ]
    assert results_table(fits).splitlines() == [
        "model   method  train loss  valid loss  valid accuracy  seconds",
        "linear  solver     0.14020     0.15000          0.8000     0.25",
        "mmult   gd         0.12000           -          0.8250    12.50",
    ]


# -- every bad input: one line on stderr, the right exit code, nothing left behind ------------------------


@pytest.fixture
def bad_inputs(tmp_path, titanic):
    """A directory of broken inputs next to good ones; returns it (every case runs inside it)."""
    return make_bad_inputs(tmp_path, titanic)


def make_bad_inputs(tmp_path, titanic):
    """Write BAD_INPUTS' files into `tmp_path` (tests/test_hostile.py runs the same cases); returns it."""
    train, test = titanic
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    header = ",".join(train.columns)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text(header + "\n")
    (tmp_path / "binary.csv").write_bytes(b"PK\x03\x04\x00\x00\x14\x00" * 20)
    train.drop(columns="Age").to_csv(tmp_path / "no_age.csv", index=False)
    text_age = train.astype({"Age": object})
    text_age.loc[2, "Age"] = "old"
    text_age.to_csv(tmp_path / "text_age.csv", index=False)
    target_two = train.copy()
    target_two.loc[1, "Survived"] = 2
    target_two.to_csv(tmp_path / "target_two.csv", index=False)
    target_blank = train.astype({"Survived": float})
    target_blank.loc[3, "Survived"] = np.nan
    target_blank.to_csv(tmp_path / "target_blank.csv", index=False)
    test.drop(columns="PassengerId").to_csv(tmp_path / "test_no_id.csv", index=False)
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("not a directory")
    (tmp_path / "bad_model.json").write_text("{not json")
    features = tn.Features()
    X, y = features.fit_transform(train)

    tn.save_model(tn.FittedModel(features, tn.Linear(), np.linalg.lstsq(X, y, rcond=None)[0]), tmp_path / "model.json")
    return tmp_path


BAD_INPUTS = [
    # (case, argv, exit code, the words the one line must hold)
    ("missing train file", ["fit", "--train", "nope.csv"], 1, "nope.csv: no such file"),
    ("missing test file", ["fit", "--test", "nope.csv"], 1, "nope.csv: no such file"),
    ("train is a directory", ["fit", "--train", "folder"], 1, "folder: is a directory"),
    ("unreadable (binary) train", ["fit", "--train", "binary.csv"], 1, "binary.csv: is a binary file"),
    ("empty csv", ["fit", "--train", "empty.csv"], 1, "empty.csv: the file is empty"),
    ("header-only csv", ["fit", "--train", "header.csv"], 1, "header.csv: has a header but no data rows"),
    ("missing column", ["fit", "--train", "no_age.csv"], 1, "no_age.csv: missing column Age"),
    ("missing id column in test", ["fit", "--test", "test_no_id.csv"], 1, "test_no_id.csv: missing column PassengerId"),
    ("non-numeric value", ["fit", "--train", "text_age.csv"], 1, "column Age must be numeric, but line 4 holds 'old'"),
    # numbers of three values are a regression target unless told: --task binary keeps the 0/1 rule
    ("target not 0/1", ["fit", "--train", "target_two.csv", "--task", "binary"], 1, "target Survived must be 0 or 1, but line 3 holds 2"),
    ("NaN target", ["fit", "--train", "target_blank.csv"], 1, "target Survived is blank in 1 row(s), first on line 5"),
    ("unknown method", ["fit", "--method", "adam"], 2, "argument --method: invalid choice: 'adam'"),
    ("unknown preset", ["fit", "--preset", "kaggel"], 2, "argument --preset: invalid choice"),
    ("unknown model", ["fit", "--model", "forest"], 2, "argument --model: invalid choice"),
    ("unknown missing rule", ["fit", "--missing", "mean"], 2, "argument --missing: invalid choice"),
    ("unknown output", ["fit", "--output", "softmax"], 2, "argument --output: invalid choice"),
    ("unknown option", ["fit", "--epoch", "3"], 2, "unrecognized arguments: --epoch"),
    ("unknown command", ["train"], 2, "invalid choice: 'train'"),
    ("valid-frac 1", ["fit", "--valid-frac", "1"], 2, "1 is outside [0, 1)"),
    ("valid-frac 1.5", ["fit", "--valid-frac", "1.5"], 2, "1.5 is outside [0, 1)"),
    ("valid-frac negative", ["fit", "--valid-frac=-0.2"], 2, "-0.2 is outside [0, 1)"),
    ("refit without validation", ["fit", "--valid-frac", "0", "--refit"], 2, "--refit trains the chosen model again"),
    ("valid-frac not a number", ["fit", "--valid-frac", "half"], 2, "'half' is not a number"),
    ("epochs 0", ["fit", "--method", "gd", "--epochs", "0"], 2, "argument --epochs: 0 is outside [1, 1000000]"),
    ("negative lr", ["fit", "--method", "gd", "--lr=-1"], 2, "argument --lr: -1 is outside (0, 1000000]"),
    ("infinite lr", ["fit", "--method", "gd", "--lr", "inf"], 2, "argument --lr: inf is not a finite number"),
    ("bad layers", ["fit", "--layers", "4,x"], 2, "'4,x' is not a comma-separated list of widths"),
    ("bad device", ["fit", "--method", "gd", "--device", "tpu"], 2, "'tpu' is not a device"),
    ("lr without gd", ["fit", "--lr", "0.1"], 2, "--lr set gradient descent; add --method gd"),
    ("negative wd", ["fit", "--wd=-0.01"], 2, "argument --wd: -0.01 is outside [0, 1000000]"),
    ("wd not a number", ["fit", "--wd", "some"], 2, "argument --wd: 'some' is not a number"),
    ("unknown schedule", ["fit", "--method", "gd", "--schedule", "cosine"], 2, "argument --schedule: invalid choice: 'cosine'"),
    ("schedule without gd", ["fit", "--schedule", "one-cycle"], 2, "--schedule set gradient descent; add --method gd"),
    ("hidden and layers", ["fit", "--hidden", "3", "--layers", "2,2"], 2, "give --hidden"),
    ("columns without a target", ["fit", "--train", "train.csv", "--continuous", "Age"], 2, "name its 0/1 column with --target"),
    ("own schema without --train", ["fit", "--target", "Alive", "--continuous", "Age"], 2, "give it with --train"),
    ("diverging lr", ["fit", "--method", "gd", "--lr", "1e6", "--epochs", "60", "--restarts", "1", "--quiet"], 1, "use a smaller learning rate (--lr)"),
    ("diverging lr, finite but far above the start", ["fit", "--method", "gd", "--lr", "50", "--epochs", "60", "--restarts", "1", "--quiet"], 1, "lr=50); use a smaller learning rate (--lr)"),
    ("output is the input", ["predict", "model.json", "--input", "test.csv", "--out", "test.csv"], 1, "test.csv: is an input of this run"),
    ("output is the model", ["predict", "model.json", "--out", "model.json"], 1, "model.json: is an input of this run"),
    ("workbook over the training file", ["workbook", "--models", "model.json", "--train", "train.csv", "--out", "train.csv"], 1, "train.csv: is an input of this run"),
    ("out is a file", ["fit", "--out", "a_file"], 1, "a_file: is a file, not a directory"),
    ("out cannot be created", ["fit", "--out", "a_file/sub"], 1, "a_file/sub: cannot be made because a_file is not a directory"),
    ("predict out is a directory", ["predict", "model.json", "--out", "folder"], 1, "folder: is a directory; give the path of a file"),
    ("predict out in a missing directory", ["predict", "model.json", "--out", "no/such/s.csv"], 1, "because no/such does not exist"),
    ("missing model file", ["predict", "nope.json"], 1, "nope.json: no such file"),
    ("model file is a directory", ["predict", "folder"], 1, "folder: is a directory"),
    ("schema file is a directory", ["fit", "--train", "train.csv", "--schema", "folder"], 1, "folder: is a directory"),
    ("model file is not a model", ["predict", "bad_model.json"], 1, "bad_model.json"),
    ("verify a missing workbook", ["verify", "nope.xlsx"], 1, "nope.xlsx: no such file"),
    ("verify a csv", ["verify", "train.csv"], 1, "train.csv: is not an .xlsx workbook"),
    ("import a missing workbook", ["import", "nope.xlsx", "--out", "imported"], 1, "nope.xlsx: no such file"),
]


@pytest.mark.parametrize("argv, code, message", [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input(bad_inputs, monkeypatch, argv, code, message):
    monkeypatch.chdir(bad_inputs)
    before = snapshot(bad_inputs)
    result = run(argv)
    assert result.code == code, result.err
    assert result.err.count("\n") == 1, result.err  # one line
    line = result.err.strip()
    assert "Traceback" not in line
    assert line.startswith("titanic-nn"), line
    assert message in line
    # the fix is named: every message says what to do, or points at the help
    assert ";" in line or "--help" in line
    assert snapshot(bad_inputs) == before  # no output, partial or not, and every input untouched


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission(tmp_path, titanic):
    train, _ = titanic
    train.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "train.csv").chmod(0)
    result = run(["fit", "--train", tmp_path / "train.csv", "--out", tmp_path / "out"])
    assert result.code == 1
    assert "train.csv: cannot be read (Permission denied); check its permissions" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.csv"]


def test_bad_input_in_a_subprocess(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    done = run_subprocess(["fit", "--train", "empty.csv"], tmp_path)
    assert done.returncode == 1
    assert done.stderr == "titanic-nn: error: empty.csv: the file is empty; a CSV needs a header line and at least one data row\n"
    done = run_subprocess(["fit", "--valid-frac", "2"], tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv"]


# -- as a real program ---------------------------------------------------------------------------------


def test_help_is_fast_and_imports_nothing_heavy(tmp_path):
    probe = (
        "import sys\n"
        "from titanic_nn.cli import main\n"
        "code = main(['--help'])\n"
        "main(['fit', '--help'])\n"
        "heavy = sorted(m for m in ('numpy', 'pandas', 'torch', 'scipy') if m in sys.modules)\n"
        "assert code == 0 and heavy == [], heavy\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, timeout=60)
    timings = []
    for _ in range(5):  # the best of five, so a busy machine does not fail it
        started = time.perf_counter()
        done = run_subprocess(["--help"], tmp_path, timeout=60)
        timings.append(time.perf_counter() - started)
        assert done.returncode == 0 and "usage: titanic-nn" in done.stdout
    assert min(timings) < 0.5, timings


def test_the_solver_path_never_imports_torch(tmp_path):
    probe = (
        "import sys\n"
        "from titanic_nn.cli import main\n"
        f"assert main(['fit', '--quiet', '--restarts', '1', '--out', {str(tmp_path / 'out')!r}]) == 0\n"
        "assert 'torch' not in sys.modules, 'the solver path imported torch'\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "titanic.xlsx").is_file()


BLOCK_TORCH = "import sys\nsys.modules['torch'] = None  # import torch now fails, as where it is not installed\n"


def test_without_torch_the_solver_runs_and_gd_names_the_install_command(tmp_path):
    probe = BLOCK_TORCH + (
        "import io, contextlib\n"
        "import titanic_nn as tn\n"
        "from titanic_nn.cli import main\n"
        f"assert main(['fit', '--quiet', '--restarts', '1', '--out', {str(tmp_path / 'out')!r}]) == 0\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        f"    code = main(['fit', '--method', 'gd', '--out', {str(tmp_path / 'gd')!r}])\n"
        "print(code)\n"
        "print(err.getvalue(), end='')\n"
        "train, _ = tn.load_titanic()\n"
        "X, y = tn.Features().fit_transform(train)\n"
        "try:\n"
        "    tn.fit_gd(tn.Linear(), X, y)\n"
        "except tn.MissingDependencyError as exc:\n"
        "    print('fit_gd:', exc)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    code, gd_error, fit_gd_error = done.stdout.splitlines()[-3:]  # after the --quiet fit's table
    assert code == "1"
    assert gd_error.startswith("titanic-nn: error: --method gd needs PyTorch, which is not installed; ")
    assert 'pip install "titanic-nn[gd]"' in gd_error
    assert fit_gd_error.startswith("fit_gd: gradient descent needs PyTorch") and "titanic-nn[gd]" in fit_gd_error
    assert (tmp_path / "out" / "submission.csv").read_text().startswith("PassengerId,Survived\n")
    assert not (tmp_path / "gd").exists()  # refused before any work


def test_torch_is_an_optional_extra_that_the_tests_install():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("torch")]
    assert [d for d in project["optional-dependencies"]["gd"] if d.startswith("torch")]
    assert [d for d in project["optional-dependencies"]["test"] if d.startswith("torch")]


def test_version_as_a_program(tmp_path):
    done = run_subprocess(["--version"], tmp_path, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"titanic-nn {tn.__version__}\n")
    script = shutil.which("titanic-nn")
    if script:  # the console script, where the package is installed
        done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
        assert done.stdout == f"titanic-nn {tn.__version__}\n"


def test_ctrl_c_leaves_no_output(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "titanic_nn", "fit", "--out", "out", "--method", "gd", "--epochs", "1000000"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout.readline().startswith("training rows: 891 read from train.csv")
        assert process.stdout.readline().startswith("training linear")
        # Ctrl-C once gradient descent runs: one landing inside torch's import, on a loaded machine, can be
        # swallowed by the import machinery itself, which no program can catch
        assert process.stderr.readline().startswith("gd epochs")
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"still running 60 s after Ctrl-C; its stderr ended: {process.communicate()[1][-2000:]!r}")
    finally:
        process.kill()
    # 130 from main; or killed by SIGINT itself (the shell shows 130 for both), which CPython does at
    # exit when the interrupt landed in code that torch's import runs through exec, even though
    # main handled it
    assert process.returncode in (130, -signal.SIGINT)
    assert stderr.splitlines()[-1] == "titanic-nn: interrupted; no output was written and no temporary file was left"
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_real_run(tmp_path, titanic):
    _, test = titanic
    done = run_subprocess(["fit", "--out", "out", *FAST_GD], tmp_path)
    assert done.returncode == 0, done.stderr
    assert list(table_rows(done.stdout)) == ["linear", "nnet", "mmult"]
    assert_kaggle_submission(tmp_path / "out" / "submission.csv", test)
    assert {"titanic.xlsx", *MODEL_FILES} <= {p.name for p in (tmp_path / "out").iterdir()}


def test_output_sigmoid_trains_nets_with_a_linear_head(tmp_path, titanic):
    train, _ = titanic
    result = run(["fit", "--out", tmp_path, "--output", "sigmoid", "--quiet", *FAST])
    assert result.code == 0, result.err
    for name in ("nnet", "mmult"):
        fitted = tn.load_model(tmp_path / f"{name}.json")
        assert fitted.model.effective_head == "linear" and fitted.model.output == "sigmoid"
        pred = fitted.predict(fitted.features.training_rows(train))
        assert (pred == 0.5).sum() == 0 and (pred < 0.5).sum() > 300


def test_head_sum_with_output_sigmoid_is_a_usage_error(tmp_path):
    result = run(["fit", "--out", tmp_path / "out", "--output", "sigmoid", "--head", "sum"])
    assert result.code == 2 and result.err.count("\n") == 1
    assert "--head sum with --output sigmoid: a sum of relu units is never negative" in result.err
    assert "use --head linear" in result.err
    assert not (tmp_path / "out").exists()


# -- what another dataset's run says and writes (everything from its schema) -----------------------------


def test_another_datasets_workbook_says_its_own_names(loan_files):
    import openpyxl

    directory, new = loan_files
    result = run([
        "fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", "--target", "Default",
        "--id-column", "LoanId", "--categorical", "Grade", "--log", "Income", "--out", directory / "out", "--quiet",
        *FAST,
    ])
    assert result.code == 0, result.err
    assert (directory / "out" / "loans.xlsx").is_file() and not (directory / "out" / "titanic.xlsx").exists()
    book = openpyxl.load_workbook(directory / "out" / "loans.xlsx")
    assert [book["submission"]["A1"].value, book["submission"]["B1"].value] == ["LoanId", "Default"]
    about = " ".join(str(c.value) for c in book["about"]["A"] if c.value)
    assert "models of Default" in about and "LoanId and Default" in about
    for titanic_word in ("Titanic", "PassengerId", "Survived", "passenger"):
        assert titanic_word not in about, titanic_word
    assert "wrote" not in result.out  # --quiet


def test_workbook_from_saved_models_of_another_dataset_needs_only_its_csv(loan_files):
    directory, _ = loan_files
    made = run([
        "fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", "--target", "Default",
        "--id-column", "LoanId", "--categorical", "Grade", "--log", "Income", "--out", directory / "out", "--quiet",
        *FAST,
    ])
    assert made.code == 0, made.err
    models = [directory / "out" / name for name in MODEL_FILES]
    result = run(["workbook", "--models", *models, "--train", directory / "loans.csv", "--test", directory / "new.csv",
                  "--out", directory / "again.xlsx"])
    assert result.code == 0, result.err
    assert [f.name for f in tn.read_workbook(directory / "again.xlsx")] == ["linear", "mmult", "nnet"]
    # the schema's flags again are refused, not silently mixed with the saved schema
    repeated = run(["workbook", "--models", *models, "--train", directory / "loans.csv", "--target", "Default",
                    "--out", directory / "x.xlsx"])
    assert repeated.code == 2 and "--models carry their schema" in repeated.err and "--target" in repeated.err
    # without --train: the models' own data cannot be guessed (the bundled Titanic files are not theirs)
    missing = run(["workbook", "--models", *models, "--out", directory / "y.xlsx"])
    assert missing.code == 2
    assert "trained on your own data (target Default)" in missing.err and "give their training CSV with --train" in missing.err
    assert not (directory / "x.xlsx").exists() and not (directory / "y.xlsx").exists()


@pytest.fixture
def penguins(tmp_path):
    """A table nobody here wrote the features for: a text sex column, a blank, a negative mass, ids."""
    rng = np.random.default_rng(0)
    n = 120
    frame = pd.DataFrame({
        "id": np.arange(n), "island": rng.choice(["Biscoe", "Dream"], n), "bill": np.round(rng.normal(44, 5, n), 1),
        "mass": np.round(rng.normal(4200, 800, n)), "sex": rng.choice(["male", "female"], n),
        "adelie": rng.integers(0, 2, n),
    })
    frame.loc[[3, 10, 11], "bill"] = np.nan
    frame.to_csv(tmp_path / "penguins.csv", index=False)
    return tmp_path, frame


def test_a_text_target_says_it_is_the_target_and_positive_codes_it(penguins):
    directory, frame = penguins
    base = ["fit", "--train", directory / "penguins.csv", "--continuous", "bill,mass", "--categorical", "island"]
    refused = run([*base, "--target", "sex", "--out", directory / "o1"])
    assert refused.code == 1 and refused.err.count("\n") == 1
    assert "target sex is the column to predict and must hold 0 or 1, but line 2 holds text 'male'" in refused.err
    assert "recode it to 0/1, or name the value that counts as 1 with --positive" in refused.err
    coded = run([*base, "--target", "sex", "--positive", "male", "--out", directory / "o2", "--quiet", *FAST])
    assert coded.code == 0, coded.err
    linear = tn.load_model(directory / "o2" / "linear.json")
    assert linear.features.schema_.positive == "male"
    kept = frame.dropna(subset=["bill"])
    assert linear.features.target(kept).tolist() == (kept["sex"] == "male").astype(float).tolist()
    wrong = run([*base, "--target", "sex", "--positive", "yes", "--out", directory / "o3"])
    assert wrong.code == 1 and "target sex never holds 'yes' (it holds 'female', 'male')" in wrong.err


def test_errors_on_another_table_name_its_columns_lines_and_file(penguins):
    directory, frame = penguins
    train = directory / "penguins.csv"
    # --target alone on a table that is not the Titanic types its columns (tests/test_infer.py), found in a table
    alone = run(["fit", "--train", train, "--target", "adelie", "--out", directory / "typed", *FAST, "--sheet-epochs", "0"])
    assert alone.code == 0, alone.err
    assert "island  categorical  2 levels" in alone.out and "bill    continuous   numbers, 3 blank" in alone.out
    assert "id      left out     whole numbers 0 to 119, each once: a row number or an id" in alone.out
    negative = frame.copy()
    negative.loc[7, "mass"] = -18.7
    negative.to_csv(directory / "negative.csv", index=False)
    logged = run(["fit", "--train", directory / "negative.csv", "--target", "adelie", "--log", "mass", "--out", directory / "o"])
    assert logged.code == 1
    assert "negative.csv: column mass holds -18.7 on line 9, but it is taken as log(x+1)" in logged.err
    assert "np.float64" not in logged.err
    twice = run(["fit", "--train", train, "--target", "adelie", "--continuous", "mass", "--log", "mass", "--out", directory / "o"])
    assert twice.code == 2 and "column mass is given to both --continuous and --log" in twice.err
    test = frame.drop(columns="adelie").head(20).copy()
    test.loc[5, "id"] = 4
    test.to_csv(directory / "test.csv", index=False)
    started = time.perf_counter()
    duplicate = run(["fit", "--train", train, "--test", directory / "test.csv", "--target", "adelie", "--id-column", "id",
                     "--continuous", "bill", "--out", directory / "o"])
    assert duplicate.code == 1 and time.perf_counter() - started < 5  # found on reading, before any training
    assert "test.csv: column id repeats '4' on lines 6, 7; ids must be unique" in duplicate.err
    assert "training" not in duplicate.out
    assert not (directory / "o").exists()


def test_the_run_says_how_many_rows_it_dropped_and_why(penguins):
    directory, _ = penguins
    result = run(["fit", "--train", directory / "penguins.csv", "--target", "adelie", "--continuous", "bill",
                  "--out", directory / "o", *FAST])
    assert result.code == 0, result.err
    assert ("training rows: 120 read from penguins.csv, 3 dropped for a blank input (blank cells: bill 3; "
            "--missing mode fills them with the training mode instead), 117 kept; 94 train the models, 23 are held "
            "out for validation (--valid-frac 0.2, --seed 0)") in result.out


def test_valid_frac_0_trains_on_every_row_and_says_how_the_submission_was_chosen(tmp_path, titanic):
    _, test = titanic
    result = run(["fit", "--out", tmp_path, "--valid-frac", "0", *FAST])
    assert result.code == 0, result.err
    rows = table_rows(result.out)
    assert all(row[2] == "-" and row[3] == "-" for row in rows.values())
    best = min(rows, key=lambda name: float(rows[name][1]))
    assert f"submission: {best} (lowest training loss: there are no validation rows), 418 rows" in result.out
    linear = tn.load_model(tmp_path / "linear.json")
    assert linear.training["split"]["n_train"] == 712 and linear.training["train_loss"] == pytest.approx(0.14422714930, abs=1e-8)


def test_refit_trains_the_chosen_model_again_on_every_row(tmp_path, titanic):
    import openpyxl

    _, test = titanic
    result = run(["fit", "--out", tmp_path, "--refit", *FAST])
    assert result.code == 0, result.err
    rows = table_rows(result.out)
    chosen = max(rows, key=lambda name: float(rows[name][3]))
    refit = tn.load_model(tmp_path / f"{chosen}.json")
    assert refit.training["split"]["n_train"] == 712 and refit.training["split"]["n_valid"] == 0
    assert refit.training["refit_of"]["valid_accuracy"] == pytest.approx(float(rows[chosen][3]), abs=5e-5)
    assert f"refit: {chosen} trained again on all 712 rows" in result.out
    assert f"submission: {chosen} (best validation accuracy, then refit on all rows), 418 rows" in result.out
    assert assert_kaggle_submission(tmp_path / "submission.csv", test) == refit.predict_survived(test).tolist()
    others = [name for name in rows if name != chosen]
    assert all(tn.load_model(tmp_path / f"{name}.json").training["split"]["n_valid"] == 142 for name in others)
    sheet = openpyxl.load_workbook(tmp_path / "titanic.xlsx")[chosen]
    assert not any(str(c.value).startswith("Valid loss") for row in sheet.iter_rows(max_row=2) for c in row)


def test_loss_png_tells_identical_curves_apart(tmp_path):
    """nnet and mmult train identically: the later curve must not hide the earlier one, and the legend says so."""
    import matplotlib.image
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    from titanic_nn.cli._plots import loss_figure, plot_losses

    same = {"train": [0.3 - 0.001 * i for i in range(100)], "valid": [0.32 - 0.0008 * i for i in range(100)]}
    histories = {"linear": {"train": [0.2] * 100}, "nnet": same, "mmult": dict(same)}
    assert plot_losses(histories, tmp_path / "loss.png")
    pixels = matplotlib.image.imread(tmp_path / "loss.png")[..., :3]

    def count(color: str) -> int:
        return int((np.abs(pixels - np.array(to_rgb(color))).sum(axis=-1) < 0.05).sum())

    # nnet is C1, drawn under mmult (C2): far more of it shows than its legend swatch
    assert count("C1") > 800 and count("C2") > 800
    figure = loss_figure(histories)
    try:
        labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
        widths = {line.get_label(): line.get_linewidth() for line in figure.axes[0].get_lines()}
    finally:
        plt.close(figure)
    assert labels == ["linear train", "nnet train", "nnet valid", "mmult train (same as nnet)", "mmult valid (same as nnet)"]
    assert widths["nnet train"] > widths["mmult train (same as nnet)"]
