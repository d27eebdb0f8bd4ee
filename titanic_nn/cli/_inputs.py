"""A run's inputs: the schema the options describe, the CSVs read and checked up front, saved models and their data."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .._plain import shown
from ..errors import DataError, TitanicNNError, UsageError
from ._messages import PROG, WORKBOOK_NAME, one_line

if TYPE_CHECKING:  # pandas stays unimported until a command needs it
    import pandas as pd

    from ..features import Choice, Schema
    from ..training import FittedModel

__all__ = [
    "Job", "run_kinds", "COLUMN_FLAGS", "SCHEMA_FLAGS", "TRAINING_FLAGS", "flag", "schema_from_options", "check_input_file",
    "read_input", "check_ids", "job_from_options", "unlabelled", "check_workbook_file", "load_model_file", "saved_models",
]

@dataclass
class Job:
    """What a training command works on: the schema, the frames, and which paths are inputs.

    `bundled` is True when the training rows are the bundled Kaggle train.csv; `choices` says how each column of the
    training CSV was typed, when the schema was typed from it (None otherwise).
    """

    schema: "Schema"
    missing: str
    train: "pd.DataFrame"
    test: "pd.DataFrame | None"
    train_path: Path
    test_path: Path | None
    inputs: list[Path] = field(default_factory=list)
    bundled: bool = False
    choices: "list[Choice] | None" = None

    @property
    def workbook_name(self) -> str:
        """titanic.xlsx for the bundled data; otherwise named after the training CSV (loans.csv: loans.xlsx), made a
        plain file name (.hidden.csv: hidden.xlsx, a:b.csv: a_b.xlsx)."""
        from .._names import safe_name

        return WORKBOOK_NAME if self.bundled else safe_name(self.train_path.stem, ".xlsx")

    @property
    def renamed(self) -> str | None:
        """A note when the workbook's name is not the training file's own (a character a file name cannot hold)."""
        if self.bundled or self.workbook_name == f"{self.train_path.stem}.xlsx":
            return None
        return f"the workbook is named {self.workbook_name}, made from the training file's name {self.train_path.name}"


# The options that describe the data's columns (a saved model carries them all in its schema).
COLUMN_FLAGS = ("categorical", "continuous", "log", "ignore")


SCHEMA_FLAGS = ("schema", "preset", "missing", "target", "id_column", "positive", "task", "blank", "embed", *COLUMN_FLAGS)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def schema_from_options(args: argparse.Namespace) -> tuple["Schema", str, bool, "list[Choice] | None"]:
    """`described_schema`, with the columns --embed names embedded (every categorical one for --embed all, and by
    default when the run trains the tabular kind)."""
    from ..features import embedded

    schema, missing, titanic, choices = described_schema(args)
    widths = getattr(args, "embed", None)
    if widths is None and "tabular" in run_kinds(args):
        widths = "all"
    if widths == "all":
        widths = {spec.column: True for spec in schema.categorical if spec.embed is None}
    if widths:
        try:
            schema = embedded(schema, widths)
        except DataError as exc:
            raise UsageError(f"--embed: {one_line(exc).removeprefix('embed: ')}") from exc
    return schema, missing, titanic, choices


def run_kinds(args: argparse.Namespace) -> list[str]:
    """The model kinds a run trains: --kinds, or the lesson's kinds of the registry, with --model's kind added when it
    is none of those (a --model outside a given --kinds is refused)."""
    from ..nn import MODELS

    given = getattr(args, "kinds", None)
    kinds = list(given or [kind for kind, cls in MODELS.items() if cls.lesson])
    chosen = getattr(args, "model", None)
    if isinstance(chosen, str) and chosen in MODELS and chosen not in kinds:
        if given:
            raise UsageError(f"--model {chosen} is not among --kinds {','.join(kinds)}; add it there")
        kinds.append(chosen)
    return kinds


def described_schema(args: argparse.Namespace) -> tuple["Schema", str, bool, "list[Choice] | None"]:
    """The schema, the missing-value rule, whether the data is the Titanic (so the bundled files fit), and the
    choices made typing the training CSV (None when the schema was not typed from it).

    The schema is typed from --train's rows (`infer_schema`) when the run describes its own CSV: a column option is
    given, or --target names the column to predict of a CSV that lacks one of the Titanic preset's inputs. The
    column options then override the typing column by column. Without them, --schema and --preset give the schema,
    and so does the Titanic preset on the bundled files or on a CSV holding the preset's inputs, as before typing.
    """
    from ..features import Schema, preset_schema

    columns_given = any(getattr(args, name) for name in COLUMN_FLAGS)
    if args.schema is not None and columns_given:
        raise UsageError("--schema already lists the columns; leave out --categorical, --continuous, --log and --ignore")
    if args.preset is not None and args.ignore:
        raise UsageError(
            f"--preset {args.preset} lists the Titanic's columns; --ignore leaves out columns of your own CSV's typed "
            "schema: leave out one of them"
        )
    _check_one_use_per_column(args)
    if args.positive is not None and getattr(args, "task", None) not in (None, "binary"):
        raise UsageError(f"--positive codes a binary target's value as 1, but --task is {args.task}; leave out --positive")
    blank = list(args.blank or [])
    if any(not text for text in blank):
        raise UsageError("--blank: an empty cell is blank already; give a text that marks a blank, e.g. --blank NA")
    preset, preset_missing = preset_schema(args.preset or "sheet")
    missing = args.missing or preset_missing
    choices = None
    if args.schema is not None:
        check_input_file(args.schema, "--schema")
        schema = Schema.from_file(args.schema)
        titanic = False
    elif columns_given or (rows := _another_table(args, preset, blank)) is not None:
        if not args.target:
            raise UsageError(
                "--categorical, --continuous, --log and --ignore describe your own CSV: name its 0/1 column with --target"
            )
        if args.train is None:
            raise UsageError("a schema of your own needs your CSV: give it with --train")
        schema, choices = _typed_schema(args, rows if not columns_given else _training_rows(args.train, blank), blank)
        return schema, args.missing or "drop", False, choices
    else:
        schema, titanic = preset, True
    changes = {}
    if args.target:
        changes["target"] = args.target
    if args.id_column:
        changes["id_column"] = args.id_column
    if args.positive is not None:
        changes["positive"] = args.positive
    if getattr(args, "task", None) is not None:
        changes["task"] = args.task
    if blank:
        changes["blank"] = [*schema.blank, *blank]
    if changes:
        schema = Schema.from_dict(schema.to_dict() | changes)
        titanic = titanic and schema.target == "Survived"
    return schema, missing, titanic, choices


def _another_table(args: argparse.Namespace, preset: "Schema", blank: list[str]) -> "pd.DataFrame | None":
    """--train's rows when --target names the column to predict of a CSV other than the Titanic (one lacking an input
    of the preset); else None."""
    if args.train is None or args.target is None or args.preset is not None:
        return None
    rows = _training_rows(args.train, blank)
    return None if all(name in rows.columns for name in preset.input_columns) else rows


def _training_rows(path: Path, blank: list[str]) -> "pd.DataFrame":
    """The training CSV's rows as `read_csv` reads them before a schema names its text columns."""
    from .._data import read_csv

    check_input_file(path, "--train")
    return read_csv(path, blanks=("", *blank))


