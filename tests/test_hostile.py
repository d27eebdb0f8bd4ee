"""Hostile inputs (issue 14): every crafted input, and the 48 bad inputs of test_cli, through the command line.

Each case runs `titanic-nn` in a folder of crafted inputs, with its own output folder and its own
$TMPDIR, and asserts: the exit code (1 or 2; or 0 where the input is valid, and the workbook written
then verifies in both engines); at most one line on stderr, never a traceback, a numpy repr or an
exception's repr; nothing written outside the output folder and no temporary left there or in
$TMPDIR; every input byte for byte as it was.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import crafted
import titanic_nn as tn
from test_cli import BAD_INPUTS, ROOT, make_bad_inputs, run, run_subprocess, snapshot
from titanic_nn._atomic import TEMP_PREFIX
from titanic_nn.engines import Engine

SMALL_TRAIN, SMALL_TEST = "small_train.csv", "small_test.csv"
SMALL = ["--train", SMALL_TRAIN, "--test", SMALL_TEST]
FAST = ["--restarts", "1", "--quiet"]
BOOK = "base/small_train.xlsx"  # a valid workbook of the small data, the start of every crafted one
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
    prepare: object = None  # a function of the case folder, run before the snapshot: a link to plant, say
    patch: object = None  # a function of monkeypatch: what must not run (training), or a smaller limit
    silent: bool = False  # nothing at all on stderr (a warning that must not leak)


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
    "m_target_list": "features.schema: target lists ['Survived']",  # one column is no list of several labels
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
    "s_target_list.json": "target lists ['Survived']; several labels are two or more different columns",
    "s_column_int.json": "continuous[0]: column is 5, not a column name",
    "s_column_bare_int.json": "continuous[0]: a column entry must be a name or a table, not 5",
    "s_deep.json": "is nested too deeply to be a schema",
    "s_deep.toml": "is nested too deeply to be a schema",
    "s_levels_text.toml": "column Sex: levels is 'male', not a list",
    "s_continuous_text.json": "continuous is 'Age', not a list of columns",
}

# Kaggle's ids are numbers; these are what a hostile test file may hold instead (-5 is a number, left alone).
HOSTILE_IDS = [
    "=1+1", "@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://example.com/?q=1","click")', "+cmd", "-5",
    "\r=1+1", "a\rb", "a,b", 'say "hi"', "\ttab",
]
# as the submission writes them: exactly as given (Kaggle matches ids as text), quoted where a spreadsheet would run one
GUARDED = [
    '"=1+1"', "\"@SUM(1+1)*cmd|' /C calc'!A0\"", '"=HYPERLINK(""http://example.com/?q=1"",""click"")"', '"+cmd"',
    "-5", '"\r=1+1"', '"a\rb"', '"a,b"', '"say ""hi"""', '"\ttab"',
]

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
    messages["w_not_well_formed"] = "(sheet mmult) is not well-formed XML ("
    crafted.with_part(book, folder / "w_macros.xlsx", "xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 a VBA project")
    messages["w_macros"] = "holds macro-enabled content (xl/vbaProject.bin)"
    # an .xlsm renamed: its content types say macro-enabled, even with no VBA part
    macro_type = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    crafted.with_part(book, folder / "w_macro_type.xlsx", "[Content_Types].xml",
                      lambda b: b.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                          macro_type))
    messages["w_macro_type"] = "holds macro-enabled content (the content type application/vnd.ms-excel.sheet.macroEnabled"
    # the bomb: a 2 MB file whose part expands to 2 GiB, refused before a byte is inflated
    crafted.with_bomb(book, folder / "w_zip_bomb.xlsx")
    messages["w_zip_bomb"] = "part xl/media/bomb.xml expands 1,0"
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
    # item 5: ids a spreadsheet would run as formulas, or that break CSV rows; written by the csv module,
    # which quotes them (pandas would write a bare CR unquoted)
    ids = test.head(len(HOSTILE_IDS)).copy()
    ids["PassengerId"] = HOSTILE_IDS
    ids.to_csv(folder / "test_ids.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)
    # item 6 and 14: values longer than a cell, or than a message should show
    long_id = test.head(20).astype({"PassengerId": object})
    long_id.loc[2, "PassengerId"] = "x" * 40_000
    long_id.to_csv(folder / "test_long_id.csv", index=False)
    long_level = test.head(20).copy()
    long_level.loc[2, "Embarked"] = "Q" * 40_000
    long_level.to_csv(folder / "test_long_level.csv", index=False)
    # item 13: ids that repeat or are blank, found before training
    repeated = test.head(20).copy()
    repeated.loc[7, "PassengerId"] = repeated.loc[3, "PassengerId"]
    repeated.to_csv(folder / "test_repeated_ids.csv", index=False)
    blank = test.head(20).astype({"PassengerId": object})
    blank.loc[4, "PassengerId"] = None
    blank.to_csv(folder / "test_blank_id.csv", index=False)
    (folder / "alias").mkdir()
    shutil.copy(folder / SMALL_TRAIN, folder / "alias" / "submission.csv")
    # item 14: a model file in Latin-1; pandas typing a column chunk by chunk (its DtypeWarning)
    (folder / "m_latin1.json").write_bytes((folder / MODEL).read_text().replace("Survived", "Surviv\xe9d").encode("latin-1"))
    mixed = pd.concat([test] * 360, ignore_index=True)
    mixed["PassengerId"] = range(1, len(mixed) + 1)
    mixed["Extra"] = pd.Series([1] * (len(mixed) - 1) + ["text"], dtype=object)
    mixed.to_csv(folder / "test_mixed_types.csv", index=False)
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
                          f"{name}.csv: column {column} holds inf on line 4, not a finite number", out="out"))
    cases.append(Case("predict test_age_inf", ["predict", MODEL, "--input", "test_age_inf.csv", "--out", "out/s.csv"], 1,
                      "test_age_inf.csv: column Age holds inf on line 4", out="out"))
    cases.append(Case("fit train_age_inf", ["fit", "--train", "train_age_inf.csv", "--test", SMALL_TEST, "--out", "out", *FAST],
                      1, "train_age_inf.csv: column Age holds inf on line 4", out="out"))
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
    # item 1: every writer stays inside its output folder: a link planted there is refused as an output, and
    # neither it nor what it points at is touched
    cases.append(Case("fit over a planted link", ["fit", *SMALL, "--out", "out", *FAST], 1,
                      "out/nnet.json: is a symbolic link, not a regular file; an output is written only to a regular "
                      "file or a new path", out="out", prepare=_plant_link, expect=_link_kept))
    # item 5: formula-looking ids are guarded, every field that needs it quoted, and the ids come back
    # unchanged through the workbook and import
    cases.append(Case("fit formula ids", ["fit", "--train", SMALL_TRAIN, "--test", "test_ids.csv", "--out", "out", *FAST],
                      0, "test_ids.csv: 6 value(s) start with =, +, -, @, a tab or a carriage return (first '=1+1' on "
                      "line 2), which a spreadsheet opening the submission would run as a formula", out="out",
                      book="out", expect=_ids_guarded_and_round_trip))
    cases.append(Case("predict formula ids", ["predict", MODEL, "--input", "test_ids.csv", "--out", "out/s.csv"], 0,
                      "test_ids.csv: 6 value(s) start with", out="out", expect=_predicted_ids_guarded))
    # item 6: more than a cell holds, refused naming the column and the line (before training)
    cases.append(Case("fit 40,000-character id", ["fit", "--train", SMALL_TRAIN, "--test", "test_long_id.csv", "--out",
                                                   "out", *FAST], 1, "test_long_id.csv: column PassengerId, line 4, "
                      "holds 40,000 characters, more than the 32,767 an Excel cell holds", out="out", patch=_no_training))
    cases.append(Case("predict 40,000-character id", ["predict", MODEL, "--input", "test_long_id.csv", "--out",
                                                       "out/s.csv"], 1, "test_long_id.csv: column PassengerId, line 4, "
                      "holds 40,000 characters, more than the 32,767 a spreadsheet cell holds", out="out"))
    # item 13: rejected before any training starts
    cases.append(Case("fit repeated test ids", ["fit", "--train", SMALL_TRAIN, "--test", "test_repeated_ids.csv", "--out",
                                                 "out", *FAST], 1, "test_repeated_ids.csv: column PassengerId repeats '895' "
                      "on lines 5, 9", out="out", patch=_no_training))
    cases.append(Case("fit blank test id", ["fit", "--train", SMALL_TRAIN, "--test", "test_blank_id.csv", "--out", "out",
                                             *FAST], 1, "test_blank_id.csv: column PassengerId is blank on line 6", out="out",
                      patch=_no_training))
    cases.append(Case("predict repeated ids", ["predict", MODEL, "--input", "test_repeated_ids.csv", "--out", "out/s.csv"],
                      1, "test_repeated_ids.csv: column PassengerId repeats '895'", out="out"))
    cases.append(Case("fit more rows than a sheet", ["fit", *SMALL, "--out", "out", *FAST], 1,
                      "small_train.csv: 60 training rows are kept, but a sheet holds 47 below its header rows", out="out",
                      patch=_small_sheets))
    cases.append(Case("workbook more rows than a sheet", ["workbook", *SMALL, "--out", "out/book.xlsx", *FAST], 1,
                      "small_train.csv: 60 training rows are kept, but a sheet holds 47", out="out", patch=_small_sheets))
    cases.append(Case("fit output over its input", ["fit", "--train", "alias/submission.csv", "--test", SMALL_TEST, "--out",
                                                     "alias", *FAST], 1, "alias/submission.csv: is an input of this run",
                      patch=_no_training))
    cases.append(Case("workbook output over its input", ["workbook", *SMALL, "--out", SMALL_TEST, *FAST], 1,
                      "small_test.csv: is an input of this run", patch=_no_training))
    # item 14: messages
    cases.append(Case("fit --valid-frac leaving no rows", ["fit", "--train", "train_3.csv", "--test", SMALL_TEST,
                                                            "--valid-frac", "0.1", "--out", "out", *FAST], 1,
                      "train_3.csv: 3 training row(s) are kept, and --valid-frac 0.1 of them leaves no validation rows",
                      out="out", patch=_no_training))
    cases.append(Case("predict Latin-1 model", ["predict", "m_latin1.json", "--out", "out/s.csv"], 1,
                      "m_latin1.json: is not UTF-8 text (byte 0xE9 at position", out="out"))
    cases.append(Case("predict 40,000-character level", ["predict", MODEL, "--input", "test_long_level.csv", "--out",
                                                          "out/s.csv"], 0, "column Embarked: level(s) ['QQQQ", out="out",
                      expect=_short_warning))
    cases.append(Case("predict mixed types", ["predict", MODEL, "--input", "test_mixed_types.csv", "--out", "out/s.csv"],
                      0, out="out", silent=True))
    # item 8 and 12: crafted workbooks, through import and verify
    for name in WORKBOOKS:
        cases.append(Case(f"import {name}", ["import", f"{name}.xlsx", "--out", "out"], 1, name, out="out"))
        cases.append(Case(f"verify {name}", ["verify", f"{name}.xlsx"], 1, name))
    return cases


