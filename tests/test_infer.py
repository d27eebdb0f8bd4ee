"""Any CSV, typed for you: the schema inferred from a table's rows, the table the run prints, schema.toml written and
read back to the same run, the column options overriding it column by column, --ignore, and the one-line refusals."""

from __future__ import annotations

import io
import json
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import titanic_nn as tn
from titanic_nn.cli import main
from titanic_nn.features import MAX_LEVELS, Choice, infer_schema, schema_toml, toml_text

FAST = ["--restarts", "1", "--sheet-epochs", "0"]
MODEL_FILES = ["linear.json", "mmult.json", "nnet.json"]


def run(argv: list) -> SimpleNamespace:
    """main(argv) in-process, with its exit code and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return SimpleNamespace(code=code, out=out.getvalue(), err=err.getvalue())


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def kinds(choices: list[Choice]) -> dict[str, str]:
    return {c.column: c.kind for c in choices}


def whys(choices: list[Choice]) -> dict[str, str]:
    return {c.column: c.why for c in choices}


# -- the inference ------------------------------------------------------------------------------------------------


SMALL = """\
id,name,size,colour,same,empty,code,flag,y
1,Ann,1.5,red,k,,001,True,0
2,Bob,,blue,k,,002,False,1
3,Cid,3.25,red,k,,003,True,0
4,Dee,4,blue,k,,004,False,1
5,Eve,5,red,,,005,True,1
6,Fay,-6,green,k,,006,False,0
"""


def test_each_column_is_typed_from_its_rows(tmp_path):
    schema, choices = infer_schema(write(tmp_path / "small.csv", SMALL), target="y", id_column="id")
    assert kinds(choices) == {
        "id": "id", "name": "left out", "size": "continuous", "colour": "categorical", "same": "left out",
        "empty": "left out", "code": "continuous", "flag": "categorical", "y": "target",
    }
    why = whys(choices)
    assert why["name"] == "6 distinct texts of 6 rows: mostly unique"
    assert why["size"] == "numbers, 1 blank"  # a blank is not a reason to leave a column out
    assert why["colour"] == "3 levels"
    assert why["same"] == "one value, 'k', in every non-blank row"
    assert why["empty"] == "blank in every row"
    assert why["code"] == "numbers"  # 001 parses as a number, as as_numbers reads it
    assert why["flag"] == "2 levels"  # True/False are text to the package, never one boolean
    assert [c.column for c in choices] == ["id", "name", "size", "colour", "same", "empty", "code", "flag", "y"]
    assert schema.target == "y" and schema.id_column == "id" and schema.constant == "Ones"
    assert [(c.column, c.scale, c.log) for c in schema.continuous] == [("size", "max", "none"), ("code", "max", "none")]
    assert [(c.column, c.levels, c.drop_reference) for c in schema.categorical] == [("colour", None, True), ("flag", None, True)]


def test_the_id_and_the_target_are_never_inputs_even_when_numeric(tmp_path):
    path = write(tmp_path / "t.csv", "key,a,label\n10,1,0\n11,2,1\n12,3,1\n13,5,0\n")
    schema, choices = infer_schema(path, target="label", id_column="key")
    assert schema.input_columns == ["a"]
    assert kinds(choices) == {"key": "id", "a": "continuous", "label": "target"}
    # without an id column, a numeric id is a number like any other: the user names it with --id-column or --ignore
    schema, _ = infer_schema(path, target="label")
    assert schema.input_columns == ["key", "a"] and schema.id_column is None


def test_a_frame_works_as_a_file_does(tmp_path):
    path = write(tmp_path / "small.csv", SMALL)
    from_file = infer_schema(path, target="y", id_column="id")
    from_frame = infer_schema(tn.read_csv(path), target="y", id_column="id")
    assert from_file == from_frame


@pytest.mark.parametrize(
    ("levels", "rows", "kind", "why"),
    [
        (MAX_LEVELS, 2 * MAX_LEVELS, "categorical", f"{MAX_LEVELS} levels"),
        (MAX_LEVELS + 1, 4 * MAX_LEVELS, "left out", f"{MAX_LEVELS + 1} levels, more than {MAX_LEVELS}"),
        (5, 10, "categorical", "5 levels"),  # every level held by two rows, on average
        (6, 10, "left out", "6 distinct texts of 10 rows: mostly unique"),
    ],
)
def test_the_level_threshold(levels, rows, kind, why):
    frame = pd.DataFrame({"t": [f"L{i % levels}" for i in range(rows)], "x": np.arange(rows) % 7, "y": [0, 1] * (rows // 2)})
    _, choices = infer_schema(frame, target="y")
    assert (kinds(choices)["t"], whys(choices)["t"]) == (kind, why)


def test_given_columns_override_the_typing_column_by_column(tmp_path):
    path = write(tmp_path / "small.csv", SMALL)
    schema, choices = infer_schema(
        path, target="y", id_column="id", categorical=["code"], log=["size"], continuous=[], ignore=["flag"],
    )
    assert kinds(choices)["code"] == "categorical" and whys(choices)["code"] == "given (n-1 dummies)"
    assert kinds(choices)["size"] == "log" and kinds(choices)["flag"] == "left out"
    assert kinds(choices)["colour"] == "categorical"  # still typed
    assert [(c.column, c.log, c.scale) for c in schema.continuous] == [("size", "log10", "none")]
    assert [c.column for c in schema.categorical] == ["code", "colour"]
    # a text column given as continuous is taken as given (reading it as numbers then names its first text)
    schema, _ = infer_schema(path, target="y", id_column="id", continuous=["name"])
    assert schema.continuous[0].column == "name"


def test_a_column_given_twice_or_left_out_but_absent_is_refused(tmp_path):
    path = write(tmp_path / "small.csv", SMALL)
    with pytest.raises(tn.DataError, match="column 'size' is given both as continuous and as ignore"):
        infer_schema(path, target="y", id_column="id", continuous=["size"], ignore=["size"])
    with pytest.raises(tn.DataError, match=r"small\.csv: has no column nope to leave out; the file has id, name"):
        infer_schema(path, target="y", id_column="id", ignore=["nope"])


def test_a_table_with_nothing_to_learn_from_is_refused_naming_each_column(tmp_path):
    path = write(tmp_path / "names.csv", "id,name,same,y\n1,Ann,k,0\n2,Bob,k,1\n3,Cid,k,1\n")
    with pytest.raises(tn.DataError) as caught:
        infer_schema(path, target="y", id_column="id")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: no column is left to learn from: name (3 distinct texts of 3 rows: mostly unique); "
                              "same (one value, 'k', in every non-blank row); ")
    assert "--continuous, --categorical" in message


def test_infer_schema_is_exported_at_the_top():
    assert tn.infer_schema is infer_schema and tn.schema_toml is schema_toml
    assert "infer_schema" in tn.__all__ and "infer_schema" in tn.features.__all__


# -- the TOML writer -----------------------------------------------------------------------------------------------


HOSTILE = ['say "hi"', "back\\slash", "naïve 名前 🚢", "line\nbreak", "a = b", "[table]", "tab\there", "cr\rlf",
           "nul\x00bell\x07del\x7f", "'single'", "#hash", "", "trailing\\"]


def test_hostile_column_names_round_trip_through_a_schema_file(tmp_path):
    names = [n for n in HOSTILE if n]
    schema = tn.Schema(
        target=names[0], id_column=names[1],
        continuous=tuple(tn.Continuous(n, scale="max") for n in names[2:7]),
        categorical=(
            tn.Categorical(names[7], levels=("a\"b", "ü", 3, 2.5), names=("d\\1", "d[2]", "d=3", "d\n4"), reference="x\ty"),
            *(tn.Categorical(n) for n in names[8:]),
        ),
        positive="yes \"sir\"", blank=("NA", "n\\a"),
    )
    text = schema_toml(schema, comment="a schema\nwith a line break in its comment")
    assert text.splitlines()[0] == "# a schema with a line break in its comment"
    path = tmp_path / "schema.toml"
    path.write_bytes(text.encode("utf-8"))
    assert tn.Schema.from_file(path) == schema
    assert "naïve 名前 🚢" in text  # non-ASCII kept as UTF-8, not escaped


@pytest.mark.parametrize("make", [tn.features.sheet_schema, tn.features.notebook_schema, tn.features.kaggle_schema])
def test_the_presets_round_trip(tmp_path, make):
    path = tmp_path / "preset.toml"
    path.write_text(schema_toml(make()), encoding="utf-8")
    assert tn.Schema.from_file(path) == make()


def test_none_is_false_where_its_default_differs_and_left_out_where_not(tmp_path):
    schema = tn.Schema(target="y", id_column=None, continuous=(tn.Continuous("x"),), constant=None)
    text = schema_toml(schema)
    data = tomllib.loads(text)
    assert data["id_column"] is False and data["constant"] is False and "positive" not in data
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    assert tn.Schema.from_file(path) == schema


def test_the_writer_is_generic_over_keys_and_values():
    data = {"task": "binary", "n": 3, "x": 0.1, "big": 1e100, "tiny": 1e-5, "on": True, "levels": [1, "a", 2.5],
            "empty": [], "options": {"a b": 1, "c": [1, 2]}, "rows": [{"k": "v", "m": {"x": 1}}, {"k": "w"}]}
    assert tomllib.loads(toml_text(data)) == data
    with pytest.raises(tn.DataError, match="TOML cannot write"):
        toml_text({"x": object()})


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1))
def test_any_text_round_trips_as_a_key_and_a_value(text):
    assert tomllib.loads(toml_text({text: text, "list": [text]})) == {text: text, "list": [text]}


# -- the command line ----------------------------------------------------------------------------------------------


def loans(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grade = rng.choice(["A", "B", "C"], size=rows)
    income = np.round(rng.lognormal(10, 0.6, size=rows))
    age = rng.integers(18, 70, size=rows).astype(float)
    age[::17] = np.nan
    score = (grade == "C") * 1.2 - np.log10(income + 1) + 4.2 + rng.normal(0, 0.3, size=rows)
    return pd.DataFrame({
        "LoanId": np.arange(1000, 1000 + rows), "Name": [f"client {i}" for i in range(rows)], "Grade": grade,
        "Income": income, "Age": age, "Branch": "main", "Default": (score > 0.4).astype(int),
    })


@pytest.fixture
def loan_files(tmp_path):
    loans(200, 1).to_csv(tmp_path / "loans.csv", index=False)
    loans(30, 2).drop(columns="Default").to_csv(tmp_path / "new.csv", index=False)
    return tmp_path


OWN = ["--target", "Default", "--id-column", "LoanId"]


def test_the_run_prints_its_choices_and_writes_an_editable_schema(loan_files):
    directory = loan_files
    result = run(["fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", *OWN,
                  "--out", directory / "out", *FAST])
    assert result.code == 0, result.err
    table = result.out.split("\ntraining rows:")[0]
    assert table == (
        "column   kind         why\n"
        "LoanId   id           the id column, never an input\n"
        "Name     left out     200 distinct texts of 200 rows: mostly unique\n"
        "Grade    categorical  3 levels\n"
        "Income   continuous   numbers\n"
        "Age      continuous   numbers, 12 blank\n"
        "Branch   left out     one value, 'main', in every non-blank row\n"
        "Default  target       the column to predict (binary)"
    )
    assert sorted(p.name for p in (directory / "out").iterdir()) == sorted(["loans.xlsx", "submission.csv", "schema.toml", *MODEL_FILES])
    assert f"wrote {directory / 'out' / 'schema.toml'}" in result.out
    text = (directory / "out" / "schema.toml").read_text(encoding="utf-8")
    assert text.startswith("# titanic-nn schema typed from loans.csv; edit it, then run `titanic-nn fit --train loans.csv "
                           "--schema schema.toml`\n")
    linear = tn.load_model(directory / "out" / "linear.json")
    assert linear.features.feature_names_ == ["Income_N", "Age_N", "Grade_B", "Grade_C", "Ones"]
    assert tn.Schema.from_file(directory / "out" / "schema.toml") == linear.features.schema_


def test_the_schema_read_back_gives_the_same_run(loan_files):
    directory = loan_files
    first = run(["fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", *OWN,
                 "--missing", "mode", "--out", directory / "typed", *FAST, "--quiet"])
    assert first.code == 0, first.err
    assert "--missing mode`" in (directory / "typed" / "schema.toml").read_text().splitlines()[0]
    again = run(["fit", "--train", directory / "loans.csv", "--test", directory / "new.csv", "--schema",
                 directory / "typed" / "schema.toml", "--missing", "mode", "--out", directory / "again", *FAST, "--quiet"])
    assert again.code == 0, again.err
    assert "column" not in again.out.split("\n")[0]  # a schema file's run types nothing, so prints no choices
    assert not (directory / "again" / "schema.toml").exists()
    for name in MODEL_FILES:
        typed, read_back = tn.load_model(directory / "typed" / name), tn.load_model(directory / "again" / name)
        assert typed.features.to_dict() == read_back.features.to_dict()
        saved = [json.loads((directory / run_name / name).read_text()) for run_name in ("typed", "again")]
        for model in saved:
            model["training"].pop("seconds")
        assert saved[0] == saved[1]  # parameters, losses and accuracies, to the bit
    assert (directory / "typed" / "submission.csv").read_bytes() == (directory / "again" / "submission.csv").read_bytes()


def test_column_options_override_one_column_each_and_ignore_leaves_one_out(loan_files):
    directory = loan_files
    result = run(["fit", "--train", directory / "loans.csv", *OWN, "--categorical", "Age", "--log", "Income",
                  "--ignore", "Grade", "--out", directory / "out", *FAST])
    assert result.code == 0, result.err
    assert "Age      categorical  given (n-1 dummies)" in result.out
    assert "Income   log          given (log10(x+1))" in result.out
    assert "Grade    left out     given (to leave out)" in result.out
    schema = tn.Schema.from_file(directory / "out" / "schema.toml")
    assert [(c.column, c.log, c.scale) for c in schema.continuous] == [("Income", "log10", "none")]
    assert [c.column for c in schema.categorical] == ["Age"]
    assert schema.input_columns == ["Income", "Age"]


def test_a_csv_left_with_nothing_is_refused_in_one_line_and_writes_nothing(tmp_path):
    write(tmp_path / "names.csv", "id,name,same,y\n1,Ann,k,0\n2,Bob,k,1\n3,Cid,k,1\n")
    result = run(["fit", "--train", tmp_path / "names.csv", "--target", "y", "--id-column", "id", "--out", tmp_path / "out"])
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith(f"titanic-nn: error: {tmp_path / 'names.csv'}: no column is left to learn from: name (3 "
                                 "distinct texts of 3 rows: mostly unique); same (one value, 'k', in every non-blank row)")
    assert not (tmp_path / "out").exists()
    ignored = run(["fit", "--train", tmp_path / "names.csv", "--target", "y", "--ignore", "nope", "--out", tmp_path / "out"])
    assert ignored.code == 1 and "names.csv: has no column nope to leave out; the file has id, name, same, y" in ignored.err
    assert not (tmp_path / "out").exists()


def test_a_failed_run_writes_no_schema(loan_files):
    directory = loan_files
    bad = loans(50, 3)
    bad["Income"] = bad["Income"].astype(object)
    bad.loc[4, "Income"] = 1e300  # a number beyond 1e100: refused when the rows are read with the typed schema
    bad.to_csv(directory / "bad.csv", index=False)
    result = run(["fit", "--train", directory / "bad.csv", *OWN, "--out", directory / "out"])
    assert result.code == 1 and result.err.count("\n") == 1
    assert "bad.csv: column Income holds 1e+300 on line 6" in result.err
    assert not (directory / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--schema", "s.toml", "--ignore", "Name"], "--schema already lists the columns; leave out --categorical, --continuous, --log and --ignore"),
        (["--preset", "kaggle", "--ignore", "Name"], "--preset kaggle lists the Titanic's columns; --ignore leaves out"),
        (["--continuous", "Age", "--ignore", "Age"], "column Age is given to both --continuous and --ignore"),
    ],
)
def test_ignore_that_cannot_apply_is_a_usage_error(loan_files, extra, message):
    result = run(["fit", "--train", loan_files / "loans.csv", *OWN, *extra, "--out", loan_files / "out"])
    assert result.code == 2 and result.err.count("\n") == 1 and message in result.err, result.err


def test_the_titanic_keeps_its_preset(tmp_path, titanic):
    """The bundled files, --preset, and a CSV holding the preset's inputs (with or without --target) type nothing."""
    train, _ = titanic
    train.to_csv(tmp_path / "mine.csv", index=False)
    for argv in (["fit", "--train", tmp_path / "mine.csv"], ["fit", "--train", tmp_path / "mine.csv", "--target", "Survived"],
                 ["fit", "--train", tmp_path / "mine.csv", "--target", "Survived", "--preset", "notebook"]):
        result = run([*argv, "--out", tmp_path / "out", *FAST, "--valid-frac", "0"])
        assert result.code == 0, result.err
        assert "column  " not in result.out and not (tmp_path / "out" / "schema.toml").exists()
        shutil_rmtree(tmp_path / "out")
    # without --target, another table is refused as before, saying how to have it typed
    write(tmp_path / "other.csv", "a,b,Survived\n1,2,0\n4,5,1\n")
    refused = run(["fit", "--train", tmp_path / "other.csv", "--out", tmp_path / "out"])
    assert refused.code == 1
    assert "those are the Titanic preset's inputs: for your own CSV name the column to predict with --target" in refused.err


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


def test_breast_cancer_every_column_continuous(tmp_path):
    datasets = pytest.importorskip("sklearn.datasets")
    frame = datasets.load_breast_cancer(as_frame=True).frame
    frame.insert(0, "id", range(1, len(frame) + 1))
    frame.to_csv(tmp_path / "cancer.csv", index=False)
    result = run(["fit", "--train", tmp_path / "cancer.csv", "--target", "target", "--id-column", "id",
                  "--out", tmp_path / "out", *FAST])
    assert result.code == 0, result.err
    schema = tn.Schema.from_file(tmp_path / "out" / "schema.toml")
    assert len(schema.continuous) == 30 and not schema.categorical
    assert all(c.scale == "max" and c.log == "none" for c in schema.continuous)
    assert [c.column for c in schema.continuous] == [c for c in frame.columns if c not in ("id", "target")]
    assert "mean radius              continuous  numbers" in result.out
    linear = tn.load_model(tmp_path / "out" / "linear.json")
    assert linear.training["valid_accuracy"] > 0.9