def _typed_schema(args: argparse.Namespace, rows: "pd.DataFrame", blank: list[str]) -> tuple["Schema", "list[Choice]"]:
    """The schema typed from the training rows, the column options taking the columns they name."""
    from ..features import infer_schema

    return infer_schema(
        rows, target=args.target, id_column=args.id_column, continuous=args.continuous or (), log=args.log or (),
        categorical=args.categorical or (), ignore=args.ignore or (), positive=args.positive, blank=blank,
        task=getattr(args, "task", None),
    )


def _check_one_use_per_column(args: argparse.Namespace) -> None:
    """A column is one input: given to two of --continuous, --log and --categorical it would silently be one of them."""
    seen: dict[str, str] = {}
    for name in ("continuous", "log", "categorical", "ignore"):
        for column in getattr(args, name) or []:
            if column in seen and seen[column] != name:
                first, second = flag(seen[column]), flag(name)
                if "ignore" in (seen[column], name):
                    raise UsageError(f"column {column} is given to both {first} and {second}; give it to one of them")
                raise UsageError(
                    f"column {column} is given to both {first} and {second}, but a column is one input; give it to one "
                    f"of them (--continuous divides by the training max, --log takes log10(x+1); for both, use a "
                    f"--schema file with log and scale)"
                )
            seen[column] = name


def check_input_file(path: Path, what: str) -> None:
    from .._files import existing_file

    existing_file(path, what=f"a file (given as {what})", hint=f"check the path given as {what}")