WORKBOOKS = [
    "w_meta_list", "w_meta_no_features", "w_meta_models_table", "w_meta_rows_fraction", "w_meta_rows_text",
    "w_meta_hidden_20000", "w_meta_hidden_16000", "w_meta_divisor_0", "w_meta_filled_text", "w_meta_deep",
    "w_no_test_sheet", "w_param_nan", "w_param_inf", "w_laughs", "w_xxe", "w_not_well_formed", "w_macros", "w_zip_bomb",
    "w_text_age", "w_target_7", "w_not_a_zip", "w_macro_type",
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


def _no_training(monkeypatch) -> None:
    def train_model(*args, **kwargs):
        raise AssertionError("training started before the inputs were checked")

    monkeypatch.setattr(tn, "train_model", train_model)


def _small_sheets(monkeypatch) -> None:
    """Sheets of 50 rows, so 80 training rows are too many (the real limit is 1,048,576)."""
    import titanic_nn.excel

    monkeypatch.setattr(titanic_nn.excel, "MAX_ROWS", 50)
    _no_training(monkeypatch)


def _plant_link(folder: Path) -> None:
    """A link in the output folder named like an output, pointing at a file outside it."""
    (folder / "out").mkdir()
    (folder / "victim.json").write_text("the victim's own text\n")
    (folder / "out" / "nnet.json").symlink_to(folder / "victim.json")


def _link_kept(folder: Path, out: Path) -> None:
    assert (folder / "victim.json").read_text() == "the victim's own text\n"
    assert (out / "nnet.json").is_symlink() and (out / "nnet.json").resolve() == (folder / "victim.json").resolve()
    assert sorted(p.name for p in out.iterdir()) == ["nnet.json"]  # nothing else was written
    (out / "nnet.json").unlink()
    (folder / "victim.json").unlink()


def _ids_guarded_and_round_trip(folder: Path, out: Path) -> None:
    from titanic_nn.workbook import read_contents

    text = _read_raw(out / "submission.csv")
    lines = text.split("\n")
    assert lines[0] == "PassengerId,Survived" and lines[-1] == ""
    assert [line.rsplit(",", 1)[0] for line in lines[1:-1]] == GUARDED
    with open(out / "submission.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == 1 + len(HOSTILE_IDS) == len(pd.read_csv(out / "submission.csv")) + 1  # both readers agree
    assert [row[0] for row in rows[1:]] == HOSTILE_IDS  # exactly as they came in
    (book,) = out.glob("*.xlsx")
    assert read_contents(book).test["PassengerId"].tolist() == HOSTILE_IDS  # the workbook holds them unchanged
    imported = run(["import", book, "--out", folder / "imported", "--quiet"])
    try:
        assert imported.code == 0, imported.err
        assert (folder / "imported" / "submission.csv").read_bytes() == (out / "submission.csv").read_bytes()
    finally:
        shutil.rmtree(folder / "imported", ignore_errors=True)


def _read_raw(path: Path) -> str:
    """The file's text with its line ends as written (a CR inside a quoted field stays a CR)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return handle.read()


def _predicted_ids_guarded(folder: Path, out: Path) -> None:
    lines = _read_raw(out / "s.csv").split("\n")
    assert [line.rsplit(",", 1)[0] for line in lines[1:-1]] == GUARDED


def _short_warning(folder: Path, out: Path, err: str = "") -> None:
    assert (out / "s.csv").is_file()


CASES = _cases()


def _one_line(case: Case, err: str) -> str:
    lines = err.splitlines()
    assert len(lines) <= 1, err
    line = lines[0] if lines else ""
    assert "Traceback" not in err and "np.float" not in err and "np.int" not in err, err
    assert not re.search(r"\b[A-Z]\w*(Error|Exception)\(", err), err  # no exception repr
    return line


# a case whose workbook must then verify starts the engines
@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=[pytest.mark.engines] if c.book else []) for c in CASES], ids=[c.name for c in CASES]
)
def test_hostile_input(hostile, monkeypatch, tmp_path, case):
    monkeypatch.chdir(hostile)
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = hostile / case.out if case.out else None
    if case.prepare:
        case.prepare(hostile)
    if case.patch:
        case.patch(monkeypatch)
    before = snapshot(hostile)
    if out is not None and case.argv[0] == "predict":
        out.mkdir()  # predict writes a file into a folder that exists
    try:
        result = run(case.argv)
        assert result.code == case.code, result.err
        line = _one_line(case, result.err)
        assert len(line) < 600, line  # long values are cut short
        if case.silent:
            assert result.err == ""
        if case.message and not case.code:
            assert case.message in line, line
        if case.code:
            assert line.startswith("titanic-nn"), line
            assert ";" in line or "--help" in line, line  # the fix is named
            message = shared.messages.get(case.message, case.message)
            assert message in line, line
        def outside(files: dict[str, str]) -> dict[str, str]:
            return {k: v for k, v in files.items() if out is None or not (hostile / k).is_relative_to(out)}

        assert outside(snapshot(hostile)) == outside(before)  # nothing written outside the output folder
        assert list(scratch.iterdir()) == []  # no temporary in $TMPDIR
        if out is not None and out.exists():
            assert [p.name for p in out.rglob(".*")] == []  # nor in the output folder
        if case.code == 0 and case.book:
            (book,) = (hostile / case.book).glob("*.xlsx")
            report = tn.verify(book, engines="all")
            assert report.ok, str(report)
        if case.expect:
            case.expect(hostile, out)
        if case.code:
            assert out is None or not out.exists() or not any(out.iterdir())
    finally:
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)


# -- signals and stale temporaries (item 7) --------------------------------------------------------------

BIG_ROWS = 200_000


@pytest.fixture(scope="module")
def big_train(tmp_path_factory, titanic):
    """200,000 training rows (the bundled ones resampled), written once for every signal test."""
    train, _ = titanic
    big = train.sample(BIG_ROWS, replace=True, random_state=0).reset_index(drop=True)
    big["PassengerId"] = range(1, BIG_ROWS + 1)
    path = tmp_path_factory.mktemp("big") / "big.csv"
    big.to_csv(path, index=False)
    return path


def _temporaries(folder: Path) -> list[Path]:
    """Every file inside a temporary folder of ours under `folder`."""
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if any(part.startswith(TEMP_PREFIX) for part in p.relative_to(folder).parts)]


def _start_big_fit(big: Path, cwd: Path) -> tuple[subprocess.Popen, Path]:
    shutil.copy(big, cwd / "big.csv")
    scratch = cwd.parent / f"{cwd.name}-tmpdir"
    scratch.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), TMPDIR=str(scratch))
    argv = [sys.executable, "-u", "-m", "titanic_nn", "fit", "--train", "big.csv", "--out", "out", "--method", "gd",
            "--epochs", "2", "--restarts", "1"]
    with open(cwd.parent / f"{cwd.name}.stdout", "w") as stdout, open(cwd.parent / f"{cwd.name}.stderr", "w") as stderr:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=stderr)
    return process, scratch


def _wait_for(process: subprocess.Popen, cwd: Path, point: str, limit: float = 120) -> None:
    """Until the run reaches `point`: "training" (the second model trains), "sheets" (XlsxWriter's row files
    are being written) or "zip" (the workbook's archive is being deflated)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        assert process.poll() is None, "the run ended before the signal"
        if point == "training" and "training nnet" in (cwd.parent / f"{cwd.name}.stdout").read_text():
            return
        # out/ is made only once the outputs are complete: until then they are staged in its parent, cwd
        files = [p for p in _temporaries(cwd) if p.is_file()]
        books = [p for p in files if p.suffix == ".xlsx"]
        try:
            size = sum(p.stat().st_size for p in files)
            if point == "sheets" and size > 4_000_000 and not books:
                return
            if point == "zip" and books and books[0].stat().st_size > 1_000_000:
                return
        except FileNotFoundError:  # a part zipped and removed meanwhile
            pass
        time.sleep(0.02)
    raise AssertionError(f"the run did not reach {point} within {limit} s")


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"])
@pytest.mark.parametrize("point", ["training", "sheets", "zip"])
def test_a_signal_leaves_nothing(big_train, tmp_path, number, point):
    """SIGTERM and SIGHUP are handled like Ctrl-C at every point of a 200,000-row run: no output, no folder made,
    no temporary beside the output folder or in $TMPDIR, and the shell's code for the signal."""
    cwd = tmp_path / "run"
    cwd.mkdir()
    process, scratch = _start_big_fit(big_train, cwd)
    try:
        _wait_for(process, cwd, point)
        process.send_signal(number)
        process.wait(timeout=60)
    finally:
        process.kill()
    stderr = (tmp_path / "run.stderr").read_text()
    what = "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"
    assert stderr.splitlines()[-1] == f"titanic-nn: {what}; no output was written and no temporary file was left"
    assert "Traceback" not in stderr
    # 130 or 143 from main; or killed by SIGINT itself, which CPython does at exit when the interrupt
    # landed in code that torch's import runs through exec (see test_cli's test_ctrl_c_leaves_no_output)
    assert process.returncode in (128 + number, -signal.SIGINT if number == signal.SIGINT else 128 + number)
    assert sorted(p.name for p in cwd.iterdir()) == ["big.csv"]  # the output folder it created is gone too
    assert list(scratch.iterdir()) == []


def test_a_killed_run_is_swept_by_the_next(big_train, tmp_path, hostile):
    """SIGKILL cannot be handled: its temporaries stay, and the next run writing into that folder removes
    them, leaving those of a process still running."""
    cwd = tmp_path / "run"
    cwd.mkdir()
    process, scratch = _start_big_fit(big_train, cwd)
    try:
        _wait_for(process, cwd, "sheets")
        process.kill()
        process.wait(timeout=60)
    finally:
        process.kill()
    left = [p for p in cwd.iterdir() if p.name.startswith(TEMP_PREFIX)]  # staged beside out/, not yet made
    assert left and sum(p.stat().st_size for p in _temporaries(cwd) if p.is_file()) > 4_000_000
    alive = cwd / f"{TEMP_PREFIX}{os.getppid()}-0123456789ab"  # a running process's: kept
    alive.mkdir()
    done = run_subprocess(["fit", "--train", hostile / SMALL_TRAIN, "--test", hostile / SMALL_TEST, "--out", ".", *FAST],
                          cwd)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in cwd.iterdir() if p.name.startswith(".")) == [alive.name]
    assert {p.name for p in cwd.iterdir()} >= {"submission.csv", "linear.json", "nnet.json", "mmult.json"}
    assert list(scratch.iterdir()) == []


# -- a full disk (item 11) ---------------------------------------------------------------------------------


def _small_disk_command(folder: Path, kilobytes: int, argv: list[str]) -> list[str]:
    """The command running `titanic-nn argv` with `folder` a filesystem of `kilobytes` (a tmpfs in a mount
    namespace of its own, so nothing outside the command sees it), or with writes beyond that size failing
    (RLIMIT_FSIZE) where namespaces are not available."""
    program = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "titanic_nn", *map(str, argv)])
    if shutil.which("unshare") and subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0:
        mount = f"mount -t tmpfs -o size={kilobytes}k tmpfs {shlex.quote(str(folder))}"
        return ["unshare", "-rm", "sh", "-c", f"{mount} && exec {program}"]
    limit = f"import resource, signal, os, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); " \
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({kilobytes * 1024}, {kilobytes * 1024})); " \
            f"os.execv(sys.executable, {[sys.executable, '-m', 'titanic_nn', *map(str, argv)]!r})"
    return [sys.executable, "-c", limit]


