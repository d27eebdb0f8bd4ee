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
from ..errors import DataError, TitanicNNError, TrainingDivergedError, UsageError
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
    """What a training command works on: the schema, the frames, and which paths are inputs."""

    schema: "Schema"
    missing: str
    train: "pd.DataFrame"
    test: "pd.DataFrame | None"
    train_path: Path
    test_path: Path | None
    inputs: list[Path] = field(default_factory=list)


def _schema(args: argparse.Namespace) -> tuple["Schema", str, bool]:
    """The schema, the missing-value rule, and whether the data is the Titanic (so the bundled files fit)."""
    from ..features import Categorical, Continuous, Schema, preset_schema

    columns_given = any(getattr(args, name) for name in ("categorical", "continuous", "log"))
    if args.schema is not None and columns_given:
        raise UsageError("--schema already lists the columns; leave out --categorical, --continuous and --log")
    preset, preset_missing = preset_schema(args.preset)
    missing = args.missing or preset_missing
    if args.schema is not None:
        _check_input_file(args.schema, "--schema")
        schema = Schema.from_file(args.schema)
        titanic = False
    elif columns_given:
        if not args.target:
            raise UsageError("--categorical, --continuous and --log describe your own CSV: name its 0/1 column with --target")
        logged = list(args.log or [])
        continuous = [Continuous(c, scale="max") for c in args.continuous or [] if c not in logged]
        continuous += [Continuous(c, log="log10") for c in logged]
        categorical = [Categorical(c) for c in args.categorical or []]
        schema = Schema(
            target=args.target, id_column=args.id_column, continuous=tuple(continuous),
            categorical=tuple(categorical), constant="Ones",
        )
        missing = args.missing or "drop"
        titanic = False
    else:
        schema, titanic = preset, True
    if args.schema is not None or not columns_given:
        changes = {}
        if args.target:
            changes["target"] = args.target
        if args.id_column:
            changes["id_column"] = args.id_column
        if changes:
            schema = Schema.from_dict(schema.to_dict() | changes)
            titanic = titanic and changes.get("target", "Survived") == "Survived"
    return schema, missing, titanic


def _check_input_file(path: Path, what: str) -> None:
    from .._data import existing_file

    existing_file(path, what=f"a file (given as {what})", hint=f"check the path given as {what}")


def _read(path: Path, what: str, schema: "Schema", *, with_target: bool, with_id: bool) -> "pd.DataFrame":
    """A CSV checked up front, so a bad file is named (with the fix) before any training starts."""
    from .._data import check_target, read_csv

    _check_input_file(path, what)
    required = list(schema.input_columns)
    if with_target and schema.target:
        required.append(schema.target)
    if with_id and schema.id_column:
        required.append(schema.id_column)
    numeric = [c.column for c in schema.continuous] + ([schema.target] if with_target and schema.target else [])
    frame = read_csv(path, required=required, numeric=numeric)
    if with_target and schema.target:
        check_target(
            frame[schema.target], source=str(path), locate=lambda i: f"line {i + 2}",
            value_fix="recode it to 0/1 or choose another --target",
        )
    return frame


def _job(args: argparse.Namespace) -> Job:
    from .._data import data_path

    schema, missing, titanic = _schema(args)
    if args.train is None and not titanic:
        raise UsageError("a schema of your own needs your CSV: give it with --train")
    train_path = args.train if args.train is not None else data_path("train.csv")
    test_path = args.test
    if test_path is None and args.train is None:
        test_path = data_path("test.csv")
    train = _read(train_path, "--train", schema, with_target=True, with_id=False)
    test = None if test_path is None else _read(test_path, "--test", schema, with_target=False, with_id=True)
    inputs = [train_path] + ([test_path] if test_path else []) + ([args.schema] if args.schema else [])
    return Job(schema, missing, train, test, train_path, test_path, inputs)


def _models(args: argparse.Namespace) -> dict[str, Any]:
    """One model of each registered kind, each taking the options its class has (--hidden, --layers, ...)."""
    from ..nn import MODELS, build_model

    if args.hidden is not None and args.layers is not None:
        raise UsageError("give --hidden (one layer of that many units) or --layers (several widths), not both")
    options = {"hidden": args.hidden, "layers": args.layers, "activation": args.activation, "output": args.output}
    return {kind: build_model(kind, **options) for kind in MODELS}


