"""Hostile inputs (issue 14): every crafted input, and the 48 bad inputs of test_cli, through the command line.

Each case runs `titanic-nn` in a folder of crafted inputs, with its own output folder and its own
$TMPDIR, and asserts: the exit code (1 or 2; or 0 where the input is valid, and the workbook written
then verifies in both engines); at most one line on stderr, never a traceback, a numpy repr or an
exception's repr; nothing written outside the output folder and no temporary left there or in
$TMPDIR; every input byte for byte as it was.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import crafted
import titanic_nn as tn
from test_cli import BAD_INPUTS, make_bad_inputs, run, snapshot

SMALL_TRAIN, SMALL_TEST = "small_train.csv", "small_test.csv"
SMALL = ["--train", SMALL_TRAIN, "--test", SMALL_TEST]
FAST = ["--restarts", "1", "--quiet"]
BOOK = "base/titanic.xlsx"  # a valid workbook of the small data, the start of every crafted one
MODEL = "base/mmult.json"  # a valid saved model of the small data


@dataclass
class Case:
    """One hostile input: the command line, the exit code, the words its one stderr line holds.

    `out` is the output folder the run may write into (relative; removed after the case). With exit 0,
    `book` names the workbook written there, which must then verify; `expect` is a function of the
    case folder that checks what was written.
    """

    name: str
    argv: list[str]
    code: int
    message: str | None = None
    out: str | None = None
    book: str | None = None
    expect: object = None
    marks: list = field(default_factory=list)


# -- the crafted inputs -----------------------------------------------------------------------------


def _model_variant(folder: Path, name: str, change) -> None:
    data = json.loads((folder / MODEL).read_text())
    changed = change(data)
    text = changed if isinstance(changed, str) else json.dumps(data if changed is None else changed)
    (folder / f"{name}.json").write_text(text)


MODEL_VARIANTS = {
    # item 4: accepted today with exit 0 and wrong predictions, or blank parameter cells
    "m_nan": lambda d: d["params"][0].__setitem__(0, float("nan")),
    "m_infinity": lambda d: d["params"][3].__setitem__(1, float("inf")),
    "m_divisor_0": lambda d: d["features"]["divisors"].__setitem__("Age", 0),
    "m_fill_values_empty": lambda d: d["features"].__setitem__("fill_values", []),
    "m_bool_params": lambda d: d.__setitem__("params", [[True, False]] * len(d["params"])),
    "m_text_param": lambda d: d["params"][0].__setitem__(0, "0.5"),
    "m_version_true": lambda d: d.__setitem__("format_version", True),
    # item 9: tracebacks today
    "m_deep": lambda d: "[" * 100_000 + "]" * 100_000,
    "m_levels_list": lambda d: d["features"].__setitem__("levels", [1, 2]),
    "m_fill_value_list": lambda d: d["features"]["fill_values"].__setitem__("Age", [1]),
    "m_target_list": lambda d: d["features"]["schema"].__setitem__("target", ["Survived"]),
    "m_column_list": lambda d: d["features"]["schema"]["continuous"][0].__setitem__("column", ["SibSp"]),
    # more of the same kind
    "m_kind_list": lambda d: d["model"].__setitem__("kind", ["mmult"]),
    "m_hidden_huge": lambda d: d["model"].__setitem__("hidden", 20_000),
    "m_history_text": lambda d: d.__setitem__("training", {"method": "gd", "history": {"train": ["x"]}}),
    "m_score_text": lambda d: d["training"].__setitem__("valid_accuracy", "high"),
    "m_params_ragged": lambda d: d["params"].__setitem__(0, [0.5]),
}

MODEL_MESSAGES = {
    "m_nan": "params[0][0] is nan, not a finite number",
    "m_infinity": "params[3][1] is inf, not a finite number",
    "m_divisor_0": "features.divisors.Age is 0",
    "m_fill_values_empty": "features.fill_values is a list, not a table",
    "m_bool_params": "params[0][0] is the boolean true, not a number",
    "m_text_param": "params[0][0] is the text '0.5', not a number",
    "m_version_true": "format_version is the boolean true, not a version number",
    "m_deep": "is nested too deeply to be a saved titanic-nn model",
    "m_levels_list": "features.levels is a list, not a table",
    "m_fill_value_list": "features.fill_values.Age is a list, not a level",
    "m_target_list": "features.schema: target is ['Survived'], not a column name",
    "m_column_list": "features.schema: continuous[0]: column is ['SibSp'], not a column name",
    "m_kind_list": "model.kind is ['mmult'], not one of the model kinds",
    "m_hidden_huge": "model.hidden is 20000, not a number of units from 1 to 16,384",
    "m_history_text": "training.history.train[0] is the text 'x', not a number",
    "m_score_text": "training.valid_accuracy is the text 'high', not a number",
    "m_params_ragged": "params",
}

SCHEMA_FILES = {
    # item 10
    "s_latin1.toml": 'target = "Survived"\n# caf\xe9\n[[continuous]]\ncolumn = "Age"\n'.encode("latin-1"),
    "s_target_list.json": json.dumps({"target": ["Survived"], "continuous": ["Age"]}).encode(),
    "s_column_int.json": json.dumps({"target": "Survived", "continuous": [{"column": 5}]}).encode(),
    "s_column_bare_int.json": json.dumps({"target": "Survived", "continuous": [5]}).encode(),
    "s_deep.json": ('{"target": ' + "[" * 100_000 + "]" * 100_000 + "}").encode(),
    "s_deep.toml": ("target = " + "[" * 5_000 + "]" * 5_000 + "\n").encode(),
    "s_levels_text.toml": b'target = "Survived"\n[[categorical]]\ncolumn = "Sex"\nlevels = "male"\n',
    "s_continuous_text.json": json.dumps({"target": "Survived", "continuous": "Age"}).encode(),
}

SCHEMA_MESSAGES = {
    "s_latin1.toml": "is not UTF-8 text (byte 0xE9 at position 25); a schema file is UTF-8",
    "s_target_list.json": "target is ['Survived'], not a column name",
    "s_column_int.json": "continuous[0]: column is 5, not a column name",
    "s_column_bare_int.json": "continuous[0]: a column entry must be a name or a table, not 5",
    "s_deep.json": "is nested too deeply to be a schema",
    "s_deep.toml": "is nested too deeply to be a schema",
    "s_levels_text.toml": "column Sex: levels is 'male', not a list",
    "s_continuous_text.json": "continuous is 'Age', not a list of columns",
}

PARAM_CELL = re.compile(rb'(<c r="V4"[^>]*><v>)[^<]*(</v>)')  # linear's first weight, at any row count


def _workbook_variants(folder: Path) -> dict[str, str]:
    """Crafted copies of BOOK (item 1, 8 and 12); returns the message each must give."""
    book = folder / BOOK
    metadata = {
        "w_name_absolute": (lambda d: d["models"][0].__setitem__("name", str(folder / "victim")),
                            "names a model '/"),
        "w_name_parent": (lambda d: d["models"][0].__setitem__("name", "../../victim"), "names a model '../../victim'"),
        "w_name_no_sheet": (lambda d: d["models"][0].__setitem__("name", "forest"), "the sheet forest is missing"),
        "w_name_reserved": (lambda d: d["models"][0].__setitem__("name", "test"), "is one of the workbook's own sheets"),
        "w_meta_list": (lambda d: [d], "holds list JSON, not the table titanic-nn writes"),
        "w_meta_no_features": (lambda d: d.pop("features") and None, "lacks its features entry"),
        "w_meta_models_table": (lambda d: d.__setitem__("models", {"linear": 1}), "lists no models"),
        "w_meta_rows_fraction": (lambda d: d.__setitem__("train_rows", 79.5), "says train_rows is 79.5, not a row count"),
        "w_meta_rows_text": (lambda d: d.__setitem__("test_rows", "20"), "says test_rows is '20', not a row count"),
        "w_meta_hidden_20000": (lambda d: d["models"][2]["config"].__setitem__("hidden", 20_000),
                                "models[2].config.hidden is 20000, not a number of units"),
        "w_meta_hidden_16000": (lambda d: d["models"][2]["config"].__setitem__("hidden", 16_000),
                                "a sheet would need column 16,385, beyond Excel's 16,384"),
        "w_meta_divisor_0": (lambda d: d["features"]["divisors"].__setitem__("Age", 0), "features.divisors.Age is 0"),
        "w_meta_filled_text": (lambda d: d.__setitem__("filled", {"train": {"Age": ["x"]}}),
                               "filled.train.Age entry that is not a list of row positions"),
    }
    messages = {}
    for name, (change, message) in metadata.items():
        crafted.with_metadata(book, folder / f"{name}.xlsx", change)
        messages[name] = message
    crafted.with_metadata(book, folder / "w_meta_deep.xlsx", "[" * 100_000 + "]" * 100_000)
    messages["w_meta_deep"] = "the hidden _titanic_nn sheet is nested too deeply"
    crafted.without_sheet(book, folder / "w_no_test_sheet.xlsx", "test")
    messages["w_no_test_sheet"] = "the sheet test is missing"
    crafted.with_sheet(book, folder / "w_param_nan.xlsx", "linear", lambda b: PARAM_CELL.sub(rb"\1NaN\2", b))
    messages["w_param_nan"] = "sheet linear cannot be read (a number cell holds 'NaN')"
    crafted.with_sheet(book, folder / "w_param_inf.xlsx", "linear", lambda b: PARAM_CELL.sub(rb"\g<1>1e999\2", b))
    messages["w_param_inf"] = "parameter cell linear!V4 is inf, not a finite number"
    crafted.with_sheet(book, folder / "w_laughs.xlsx", "linear", lambda b: crafted.with_dtd(b, crafted.DTD_LAUGHS, "lol3"))
    messages["w_laughs"] = "(sheet linear) carries a document type declaration"
    crafted.with_sheet(book, folder / "w_xxe.xlsx", "nnet", lambda b: crafted.with_dtd(b, crafted.DTD_XXE, "xxe"))
    messages["w_xxe"] = "(sheet nnet) carries a document type declaration"
    crafted.with_sheet(book, folder / "w_not_well_formed.xlsx", "mmult", lambda b: b[: len(b) // 2])
    messages["w_not_well_formed"] = "(sheet mmult) is not well-formed XML (no element found"
    crafted.with_part(book, folder / "w_macros.xlsx", "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 a VBA project")
    messages["w_macros"] = "holds macro-enabled content (xl/vbaProject.bin)"
    # a 2.5 MB part that expands to 256 MiB: refused before a byte is inflated
    crafted.with_part(book, folder / "w_zip_bomb.xlsx", "xl/media/bomb.xml", b"<a>" + b" " * (256 << 20) + b"</a>")
    messages["w_zip_bomb"] = "part xl/media/bomb.xml expands"
    crafted.with_sheet(book, folder / "w_text_age.xlsx", "linear",
                       lambda b: re.sub(rb'(<c r="E5"[^>]*)><v>[^<]*</v>', rb'\1 t="inlineStr"><is><t>old</t></is>', b))
    messages["w_text_age"] = "cell linear!E5 (column Age) is the text 'old', not a number"
    crafted.with_sheet(book, folder / "w_target_7.xlsx", "linear",
                       lambda b: re.sub(rb'(<c r="A5"[^>]*><v>)[^<]*(</v>)', rb"\g<1>7\2", b))
    messages["w_target_7"] = "cell linear!A5 (column Survived) holds 7, not 0 or 1"
    (folder / "w_not_a_zip.xlsx").write_bytes(b"PK\x03\x04 but nothing after")
    messages["w_not_a_zip"] = "is not an .xlsx workbook"
    return messages


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, titanic):
    """The folder every case runs in: test_cli's bad inputs, the small data, a valid run, and the crafted inputs."""
    folder = tmp_path_factory.mktemp("hostile")
    make_bad_inputs(folder, titanic)
    train, test = titanic
    train.head(80).to_csv(folder / SMALL_TRAIN, index=False)
    test.head(20).to_csv(folder / SMALL_TEST, index=False)
    made = run(["fit", "--train", folder / SMALL_TRAIN, "--test", folder / SMALL_TEST, "--out", folder / "base", *FAST])
    assert made.code == 0, made.err
    for name, change in MODEL_VARIANTS.items():
        _model_variant(folder, name, change)
    for name, data in SCHEMA_FILES.items():
        (folder / name).write_bytes(data)
    # item 2: infinite values in any input
    for name, frame, column in [("test_age_inf", test, "Age"), ("test_fare_inf", test, "Fare"), ("train_age_inf", train, "Age")]:
        changed = frame.head(80 if name.startswith("train") else 20).copy()
        changed.loc[2, column] = np.inf
        changed.to_csv(folder / f"{name}.csv", index=False)
    # item 3: workbooks from fewer than 10 kept training rows
    kept = train.dropna(subset=["Age", "Embarked"])
    for n in (3, 5, 9):
        kept.head(n).to_csv(folder / f"train_{n}.csv", index=False)
    shared.messages = _workbook_variants(folder)
    return folder


