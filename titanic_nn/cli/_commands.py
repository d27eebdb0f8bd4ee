"""The work behind each `titanic-nn` command: reading inputs, training, writing outputs atomically."""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from .._names import output_in
from ..errors import DataError, MissingDependencyError, TitanicNNError, TrainingDivergedError, UsageError
from ._early import check_before_training, check_ids, check_outputs

if TYPE_CHECKING:  # pandas and torch stay unimported until a command needs them
    import pandas as pd

    from ..features import Schema
    from ..training import FittedModel

__all__ = ["run_fit", "run_predict", "run_workbook", "run_verify", "run_import", "results_table"]

PROG = "titanic-nn"
DEFAULT_OUT = "titanic-nn-out"
WORKBOOK_NAME = "titanic.xlsx"
SUBMISSION_NAME = "submission.csv"
LOSS_PLOT_NAME = "loss.png"


def one_line(message: object) -> str:
    """A message folded onto one line, as every error and warning is printed, numpy's reprs as plain numbers
    (np.float64(-1.0) as -1.0: a message shows values, never the type numpy held them in)."""
    return _NUMPY_REPR.sub(r"\1", " ".join(str(message).split())) or "unknown error"


_NUMPY_REPR = re.compile(r"\bnp\.(?:float|int|uint|bool|str|complex)_?\d*\(([^()]*)\)")


def _note(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message)


# -- data and models ------------------------------------------------------------------------------


@dataclass
class Job:
    """What a training command works on: the schema, the frames, and which paths are inputs.

    `bundled` is True when the training rows are the bundled Kaggle train.csv.
    """

    schema: "Schema"
    missing: str
    train: "pd.DataFrame"
    test: "pd.DataFrame | None"
    train_path: Path
    test_path: Path | None
    inputs: list[Path] = field(default_factory=list)
    bundled: bool = False

    @property
    def workbook_name(self) -> str:
        """titanic.xlsx for the bundled data; otherwise named after the training CSV (loans.csv: loans.xlsx)."""
        return WORKBOOK_NAME if self.bundled else f"{self.train_path.stem}.xlsx"


# The options that describe the data's columns (a saved model carries them all in its schema).
COLUMN_FLAGS = ("categorical", "continuous", "log")
SCHEMA_FLAGS = ("schema", "preset", "missing", "target", "id_column", "positive", *COLUMN_FLAGS)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _schema(args: argparse.Namespace) -> tuple["Schema", str, bool]:
    """The schema, the missing-value rule, and whether the data is the Titanic (so the bundled files fit)."""
    from ..features import Categorical, Continuous, Schema, preset_schema

    columns_given = any(getattr(args, name) for name in COLUMN_FLAGS)
    if args.schema is not None and columns_given:
        raise UsageError("--schema already lists the columns; leave out --categorical, --continuous and --log")
    _check_one_use_per_column(args)
    preset, preset_missing = preset_schema(args.preset or "sheet")
    missing = args.missing or preset_missing
    if args.schema is not None:
        _check_input_file(args.schema, "--schema")
        schema = Schema.from_file(args.schema)
        titanic = False
    elif columns_given:
        if not args.target:
            raise UsageError("--categorical, --continuous and --log describe your own CSV: name its 0/1 column with --target")
        continuous = [Continuous(c, scale="max") for c in args.continuous or []]
        continuous += [Continuous(c, log="log10") for c in args.log or []]
        categorical = [Categorical(c) for c in args.categorical or []]
        schema = Schema(
            target=args.target, id_column=args.id_column, continuous=tuple(continuous),
            categorical=tuple(categorical), constant="Ones",
        )
        missing = args.missing or "drop"
        titanic = False
    else:
        schema, titanic = preset, True
    changes = {}
    if args.schema is not None or not columns_given:
        if args.target:
            changes["target"] = args.target
        if args.id_column:
            changes["id_column"] = args.id_column
    if args.positive is not None:
        changes["positive"] = args.positive
    if changes:
        schema = Schema.from_dict(schema.to_dict() | changes)
        titanic = titanic and schema.target == "Survived"
    return schema, missing, titanic