def read_input(
    path: Path, what: str, schema: "Schema", *, with_target: bool, with_id: bool, preset: bool = False
) -> "pd.DataFrame":
    """A CSV checked up front, so a bad file is named (with the line and the fix) before any training starts.

    `preset`: the schema is the Titanic preset's, not one the user described (so a missing column says how
    to describe one's own).
    """
    from .._data import line_of, read_csv
    from .._plain import names_cut
    from ..features import target_of, target_values

    check_input_file(path, what)
    frame = read_csv(path, text=schema.text_columns, blanks=schema.blank_markers)
    columns = names_cut(frame.columns)
    for name in schema.target_columns if with_target else []:
        if name not in frame.columns:
            raise DataError(
                f"{path}: has no column {name}, the target to predict; name the column to predict with --target "
                f"(the file has {columns})"
            )
    required = list(schema.input_columns) + ([schema.id_column] if with_id and schema.id_column else [])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        # most of the preset's inputs absent: this is another table, so say how to describe its columns
        foreign = preset and len([c for c in missing if c in schema.input_columns]) >= len(schema.input_columns) / 2
        hint = (
            "; those are the Titanic preset's inputs: for your own CSV name the column to predict with --target "
            "(its other columns are then typed for you), or give a --schema file"
            if foreign
            else ""
        )
        raise DataError(f"{path}: missing {names_cut(missing, 'column')}; the file has {columns}{hint}")
    for name in schema.numeric_columns:
        frame[name] = _numbers(frame[name], path)
    for spec in schema.continuous:
        if spec.log != "none" and spec.column in frame.columns:  # (a derived column's log is checked as it is made)
            _check_log_domain(frame[spec.column], path, schema)
    if with_target and schema.target_columns:
        values = target_values(frame, schema)
        target_of(schema, values).code(
            values, source=str(path), locate=lambda i: line_of(frame, i),
            value_fix="recode it to 0/1, name the value that counts as 1 with --positive, predict its numbers with --task "
            "regression, or choose another --target",
            positive_option="--positive {value}",
        )
    if with_id and schema.id_column:
        check_ids(frame, path, schema.id_column)
    return frame


def _numbers(values: "pd.Series", path: Path) -> "pd.Series":
    from .._data import as_numbers

    return as_numbers(values, source=str(path))


def _check_log_domain(values: "pd.Series", path: Path, schema: "Schema") -> None:
    """log(x+1)'s domain (the Log op's own rule): name the first value outside it, with its line in the file."""
    from .._data import line_of
    from ..features import Log

    bad = Log.outside_domain(values.to_numpy(dtype=float))
    if bad.any():
        first = int(bad.argmax())
        raise DataError(
            f"{path}: column {values.name} holds {shown(values.iloc[first])} on {line_of(values, first)}, but it is taken as "
            f"log(x+1), which needs {Log.DOMAIN}; fix that value, or take {values.name} off --log (it is then "
            "divided by its max with --continuous)"
        )


def job_from_options(args: argparse.Namespace, saved: "tuple[Schema, str] | None" = None) -> Job:
    """The data of a run: read and checked, with the schema from the options, or from saved models (`saved`)."""
    from .._data import data_path
    from ..features import PRESETS

    choices = None
    if saved is not None:
        schema, missing = saved
        titanic = any(make() == schema for make, _ in PRESETS.values())
        if args.train is None and not titanic:
            raise UsageError(
                f"the models were trained on your own data (target {', '.join(schema.target_columns)}), not the bundled Titanic files: "
                "give their training CSV with --train"
            )
    else:
        schema, missing, titanic, choices = schema_from_options(args)
        if args.train is None and not titanic:
            raise UsageError("a schema of your own needs your CSV: give it with --train")
    bundled = args.train is None
    train_path = args.train if args.train is not None else data_path("train.csv")
    test_path = args.test
    if test_path is None and bundled:
        test_path = data_path("test.csv")
    # the preset's columns, not ones the user described (then a missing column says how to describe them)
    preset = saved is None and args.schema is None and choices is None
    train = read_input(train_path, "--train", schema, with_target=True, with_id=False, preset=preset)
    test = None if test_path is None else read_input(test_path, "--test", schema, with_target=False, with_id=True, preset=preset)
    inputs = [train_path] + ([test_path] if test_path else []) + ([args.schema] if getattr(args, "schema", None) else [])
    return Job(schema, missing, train, test, train_path, test_path, inputs, bundled, choices)