class shared:
    messages: dict[str, str] = {}


def _cases() -> list[Case]:
    cases = [Case(f"cli: {name}", argv, code, message) for name, argv, code, message in BAD_INPUTS]
    # item 1: names read from a workbook never become paths outside --out
    for name in ("w_name_absolute", "w_name_parent", "w_name_no_sheet", "w_name_reserved"):
        cases.append(Case(f"import {name}", ["import", f"{name}.xlsx", "--out", "out"], 1, name, out="out"))
    # item 2
    for name, what in [("test_age_inf", "--test"), ("test_fare_inf", "--test")]:
        column = "Age" if "age" in name else "Fare"
        cases.append(Case(f"fit {name}", ["fit", "--train", SMALL_TRAIN, what, f"{name}.csv", "--out", "out", *FAST], 1,
                          f"{name}.csv: column {column} holds inf in data row 3 (line 4), not a finite number", out="out"))
    cases.append(Case("predict test_age_inf", ["predict", MODEL, "--input", "test_age_inf.csv", "--out", "out/s.csv"], 1,
                      "test_age_inf.csv: column Age holds inf in data row 3 (line 4)", out="out"))
    cases.append(Case("fit train_age_inf", ["fit", "--train", "train_age_inf.csv", "--test", SMALL_TEST, "--out", "out", *FAST],
                      1, "train_age_inf.csv: column Age holds inf in data row 3 (line 4)", out="out"))
    # item 3: valid, and the workbook verifies and imports
    for n in (3, 5, 9):
        cases.append(Case(f"fit {n} kept rows", ["fit", "--train", f"train_{n}.csv", "--test", SMALL_TEST, "--out", "out",
                                                 *FAST], 0, out="out", book="out", expect=_imports_back))
    # item 4 and 9: model files, through predict and `workbook --models`
    for name in MODEL_VARIANTS:
        cases.append(Case(f"predict {name}", ["predict", f"{name}.json", "--input", SMALL_TEST, "--out", "out/s.csv"], 1,
                          f"{name}.json: {MODEL_MESSAGES[name]}", out="out"))
        cases.append(Case(f"workbook --models {name}", ["workbook", "--models", f"{name}.json", *SMALL, "--out",
                                                        "out/book.xlsx"], 1, f"{name}.json: {MODEL_MESSAGES[name]}", out="out"))
    # item 10: schema files
    for name, message in SCHEMA_MESSAGES.items():
        cases.append(Case(f"fit --schema {name}", ["fit", "--train", SMALL_TRAIN, "--schema", name, "--out", "out", *FAST], 1,
                          f"{name}: {message}" if "UTF-8" in message or "nested" in message else message, out="out"))
    # item 8 and 12: crafted workbooks, through import and verify
    for name in WORKBOOKS:
        cases.append(Case(f"import {name}", ["import", f"{name}.xlsx", "--out", "out"], 1, name, out="out"))
        cases.append(Case(f"verify {name}", ["verify", f"{name}.xlsx"], 1, name))
    return cases