def _check_one_use_per_column(args: argparse.Namespace) -> None:
    """A column is one input: given to two of --continuous, --log and --categorical it would silently be one of them."""
    seen: dict[str, str] = {}
    for name in ("continuous", "log", "categorical"):
        for column in getattr(args, name) or []:
            if column in seen and seen[column] != name:
                first, second = _flag(seen[column]), _flag(name)
                raise UsageError(
                    f"column {column} is given to both {first} and {second}, but a column is one input; give it to one "
                    f"of them (--continuous divides by the training max, --log takes log10(x+1); for both, use a "
                    f"--schema file with log and scale)"
                )
            seen[column] = name


def _check_input_file(path: Path, what: str) -> None:
    from .._data import existing_file

    existing_file(path, what=f"a file (given as {what})", hint=f"check the path given as {what}")


def _read(
    path: Path, what: str, schema: "Schema", *, with_target: bool, with_id: bool, preset: bool = False
) -> "pd.DataFrame":
    """A CSV checked up front, so a bad file is named (with the line and the fix) before any training starts.

    `preset`: the schema is the Titanic preset's, not one the user described (so a missing column says how
    to describe one's own).
    """
    from .._data import read_csv
    from ..features import target_of

    _check_input_file(path, what)
    frame = read_csv(path)
    columns = ", ".join(map(str, frame.columns))
    if with_target and schema.target and schema.target not in frame.columns:
        raise DataError(
            f"{path}: has no column {schema.target}, the target to predict; name the 0/1 column with --target "
            f"(the file has {columns})"
        )
    required = list(schema.input_columns) + ([schema.id_column] if with_id and schema.id_column else [])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        plural = "columns" if len(missing) > 1 else "column"
        # most of the preset's inputs absent: this is another table, so say how to describe its columns
        foreign = preset and len([c for c in missing if c in schema.input_columns]) >= len(schema.input_columns) / 2
        hint = (
            "; those are the Titanic preset's inputs (--target alone keeps them): for your own CSV name its inputs "
            "with --continuous, --categorical and --log, or give a --schema file"
            if foreign
            else ""
        )
        raise DataError(f"{path}: missing {plural} {', '.join(missing)}; the file has {columns}{hint}")
    for name in schema.numeric_columns:
        frame[name] = _numbers(frame[name], path)
    for spec in schema.continuous:
        if spec.log != "none" and spec.column in frame.columns:  # (a derived column's log is checked as it is made)
            _check_log_domain(frame[spec.column], path, schema)
    if with_target and schema.target:
        target_of(schema).code(
            frame[schema.target], source=str(path), locate=lambda i: f"line {i + 2}",
            value_fix="recode it to 0/1 or choose another --target", positive_option="--positive {value}",
        )
    if with_id and schema.id_column:
        check_ids(frame, path, schema.id_column)
    return frame


def _numbers(values: "pd.Series", path: Path) -> "pd.Series":
    from .._data import as_numbers

    return as_numbers(values, source=str(path))


def _check_log_domain(values: "pd.Series", path: Path, schema: "Schema") -> None:
    """log(x+1) needs x above -1: name the first value that is not, with its line in the file."""
    from .._plain import shown

    bad = (values <= -1.0).to_numpy()
    if bad.any():
        first = int(bad.argmax())
        raise DataError(
            f"{path}: column {values.name} holds {shown(values.iloc[first])} on line {first + 2}, but it is taken as "
            f"log(x+1), which needs values above -1; fix that value, or take {values.name} off --log (it is then "
            "divided by its max with --continuous)"
        )