def _trainer_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.method == "gd":
        if args.epochs is not None:
            options["epochs"] = args.epochs
        if args.lr is not None:
            options["lr"] = args.lr
    else:
        given = [name for name in ("epochs", "lr") if getattr(args, name) is not None]
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

    options = _trainer_options(args)
    # One Features for all three: each fit learns the same statistics, and a workbook holds models sharing one.
    features = Features(job.schema, missing=job.missing)
    fits = []
    for name, model in _models(args).items():
        _note(args, f"training {name} ({args.method}) ...")
        try:
            fitted = tn.train_model(
                job.train, model, features=features, method=args.method,
                valid_frac=args.valid_frac, seed=args.seed, progress=not args.quiet, **options,
            )
        except TrainingDivergedError as exc:
            hint = "; try a smaller --lr" if args.method == "gd" and "--lr" not in str(exc) else ""
            raise TrainingDivergedError(f"{name}: {one_line(exc)}{hint}") from exc
        fitted.name = name
        fits.append(fitted)
    return fits


def _metric(fitted: "FittedModel", key: str) -> float:
    value = fitted.training.get(key)
    return float("nan") if value is None else float(value)


def _best(fits: Sequence["FittedModel"], chosen: str | None) -> "FittedModel":
    if chosen is not None:
        return next(f for f in fits if f.name == chosen)

    def rank(fitted: "FittedModel") -> tuple[float, float]:
        accuracy, loss = _metric(fitted, "valid_accuracy"), _metric(fitted, "valid_loss")
        return (-accuracy if math.isfinite(accuracy) else math.inf, loss if math.isfinite(loss) else math.inf)

    # min keeps the first of equals, so ties go to the simpler model (the list runs linear, nnet, mmult).
    return min(fits, key=rank)


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
    _trainer_options(args)  # options that do not go together are usage errors, found before any work
    models = _models(args)
    job = _job(args)
    check_before_training(job, valid_frac=args.valid_frac, workbook=True)
    with _output_directory(args.out) as out:
        names = [WORKBOOK_NAME, LOSS_PLOT_NAME, *(f"{kind}.json" for kind in models)]
        check_outputs([output_in(out, name) for name in names + [SUBMISSION_NAME] * (job.test is not None)], job.inputs)
        fits = _train_all(args, job)
        print(results_table(fits))
        chosen = _best(fits, args.model)
        with AtomicFiles(job.inputs) as batch:
            submission = None
            if job.test is not None:
                submission = submission_for(chosen, job.test)
                batch.write_text(output_in(out, SUBMISSION_NAME), submission_csv(submission, source=job.test_path))
            tn.write_workbook(
                batch.stage(output_in(out, WORKBOOK_NAME)), fits, job.train, job.test,
                submission=chosen.name if job.test is not None else None,
            )
            for fitted in fits:
                tn.save_model(fitted, batch.stage(output_in(out, f"{fitted.name}.json", what="a model")))
            histories = {f.name: f.training.get("history") for f in fits if f.training.get("history")}
            plot_note = _plot_note(args, histories, plotting_available())
            if plot_note is None:
                plot_losses(histories, batch.stage(output_in(out, LOSS_PLOT_NAME)))
            written = [final for final, _ in batch.staged]
    if submission is not None:
        survived = int(submission.iloc[:, 1].sum())
        _note(args, f"submission: {chosen.name} ({'--model' if args.model else 'best validation accuracy'}), "
              f"{len(submission)} rows, {survived} predicted {submission.columns[1]}=1")
    else:
        _note(args, "submission: skipped; give --test to predict for a test CSV")
    if plot_note:
        _note(args, plot_note)
    for path in written:
        _note(args, f"wrote {path}")
    _note(args, f"done in {time.perf_counter() - started:.1f} s")
    return 0


def _plot_note(args: argparse.Namespace, histories: dict[str, Any], available: bool) -> str | None:
    """Why loss.png is not drawn, or None when it is."""
    if args.method != "gd" or not histories:
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