def unlabelled(job: Job) -> Any:
    """The test rows, given to fit only where the schema counts values over every row (a ticket's frequency)."""
    return job.test if job.schema.counts_unlabelled else None


def check_workbook_file(path: Path) -> None:
    import zipfile

    check_input_file(path, "the workbook")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: is not an .xlsx workbook; give a workbook written by `{PROG} fit` or `{PROG} workbook`")


def load_model_file(path: Path) -> "FittedModel":
    import titanic_nn as tn

    check_input_file(path, "a model file")
    try:
        return tn.load_model(path)
    except TitanicNNError as exc:
        if ";" in str(exc):  # the message already names a fix
            raise
        raise DataError(f"{one_line(exc)}; give a model saved by `{PROG} fit` or `{PROG} import`") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: is not a titanic-nn model file ({one_line(exc)}); save one with `{PROG} fit`") from exc


def _same_training_data(fits: list["FittedModel"], job: Job, paths: Sequence[Path]) -> list["FittedModel"]:
    """Saved models sharing one Features, proven to come from --train (the workbook lays out its rows)."""
    first = fits[0].features
    for fitted, path in zip(fits, paths):
        try:
            if fitted.features.to_dict() != first.to_dict():
                raise DataError("other features than the first model's")
            fitted.features.training_rows(job.train, job.test)
        except DataError as exc:
            raise DataError(
                f"{path}: was trained on other data or features than {job.train_path}; give its training CSV with "
                "--train (and models saved by one run)"
            ) from exc
        fitted.features = first
    return fits


# Options of `workbook` that only training reads: refused with --models, which are trained already.
TRAINING_FLAGS = ("epochs", "lr", "restarts", "ensemble", "hidden", "layers", "head", "device")


def saved_models(args: argparse.Namespace) -> tuple[list["FittedModel"], Job]:
    """`workbook --models`: the saved models and their data, read with the schema the models carry."""
    data_flags = [flag(name) for name in SCHEMA_FLAGS if getattr(args, name) is not None]
    training_flags = [flag(name) for name in TRAINING_FLAGS if getattr(args, name) is not None]
    training_flags += ["--refit"] if args.refit else []
    if data_flags:
        raise UsageError(
            f"--models carry their schema (columns, target, missing-value rule): leave out {', '.join(data_flags)} "
            "and give only --train (and --test) for data of your own"
        )
    if training_flags:
        raise UsageError(f"--models are trained already: leave out {', '.join(training_flags)}")
    loaded = [load_model_file(path) for path in args.models]
    if len({f.name for f in loaded}) != len(loaded):
        raise UsageError(f"--models: the models' names repeat ({', '.join(f.name for f in loaded)}); give one file per model")
    features = loaded[0].features
    job = job_from_options(args, saved=(features.schema_, features.missing_))
    job.inputs += list(args.models)
    fits = _same_training_data(loaded, job, args.models)
    if args.model is not None and args.model not in [f.name for f in fits]:
        raise UsageError(f"--model {args.model}: the models given are {', '.join(f.name for f in fits)}")
    return fits, job


def check_ids(frame: "pd.DataFrame", path: Path | None, id_column: str | None) -> None:
    """The rows to predict each have an id, and no id repeats; a DataError names the file, column and lines.

    An id is text, compared as text: `001` and `1` are two ids, and ` 5` is not `5`."""
    from .._data import line_of, lines_of

    if not id_column or id_column not in frame.columns:
        return
    ids = frame[id_column]
    blank = ids.isna().to_numpy()
    if blank.any():
        raise DataError(
            f"{path}: column {id_column} is blank on {line_of(frame, int(blank.argmax()))} ({int(blank.sum())} blank "
            "in all); give every row an id, as the submission needs one per row"
        )
    repeated = ids.duplicated(keep=False).to_numpy()
    if repeated.any():
        first = int(repeated.argmax())
        places = lines_of(frame, (ids == ids.iloc[first]).to_numpy().nonzero()[0][:3])
        others = int(ids[repeated].nunique()) - 1
        more = f", and {others} other id(s) repeat too" if others else ""
        raise DataError(
            f"{path}: column {id_column} repeats {shown(ids.iloc[first])} on {places}{more}; ids must be "
            "unique, since Kaggle scores a submission by id"
        )