def _job(args: argparse.Namespace, saved: "tuple[Schema, str] | None" = None) -> Job:
    """The data of a run: read and checked, with the schema from the options, or from saved models (`saved`)."""
    from .._data import data_path
    from ..features import PRESETS

    if saved is not None:
        schema, missing = saved
        titanic = any(make() == schema for make, _ in PRESETS.values())
        if args.train is None and not titanic:
            raise UsageError(
                f"the models were trained on your own data (target {schema.target}), not the bundled Titanic files: "
                "give their training CSV with --train"
            )
    else:
        schema, missing, titanic = _schema(args)
        if args.train is None and not titanic:
            raise UsageError("a schema of your own needs your CSV: give it with --train")
    bundled = args.train is None
    train_path = args.train if args.train is not None else data_path("train.csv")
    test_path = args.test
    if test_path is None and bundled:
        test_path = data_path("test.csv")
    # the preset's columns, not ones the user described (then a missing column says how to describe them)
    preset = saved is None and args.schema is None and not any(getattr(args, name) for name in COLUMN_FLAGS)
    train = _read(train_path, "--train", schema, with_target=True, with_id=False, preset=preset)
    test = None if test_path is None else _read(test_path, "--test", schema, with_target=False, with_id=True, preset=preset)
    inputs = [train_path] + ([test_path] if test_path else []) + ([args.schema] if getattr(args, "schema", None) else [])
    return Job(schema, missing, train, test, train_path, test_path, inputs, bundled)


def _models(args: argparse.Namespace) -> dict[str, Any]:
    """One model of each registered kind, each taking the options its class has (--hidden, --layers, ...)."""
    from ..nn import MODELS, build_model

    if args.hidden is not None and args.layers is not None:
        raise UsageError("give --hidden (one layer of that many units) or --layers (several widths), not both")
    options = {
        "hidden": args.hidden, "layers": args.layers, "head": args.head, "activation": args.activation,
        "output": args.output,
    }
    try:
        models = {kind: build_model(kind, **options) for kind in MODELS}
    except TitanicNNError as exc:
        if args.head == "sum" and args.output == "sigmoid":
            raise UsageError(
                f"--head sum with --output sigmoid: a sum of {args.activation} units is never negative, so its sigmoid "
                "never falls below 0.5 and no row can get a low probability; use --head linear (the default with "
                "--output sigmoid) or --activation tanh"
            ) from exc
        raise UsageError(one_line(exc)) from exc
    from ..nn import with_members

    return {kind: with_members(model, getattr(args, "ensemble", None) or 1) for kind, model in models.items()}


def _trainer_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.method == "gd":
        from .._optional import GD_INSTALL, torch_installed

        if not torch_installed():  # said before any data is read or any model trained
            raise MissingDependencyError(
                f"--method gd needs PyTorch, which is not installed; install it with {GD_INSTALL}, "
                "or leave out --method gd to use the solver, which needs no torch"
            )
        if args.epochs is not None:
            options["epochs"] = args.epochs
        if args.lr is not None:
            options["lr"] = args.lr
        if args.optimizer is not None:
            options["optimizer"] = args.optimizer
    else:
        given = [name for name in ("epochs", "lr", "optimizer") if getattr(args, name) is not None]
        if given:
            flags = " and ".join(f"--{name}" for name in given)
            raise UsageError(f"{flags} set gradient descent; add --method gd, or leave {'them' if len(given) > 1 else 'it'} out")
    if args.restarts is not None:
        options["restarts"] = args.restarts
    if args.device is not None:
        if args.method != "gd":
            raise UsageError("--device sets where gradient descent runs; add --method gd, or leave it out")
        if args.device not in ("auto", "cpu"):
            from ..training import resolve_device

            resolve_device(args.device, option="--device")  # refused now, naming --device, before any training
        options["device"] = args.device
    return options