def _refitted(fits: list["FittedModel"], job: Job, paths: Sequence[Path]) -> list["FittedModel"]:
    """Saved models sharing one Features, proven to come from --train (the workbook lays out its rows)."""
    first = fits[0].features
    for fitted, path in zip(fits, paths):
        try:
            if fitted.features.to_dict() != first.to_dict():
                raise DataError("other features than the first model's")
            fitted.features.training_rows(job.train)
        except DataError as exc:
            raise DataError(
                f"{path}: was trained on other data or features than {job.train_path}; give its training CSV with "
                "--train (and models saved by one run)"
            ) from exc
        fitted.features = first
    return fits


def run_workbook(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import atomic_path, ensure_directory

    if args.models:
        loaded = [_load_model(path) for path in args.models]
        if len({f.name for f in loaded}) != len(loaded):
            raise UsageError(f"--models: the models' names repeat ({', '.join(f.name for f in loaded)}); give one file per model")
        job = _job(args)
        job.inputs += list(args.models)
        fits = _refitted(loaded, job, args.models)
        if args.model is not None and args.model not in [f.name for f in fits]:
            raise UsageError(f"--model {args.model}: the models given are {', '.join(f.name for f in fits)}")
    else:
        _trainer_options(args)
        _models(args)
        job = _job(args)
        fits = None
    out = args.out
    check_before_training(job, valid_frac=args.valid_frac if fits is None else None, workbook=True)
    created_parent = not out.parent.exists()
    ensure_directory(out.parent)
    try:
        check_outputs([out], job.inputs)
        if fits is None:
            fits = _train_all(args, job)
            print(results_table(fits))
        chosen = _best(fits, args.model).name if job.test is not None else None
        with atomic_path(out, inputs=job.inputs) as temporary:
            tn.write_workbook(temporary, fits, job.train, job.test, submission=chosen)
    except BaseException:
        if created_parent:
            try:
                out.parent.rmdir()
            except OSError:
                pass
        raise
    _note(args, f"wrote {out}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    _check_workbook_file(args.book)
    report = tn.verify(args.book, engines=args.engine)
    for engine in report.engines:
        if engine.ok:
            print(
                f"ok: {args.book}: {engine.label}: all {engine.cells_checked} computed cells agree with Python "
                f"(largest difference {engine.max_abs_diff:.3g})"
            )
        else:
            print(f"{args.book}: {engine.label}: {engine.mismatches} of {engine.cells_checked} computed cells disagree")
    if report.ok:
        return 0
    failed = next(e for e in report.engines if not e.ok)
    print(
        f"{PROG}: error: {failed.label} disagrees with Python on {failed.mismatches} cell(s) of {args.book}, "
        f"first {failed.first_mismatch}",
        file=sys.stderr,
    )
    return 1


def run_import(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import AtomicFiles
    from .._submission import submission_csv, submission_for
    from ..workbook import read_contents

    _check_workbook_file(args.book)
    contents = read_contents(args.book)
    fits = contents.fits
    if not fits:
        raise DataError(f"{args.book}: holds no model sheet; give a workbook written by `{PROG} fit` or `{PROG} workbook`")
    names = [f.name for f in fits]
    if args.model is not None and args.model not in names:
        raise UsageError(f"--model {args.model}: the workbook's models are {', '.join(names)}")
    if args.model is not None:
        chosen, why = next(f for f in fits if f.name == args.model), "--model"
    elif contents.submission is not None:
        chosen, why = contents.submission, "the workbook's submission model"
    else:
        chosen, why = min(fits, key=lambda f: _sheet_loss(f, contents.train)), "lowest loss on the sheet's rows"
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
    _note(args, f"submission: {chosen.name} ({why}), {len(submission)} rows")
    for path in written:
        _note(args, f"wrote {path}")
    return 0


def _sheet_loss(fitted: "FittedModel", train: "pd.DataFrame") -> float:
    """The model's loss on the training rows the workbook holds, with the parameters it holds now."""
    return float(fitted.model.loss_op.mean(fitted.predict(train), fitted.features.target(train)))