WORKBOOKS = [
    "w_meta_list", "w_meta_no_features", "w_meta_models_table", "w_meta_rows_fraction", "w_meta_rows_text",
    "w_meta_hidden_20000", "w_meta_hidden_16000", "w_meta_divisor_0", "w_meta_filled_text", "w_meta_deep",
    "w_no_test_sheet", "w_param_nan", "w_param_inf", "w_laughs", "w_xxe", "w_not_well_formed", "w_macros", "w_zip_bomb",
    "w_text_age", "w_target_7", "w_not_a_zip",
]


def _imports_back(folder: Path, out: Path) -> None:
    """The workbook of a few rows imports: one model file per sheet and the same submission as the fit's."""
    (book,) = out.glob("*.xlsx")
    imported = run(["import", book, "--out", folder / "imported", "--quiet"])
    try:
        assert imported.code == 0, imported.err
        assert sorted(p.name for p in (folder / "imported").iterdir()) == ["linear.json", "mmult.json", "nnet.json",
                                                                            "submission.csv"]
        assert (folder / "imported" / "submission.csv").read_bytes() == (out / "submission.csv").read_bytes()
    finally:
        shutil.rmtree(folder / "imported", ignore_errors=True)


CASES = _cases()


def _one_line(case: Case, err: str) -> str:
    lines = err.splitlines()
    assert len(lines) <= 1, err
    line = lines[0] if lines else ""
    assert "Traceback" not in err and "np.float" not in err and "np.int" not in err, err
    assert not re.search(r"\b[A-Z]\w*(Error|Exception)\(", err), err  # no exception repr
    return line


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input(hostile, monkeypatch, tmp_path, case):
    monkeypatch.chdir(hostile)
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = hostile / case.out if case.out else None
    before = snapshot(hostile)
    if out is not None and case.argv[0] == "predict":
        out.mkdir()  # predict writes a file into a folder that exists
    try:
        result = run(case.argv)
        assert result.code == case.code, result.err
        line = _one_line(case, result.err)
        if case.code:
            assert line.startswith("titanic-nn"), line
            assert ";" in line or "--help" in line, line  # the fix is named
            message = shared.messages.get(case.message, case.message)
            assert message in line, line
        after = snapshot(hostile)
        written = {k for k in after if out is not None and (hostile / k).is_relative_to(out)}
        assert {k: v for k, v in after.items() if k not in written} == before  # nothing outside the output folder
        assert list(scratch.iterdir()) == []  # no temporary in $TMPDIR
        if out is not None and out.exists():
            assert [p.name for p in out.rglob(".*")] == []  # nor in the output folder
        if case.code == 0 and case.book:
            (book,) = (hostile / case.book).glob("*.xlsx")
            report = tn.verify(book, engines="all")
            assert report.ok, str(report)
            case.expect(hostile, out)
        elif case.code:
            assert out is None or not out.exists() or not any(out.iterdir())
    finally:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