def _train_all(args: argparse.Namespace, job: Job) -> list["FittedModel"]:
    import titanic_nn as tn

    from ..features import Features

    from ..training._train import trained_alike, training_signature

    options = _trainer_options(args)
    # One fit of the features for every model: each would learn the same statistics, and a workbook holds
    # models sharing one.
    features = Features(job.schema, missing=job.missing)
    X, y = features.fit_transform(job.train, unlabelled=_unlabelled(job))
    _note(args, _rows_note(args, job, features))
    from ..training import check_work, train_valid_split

    n_train = len(train_valid_split(len(X), args.valid_frac, args.seed)[0])
    for name, model in _models(args).items():  # every model's work, before any trains
        check_work(model, n_train, X.shape[1], args.method, name=name, **options)
    fits: list["FittedModel"] = []
    trained: dict[Any, "FittedModel"] = {}  # by training signature: one program trains once
    for name, model in _models(args).items():
        signature = training_signature(model, X.shape[1])
        same = trained.get(signature)
        if same is not None:
            _note(args, f"training {name} ({args.method}): the same program and starts as {same.name}, so its "
                        f"parameters, in {name}'s layout")
            fitted = trained_alike(same, model)
            fitted.name = name
        else:
            _note(args, f"training {name} ({args.method}) ...")
            fitted = trained[signature] = _train_one(args, name, model, features, (X, y), args.valid_frac, options)
        fits.append(fitted)
    return fits


def _train_one(
    args: argparse.Namespace, name: str, model: Any, features: Any, data: tuple[Any, Any], valid_frac: float,
    options: dict,
) -> "FittedModel":
    from ..training._train import train_transformed

    X, y = data
    try:
        fitted = train_transformed(
            features, X, y, model, method=args.method, valid_frac=valid_frac, seed=args.seed, progress=not args.quiet,
            **options,
        )
    except TrainingDivergedError as exc:
        hint = "; try a smaller --lr" if args.method == "gd" and "--lr" not in str(exc) else ""
        raise TrainingDivergedError(f"{name}: {one_line(exc)}{hint}") from exc
    fitted.name = name
    return fitted


def _unlabelled(job: Job) -> Any:
    """The test rows, given to fit only where the schema counts values over every row (a ticket's frequency)."""
    return job.test if job.schema.counts_unlabelled else None


def _rows_note(args: argparse.Namespace, job: Job, features: Any) -> str:
    """How many training rows were read, dropped (and why) or filled, and how they are split."""
    read, kept = features.n_rows_seen_, len(features.train_index_)
    blanks = ", ".join(f"{column} {count}" for column, count in features.blank_counts_.items())
    source = job.train_path.name
    if features.missing_ == "drop" and read > kept:
        rows = (
            f"training rows: {read} read from {source}, {read - kept} dropped for a blank input (blank cells: {blanks}; "
            f"--missing mode fills them with the training mode instead), {kept} kept"
        )
    elif blanks:
        rules = {features.fill_rule(column) for column in features.blank_counts_}
        how = "the training mode" if rules == {"the training mode"} else "; ".join(
            f"{column} {count} with {features.fill_rule(column)}" for column, count in features.blank_counts_.items()
        )
        if rules == {"the training mode"}:
            rows = f"training rows: {read} read from {source}, blank cells filled with {how} ({blanks}), all kept"
        else:
            rows = f"training rows: {read} read from {source}, blank cells filled ({how}), all kept"
    else:
        rows = f"training rows: {read} read from {source}, none blank"
    from ..training import train_valid_split

    n_valid = len(train_valid_split(kept, args.valid_frac, args.seed)[1])
    if n_valid == 0:
        return f"{rows}; all train the models (no validation rows: --valid-frac {args.valid_frac:g})"
    return (
        f"{rows}; {kept - n_valid} train the models, {n_valid} are held out for validation "
        f"(--valid-frac {args.valid_frac:g}, --seed {args.seed})"
    )


def _refit(args: argparse.Namespace, job: Job, fits: list["FittedModel"], chosen: "FittedModel") -> "FittedModel":
    """The chosen model trained again, on every kept row, in the chosen one's place; the selection it won is kept."""
    _note(args, f"refitting {chosen.name} ({args.method}) on all rows ...")
    data = chosen.features.fit_transform(job.train, unlabelled=_unlabelled(job))  # the statistics it was trained with
    refit = _train_one(args, chosen.name, chosen.model, chosen.features, data, 0.0, _trainer_options(args))
    refit.training["refit_of"] = {
        key: chosen.training.get(key) for key in ("train_loss", "valid_loss", "valid_accuracy", "split")
    }
    fits[fits.index(chosen)] = refit
    return refit