@pytest.mark.parametrize("command, kilobytes, written", [
    ("fit", 16, "small_train.xlsx"),  # the disk fills while the workbook is written
    ("import", 4, "linear.json"),  # ... while a model's JSON is written (the first: each file takes a 4 KiB page)
])
def test_a_full_disk_names_the_file(hostile, tmp_path, command, kilobytes, written):
    disk = tmp_path / "disk"
    disk.mkdir()
    argv = (["fit", *SMALL, "--out", disk / "out", *FAST] if command == "fit"
            else ["import", hostile / BOOK, "--out", disk / "out", "--quiet"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               TMPDIR=str(tmp_path))
    done = subprocess.run(_small_disk_command(disk, kilobytes, argv), cwd=hostile, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip()
    assert line.startswith(f"titanic-nn: error: {disk / 'out' / written}: cannot be written ("), line
    assert line.endswith("); free some space there or write the outputs elsewhere"), line
    assert "No space left on device" in line or "File too large" in line, line
    assert list(disk.iterdir()) == []  # the output folder it created is gone, with every temporary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk"]


# -- verify counts what an engine did not write back (item 12) ---------------------------------------------


@pytest.mark.engines
def test_verify_counts_a_sheet_an_engine_emptied_or_dropped(hostile, tmp_path):
    """LibreOffice loads a sheet that carries a DTD as an empty sheet; verify counts each of its computed
    cells as disagreeing (and titanic-nn refuses such a workbook before any engine sees it)."""
    from titanic_nn.engines import compare, recalculate
    from titanic_nn.workbook import expected_sheets
    from titanic_nn.workbook import read_contents

    contents = read_contents(hostile / BOOK)
    expected = {sheet.name: sheet for sheet in expected_sheets(contents)}
    nnet_cells = sum(sheet_cells for sheet_cells in _computed_counts(expected["nnet"]))
    total = sum(sum(_computed_counts(sheet)) for sheet in expected.values())
    crafted.with_sheet(hostile / BOOK, tmp_path / "dtd.xlsx", "nnet", lambda b: crafted.with_dtd(b, crafted.DTD_LAUGHS, "lol3"))
    (copy,) = recalculate([tmp_path / "dtd.xlsx"], tmp_path / "recalculated", engine="libreoffice")
    emptied = compare(contents, copy, "libreoffice")
    # every computed cell of nnet, and the test sheet's cells that read its parameters
    assert (emptied.ok, emptied.cells_checked) == (False, total) and emptied.mismatches > nnet_cells
    assert emptied.first_mismatch.startswith("nnet!")
    # a copy that lacks the sheet altogether
    crafted.without_sheet(copy, tmp_path / "dropped.xlsx", "nnet")
    dropped = compare(contents, tmp_path / "dropped.xlsx", "libreoffice")
    assert (dropped.ok, dropped.mismatches, dropped.cells_checked) == (False, emptied.mismatches, total)
    assert dropped.first_mismatch.endswith("(the engine dropped sheet nnet)")
    result = run(["verify", tmp_path / "dtd.xlsx"])
    assert result.code == 1 and "(sheet nnet) carries a document type declaration" in result.err


def _computed_counts(sheet) -> list[int]:
    counts = [sheet.n_rows if c.computed else int(np.count_nonzero(c.highlight)) if c.fill_formula and c.highlight is not None
              else 0 for c in sheet.columns]
    return counts + [1 for cell in sheet.cells if cell.computed]


# -- random damage: nothing but the project's own errors (Must show) -----------------------------------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


class _Copying(Engine):
    """An engine that writes back the workbook it was given: verify then compares the damaged file itself."""

    name = label = "copying"
    binaries = ("sh",)

    def recalculate(self, paths, outdir, *, binary=None, timeout=None):
        Path(outdir).mkdir(parents=True, exist_ok=True)
        return [Path(shutil.copy(p, Path(outdir) / f"{i}.xlsx")) for i, p in enumerate(paths)]


def _damaged(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    damaged = bytearray(data)
    for position, value in flips:
        damaged[position % len(damaged)] = value
    return bytes(damaged)


DAMAGE = st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=8)


def _check_damaged(book: Path, monkeypatch, tmp_path: Path) -> None:
    import titanic_nn.engines._verify as verify_module

    monkeypatch.setattr(verify_module, "choose_engines", lambda engines=None, binaries=None: [_Copying()])
    for argv in (["import", book, "--out", tmp_path / "out", "--quiet"], ["verify", book]):
        result = run(argv)  # anything but the project's own errors escapes main, and fails here
        assert result.code in (0, 1), result.err
        assert result.err.count("\n") <= 1 and "Traceback" not in result.err, result.err
        if result.code:
            assert result.err.startswith("titanic-nn: error: "), result.err
        shutil.rmtree(tmp_path / "out", ignore_errors=True)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(flips=DAMAGE)
def test_random_bytes_of_a_workbook(hostile, monkeypatch, tmp_path_factory, flips):
    """Bytes of the .xlsx file replaced at random: the zip's structure, its deflated streams, anything."""
    folder = tmp_path_factory.mktemp("damaged")
    book = folder / "book.xlsx"
    book.write_bytes(_damaged((hostile / BOOK).read_bytes(), flips))
    with monkeypatch.context() as patch:
        _check_damaged(book, patch, folder)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(part=st.integers(min_value=0), flips=DAMAGE)
def test_random_bytes_of_a_workbook_part(hostile, monkeypatch, tmp_path_factory, part, flips):
    """Bytes of one part's XML replaced at random and the zip rebuilt: what reaches the XML parsers, openpyxl
    and the reader's checks."""
    contents = crafted.parts(hostile / BOOK)
    name = sorted(contents)[part % len(contents)]
    contents[name] = _damaged(contents[name], flips)
    folder = tmp_path_factory.mktemp("damaged")
    book = crafted.write_parts(folder / "book.xlsx", contents)
    with monkeypatch.context() as patch:
        _check_damaged(book, patch, folder)


_VALUE = re.compile(rb"(<(v|t)(?: [^>]*)?>)([^<]*)(</\2>)")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(part=st.integers(min_value=0), cell=st.integers(min_value=0), text=st.text(max_size=40))
@example(part=3362, cell=8_796_778_629, text="")  # a level emptied: verify warned of it, a second line
def test_random_values_in_a_workbook(hostile, monkeypatch, tmp_path_factory, part, cell, text):
    """One cell's value or text (a parameter, a raw value, a piece of the hidden sheet's JSON) replaced by random
    text, the XML kept well-formed: what reaches openpyxl's cell parsing and the reader's checks."""
    from xml.sax.saxutils import escape

    contents = crafted.parts(hostile / BOOK)
    sheets = sorted(n for n in contents if n.startswith("xl/worksheets/sheet"))
    name = sheets[part % len(sheets)]
    found = list(_VALUE.finditer(contents[name]))
    chosen = found[cell % len(found)]
    # only the characters XML can hold: the file stays well-formed
    value = escape("".join(c for c in text if c in "\t\n" or 0x20 <= ord(c) < 0xD800 or 0xE000 <= ord(c) < 0xFFFE))
    contents[name] = contents[name][: chosen.start(3)] + value.encode() + contents[name][chosen.end(3):]
    folder = tmp_path_factory.mktemp("damaged")
    book = crafted.write_parts(folder / "book.xlsx", contents)
    with monkeypatch.context() as patch:
        _check_damaged(book, patch, folder)


# -- the bounds of an .xlsx, each refused before anything is inflated (item 12) -------------------------------


@pytest.mark.parametrize("limit, value, message", [
    ("MAX_PARTS", 5, "parts, more than the 5 a workbook may have"),
    # above every part the small workbook holds (its training sheets reach about 1 MiB), below the noise
    ("MAX_PART_BYTES", 3 << 20, "part xl/media/noise.bin expands to 4.0 MiB, more than the 3.0 MiB a part may"),
    ("MAX_TOTAL_BYTES", 128 << 10, "expands to more than 128.0 KiB in all"),
])
def test_the_bounds_of_a_workbook(hostile, tmp_path, monkeypatch, limit, value, message):
    import titanic_nn.workbook._untrusted as untrusted

    # 4 MiB that do not compress (under the ratio bound): only the bound set here refuses them
    noise = np.random.default_rng(0).integers(0, 256, 4 << 20, dtype=np.uint8).tobytes()
    book = crafted.with_part(hostile / BOOK, tmp_path / "book.xlsx", "xl/media/noise.bin", noise)
    monkeypatch.setattr(untrusted, limit, value)
    with pytest.raises(tn.DataError, match=re.escape(message)):
        tn.read_workbook(book)
    monkeypatch.undo()
    assert [f.name for f in tn.read_workbook(book)] == ["linear", "nnet", "mmult"]  # within the real bounds


def test_an_unknown_encoding_in_an_xml_declaration_is_refused(hostile, tmp_path):
    """Found by test_random_bytes_of_a_workbook_part: expat raises LookupError, not ExpatError, for encoding="U-F-8"."""
    book = crafted.with_sheet(hostile / BOOK, tmp_path / "book.xlsx", "linear",
                              lambda xml: xml.replace(b'encoding="UTF-8"', b'encoding="U-F-8"', 1))
    assert b'encoding="U-F-8"' in crafted.parts(book)[crafted.sheet_part(crafted.parts(book), "linear")]
    with pytest.raises(tn.DataError, match=r"\(sheet linear\) declares an encoding that is not known"):
        tn.read_workbook(book)