DEFAULT_SHEET_EPOCHS = 300


def _choose_and_plan(args: argparse.Namespace, job: Job, fits: list["FittedModel"]) -> tuple[Any, str, Any, str | None]:
    """The submission model (refit on every row with --refit) and why, and the training sheets to write."""
    chosen, why = _best(fits, args.model)
    if args.refit:
        chosen = _refit(args, job, fits, chosen)
        print(_refit_line(chosen))
    training, training_note = _sheet_training(args, fits, job.train, job.test)
    return chosen, why, training, training_note


def _sheet_training(
    args: argparse.Namespace, fits: Sequence["FittedModel"], train: "pd.DataFrame", test: "pd.DataFrame | None" = None
) -> tuple[Any, str | None]:
    """The training sheets to write, and a note when the default ones are left out.

    --sheet-epochs N is written as asked (or refused, in one line); without it, 300 epochs where the
    sheets stay quick enough to recalculate, and none, with a note saying why, where they would not.
    """
    from ..workbook import SheetTraining, check_training

    epochs = args.sheet_epochs if args.sheet_epochs is not None else DEFAULT_SHEET_EPOCHS
    if epochs == 0:
        return None, None
    gd = getattr(args, "method", None) == "gd"
    training = SheetTraining(epochs=epochs, optimizer=args.optimizer if gd else None, lr=args.lr if gd else None)
    if not any(training.trains(f.model) for f in fits):
        return None, "training sheets: left out; an ensemble (--ensemble) gets none, its members are trained in Python"
    try:
        check_training(fits, len(fits[0].features.training_rows(train, test)), training)
    except TitanicNNError as exc:
        if args.sheet_epochs is not None:
            raise
        return None, f"training sheets: left out ({one_line(exc)}); give --sheet-epochs N to write them"
    return training, None


def _metric(fitted: "FittedModel", key: str) -> float:
    value = fitted.training.get(key)
    return float("nan") if value is None else float(value)


def _best(fits: Sequence["FittedModel"], chosen: str | None) -> tuple["FittedModel", str]:
    """The model whose predictions are submitted, and why: --model, the best validation accuracy (ties: the
    lower validation loss), or without validation rows the lowest training loss."""
    if chosen is not None:
        return next(f for f in fits if f.name == chosen), "--model"
    # min keeps the first of equals, so ties go to the simpler model (the list runs linear, nnet, mmult).
    if any(math.isfinite(_metric(f, "valid_accuracy")) for f in fits):

        def rank(fitted: "FittedModel") -> tuple[float, float]:
            accuracy, loss = _metric(fitted, "valid_accuracy"), _metric(fitted, "valid_loss")
            return (-accuracy if math.isfinite(accuracy) else math.inf, loss if math.isfinite(loss) else math.inf)

        return min(fits, key=rank), "best validation accuracy"
    return min(fits, key=lambda f: _metric(f, "train_loss")), "lowest training loss: there are no validation rows"


def results_table(fits: Sequence["FittedModel"]) -> str:
    """The results: model, method, train loss, valid loss, valid accuracy, seconds; one line per model."""
    header = ("model", "method", "train loss", "valid loss", "valid accuracy", "seconds")
    rows = [header]
    for fitted in fits:
        rows.append(
            (
                fitted.name,
                str(fitted.training.get("method", "")),
                _number(_metric(fitted, "train_loss"), "{:.5f}"),
                _number(_metric(fitted, "valid_loss"), "{:.5f}"),
                _number(_metric(fitted, "valid_accuracy"), "{:.4f}"),
                _number(_metric(fitted, "seconds"), "{:.2f}"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])] + [c.rjust(w) for c, w in zip(row[2:], widths[2:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _number(value: float, style: str) -> str:
    return style.format(value) if math.isfinite(value) else "-"


# -- output directories --------------------------------------------------------------------------


@contextmanager
def _output_directory(path: Path) -> Iterator[Path]:
    """Create `path` for the outputs; on failure remove what was created here, so an error leaves nothing."""
    from .._atomic import ensure_directory

    created = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    ensure_directory(path)
    try:
        yield path
    except BaseException:
        for directory in created:  # innermost first
            try:
                directory.rmdir()
            except OSError:
                break
        raise


# -- commands -------------------------------------------------------------------------------------


def run_fit(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import AtomicFiles
    from .._submission import submission_csv, submission_for
    from ._plots import plot_losses, plotting_available

    started = time.perf_counter()
    _check_training_options(args)  # options that do not go together are usage errors, found before any work
    models = _models(args)
    job = _job(args)
    check_before_training(job, valid_frac=args.valid_frac, workbook=True)
    with _output_directory(args.out) as out:
        names = [job.workbook_name, LOSS_PLOT_NAME, *(f"{kind}.json" for kind in models)]
        check_outputs([output_in(out, name) for name in names + [SUBMISSION_NAME] * (job.test is not None)], job.inputs)
        fits = _train_all(args, job)
        print(results_table(fits))
        chosen, why, training, training_note = _choose_and_plan(args, job, fits)
        with AtomicFiles(job.inputs) as batch:
            submission = None
            if job.test is not None:
                submission = submission_for(chosen, job.test)
                batch.write_text(output_in(out, SUBMISSION_NAME), submission_csv(submission, source=job.test_path))
            tn.write_workbook(
                batch.stage(output_in(out, job.workbook_name)), fits, job.train, job.test,
                submission=chosen.name if job.test is not None else None, training=training,
            )
            for fitted in fits:
                tn.save_model(fitted, batch.stage(output_in(out, f"{fitted.name}.json", what="a model")))
            histories = {f.name: f.training.get("history") for f in fits if f.training.get("history")}
            plot_note = _plot_note(args, histories, plotting_available())
            if plot_note is None:
                plot_losses(histories, batch.stage(output_in(out, LOSS_PLOT_NAME)))
            written = [final for final, _ in batch.staged]
    if submission is not None:
        _note(args, _submission_note(chosen, why, submission, args.refit))
    else:
        _note(args, "submission: skipped; give --test to predict for a test CSV")
    if plot_note:
        _note(args, plot_note)
    if training_note:
        _note(args, training_note)
    for path in written:
        _note(args, f"wrote {path}")
    _note(args, f"done in {time.perf_counter() - started:.1f} s")
    return 0


def _check_training_options(args: argparse.Namespace) -> None:
    """Every option of a training command that does not fit the others, as a usage error before any work."""
    _trainer_options(args)
    _models(args)
    if args.refit and args.valid_frac == 0:
        raise UsageError(
            "--refit trains the chosen model again on every row after choosing it on the validation rows, but "
            "--valid-frac 0 holds none out: every model already trains on all rows; leave out one of them"
        )


def _refit_line(refit: "FittedModel") -> str:
    return (
        f"refit: {refit.name} trained again on all {refit.training['split']['n_train']} rows: train loss "
        f"{_number(_metric(refit, 'train_loss'), '{:.5f}')} (no validation rows; its sheet and JSON hold these "
        "parameters)"
    )


def _submission_note(chosen: "FittedModel", why: str, submission: "pd.DataFrame", refit: bool = False) -> str:
    survived = int(submission.iloc[:, 1].sum())
    how = f"{why}, then refit on all rows" if refit else why
    positive = chosen.features.schema_.positive
    meaning = "" if positive is None else f" (1: {submission.columns[1]} {positive})"
    return (
        f"submission: {chosen.name} ({how}), {len(submission)} rows, {survived} predicted "
        f"{submission.columns[1]}=1{meaning}"
    )


def _plot_note(args: argparse.Namespace, histories: dict[str, Any], available: bool) -> str | None:
    """Why loss.png is not drawn, or None when it is."""
    if args.method == "gd" and not histories:
        return f"{LOSS_PLOT_NAME}: skipped; an ensemble's members each have their own curve, and none is the ensemble's"
    if args.method != "gd":
        return f"{LOSS_PLOT_NAME}: skipped; the solver records no loss per epoch (use --method gd for the curves)"
    if not available:
        return f"{LOSS_PLOT_NAME}: skipped; no plotting library is installed (pip install matplotlib to get it)"
    return None


def run_predict(args: argparse.Namespace) -> int:
    from .._data import data_path
    from .._submission import submission_for, write_submission

    fitted = _load_model(args.model_file)
    input_path = args.input if args.input is not None else data_path("test.csv")
    frame = _read(input_path, "--input", fitted.features.schema_, with_target=False, with_id=True)
    check_ids(frame, input_path, fitted.features.schema_.id_column)
    submission = submission_for(fitted, frame)
    write_submission(
        submission, args.out, inputs=[args.model_file, input_path], expected_rows=len(frame), source=input_path
    )
    survived = int(submission.iloc[:, 1].sum())
    _note(args, f"wrote {args.out}: {len(submission)} rows, {survived} predicted {submission.columns[1]}=1 ({fitted.name})")
    return 0


def _check_workbook_file(path: Path) -> None:
    import zipfile

    _check_input_file(path, "the workbook")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: is not an .xlsx workbook; give a workbook written by `{PROG} fit` or `{PROG} workbook`")


def _load_model(path: Path) -> "FittedModel":
    import titanic_nn as tn

    _check_input_file(path, "a model file")
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


def _saved_models(args: argparse.Namespace) -> tuple[list["FittedModel"], Job]:
    """`workbook --models`: the saved models and their data, read with the schema the models carry."""
    data_flags = [_flag(name) for name in SCHEMA_FLAGS if getattr(args, name) is not None]
    training_flags = [_flag(name) for name in TRAINING_FLAGS if getattr(args, name) is not None]
    training_flags += ["--refit"] if args.refit else []
    if data_flags:
        raise UsageError(
            f"--models carry their schema (columns, target, missing-value rule): leave out {', '.join(data_flags)} "
            "and give only --train (and --test) for data of your own"
        )
    if training_flags:
        raise UsageError(f"--models are trained already: leave out {', '.join(training_flags)}")
    loaded = [_load_model(path) for path in args.models]
    if len({f.name for f in loaded}) != len(loaded):
        raise UsageError(f"--models: the models' names repeat ({', '.join(f.name for f in loaded)}); give one file per model")
    features = loaded[0].features
    job = _job(args, saved=(features.schema_, features.missing_))
    job.inputs += list(args.models)
    fits = _same_training_data(loaded, job, args.models)
    if args.model is not None and args.model not in [f.name for f in fits]:
        raise UsageError(f"--model {args.model}: the models given are {', '.join(f.name for f in fits)}")
    return fits, job


def run_workbook(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import atomic_path, ensure_directory

    if args.models:
        fits, job = _saved_models(args)
    else:
        _check_training_options(args)
        job = _job(args)
        fits = None
    out = args.out if args.out is not None else Path(DEFAULT_OUT) / job.workbook_name
    check_before_training(job, valid_frac=args.valid_frac if fits is None else None, workbook=True)
    created_parent = not out.parent.exists()
    ensure_directory(out.parent)
    try:
        check_outputs([out], job.inputs)
        if fits is None:
            fits = _train_all(args, job)
            print(results_table(fits))
        chosen, why, training, training_note = _choose_and_plan(args, job, fits)
        with atomic_path(out, inputs=job.inputs) as temporary:
            tn.write_workbook(temporary, fits, job.train, job.test, submission=chosen.name if job.test is not None else None,
                              training=training)
    except BaseException:
        if created_parent:
            try:
                out.parent.rmdir()
            except OSError:
                pass
        raise
    if job.test is not None:
        _note(args, f"submission sheet: {chosen.name} ({why}{', then refit on all rows' if args.refit else ''})")
    if training_note:
        _note(args, training_note)
    _note(args, f"wrote {out}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    _check_workbook_file(args.book)
    report = tn.verify(args.book, engines=args.engine)
    for engine in report.engines:
        if engine.mismatches == 0 and engine.cells_checked:
            print(
                f"ok: {args.book}: {engine.label}: all {engine.cells_checked} computed cells agree with Python "
                f"(largest difference {engine.max_abs_diff:.3g})"
            )
        else:
            print(f"{args.book}: {engine.label}: {engine.mismatches} of {engine.cells_checked} computed cells disagree")
        for training, line in zip(engine.training, engine.training_lines()):
            print(("ok: " if training.ok else "") + f"{args.book}: {line}")
    if report.ok:
        return 0
    failed = next(e for e in report.engines if not e.ok)
    count = failed.mismatches + sum(t.mismatches for t in failed.training)
    first = failed.first_mismatch or next(t.first_mismatch for t in failed.training if not t.ok)
    print(f"{PROG}: error: {failed.label} disagrees with Python on {count} cell(s) of {args.book}, first {first}", file=sys.stderr)
    return 1


def run_import(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import AtomicFiles
    from .._submission import submission_csv, submission_for
    from ..workbook import read_contents

    _check_workbook_file(args.book)
    contents = read_contents(args.book, source=args.source)
    fits = contents.fits
    if not fits:
        raise DataError(f"{args.book}: holds no model sheet; give a workbook written by `{PROG} fit` or `{PROG} workbook`")
    names = [f.name for f in fits]
    if args.model is not None and args.model not in names:
        raise UsageError(f"--model {args.model}: the workbook's models are {', '.join(names)}")
    for fitted in fits:  # the record of the run that wrote the sheet is stale once its parameters change
        fitted.training = _sheet_record(fitted, contents.train, args.book)
    print(results_table(fits))
    chosen, why = _best(fits, args.model)
    inputs = [args.book]
    if args.test is not None:
        test = _read(args.test, "--test", chosen.features.schema_, with_target=False, with_id=True)
        inputs.append(args.test)
    elif contents.test is not None:
        test = contents.test  # the workbook's own test rows, so its submission sheet and the CSV agree
    else:
        raise UsageError(f"{args.book} holds no test rows; give the CSV to predict with --test")
    submission = submission_for(chosen, test)
    with _output_directory(args.out) as out:
        with AtomicFiles(inputs) as batch:
            for fitted in fits:
                # a name read from the workbook: output_in proves it a plain file name inside --out
                path = output_in(out, f"{fitted.name}.json", what="a model", source=str(args.book))
                tn.save_model(fitted, batch.stage(path))
            batch.write_text(output_in(out, SUBMISSION_NAME), submission_csv(submission, source=args.test or args.book))
            written = [final for final, _ in batch.staged]
    measured = "" if why == "--model" else "; scored with the parameters and Valid marks the sheets hold now"
    _note(args, _submission_note(chosen, why + measured, submission))
    for path in written:
        _note(args, f"wrote {path}")
    return 0


def _sheet_record(fitted: "FittedModel", train: "pd.DataFrame", book: Path) -> dict[str, Any]:
    """The training record of a model read from a sheet: its scores recomputed on the sheet's rows, as marked now."""
    from ..training import scores, valid_positions

    kept = len(train)
    valid = valid_positions(fitted.training, kept)
    X, y = fitted.features.transform(train, training=True), fitted.features.target(train)
    record = {
        "method": "import",
        "source": str(book),
        "trained_by": fitted.training.get("method"),
        **({"from": fitted.training["from"]} if "from" in fitted.training else {}),  # a training sheet's gd_final
        **scores(fitted.model, fitted.params, X, y, valid, fitted.features.target_),
        "split": dict(fitted.training.get("split") or {}, n_train=kept - len(valid), n_valid=len(valid)),
    }
    record["split"]["valid_rows"] = [int(i) for i in valid]
    return record
