"""The commands: fit, lr-find, predict, workbook, verify and import, each reading its inputs and writing its outputs atomically."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .._names import output_in
from ..errors import DataError, UsageError
from ._checks import check_before_training, check_outputs
from ._choice import best, choose_and_plan, sheet_record
from ._inputs import Job, check_ids, check_workbook_file, job_from_options, load_model_file, read_input, saved_models
from ._messages import (
    DEFAULT_OUT, LOSS_PLOT_NAME, LR_FIND_PLOT_NAME, PROG, SCHEMA_NAME, SUBMISSION_NAME, choices_table, lr_find_table, note,
    plot_note, results_table,
    submission_note, written_columns,
)
from ._training import check_training_options, find_rates, models_from_options, train_all

__all__ = ["run_fit", "run_lr_find", "run_predict", "run_workbook", "run_verify", "run_import"]

def _output_directory(path: Path) -> Path:
    """`path` checked as the outputs' directory; it is made only when the outputs are renamed into it, so a run that
    fails or is interrupted leaves no folder behind."""
    from .._atomic import check_output_directory

    return check_output_directory(path)


def run_fit(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import AtomicFiles
    from .._submission import submission_csv, submission_for
    from ._plots import plot_losses, plotting_available

    started = time.perf_counter()
    check_training_options(args)  # options that do not go together are usage errors, found before any work
    models = models_from_options(args)
    job = job_from_options(args)
    check_before_training(job, valid_frac=args.valid_frac, workbook=True)
    out = _output_directory(args.out)
    names = [job.workbook_name, LOSS_PLOT_NAME, *(f"{kind}.json" for kind in models)]
    names += [SUBMISSION_NAME] * (job.test is not None) + [SCHEMA_NAME] * (job.choices is not None)
    check_outputs([output_in(out, name) for name in names], job.inputs)
    if job.choices is not None:
        note(args, choices_table(job.choices))
    fits = train_all(args, job)
    print(results_table(fits))
    chosen, why, training, training_note = choose_and_plan(args, job, fits)
    with AtomicFiles(job.inputs, create_folders=True) as batch:
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
        skipped = plot_note(args, histories, plotting_available())
        if skipped is None:
            staged = batch.stage(output_in(out, LOSS_PLOT_NAME))
            plot_losses(histories, staged, config_dir=staged.parent / "matplotlib")
        if job.choices is not None:
            batch.write_text(output_in(out, SCHEMA_NAME), _typed_schema_file(args, job))
        written = [final for final, _ in batch.staged]
    if submission is not None:
        note(args, submission_note(chosen, why, submission, args.refit))
    else:
        note(args, "submission: skipped; give --test to predict for a test CSV")
    if skipped:
        note(args, skipped)
    if training_note:
        note(args, training_note)
    if job.renamed:
        note(args, job.renamed)
    for path in written:
        note(args, f"wrote {path}")
    note(args, f"done in {time.perf_counter() - started:.1f} s")
    return 0


def run_lr_find(args: argparse.Namespace) -> int:
    """The learning-rate finder on each model (or --model) and the training rows `fit` would train it on: the
    suggestions as a table, and lr_find.png."""
    from .._atomic import AtomicFiles
    from ._plots import plot_lr_find, plotting_available

    models = models_from_options(args)
    if args.model is not None:
        models = {args.model: models[args.model]}
    job = job_from_options(args)
    check_before_training(job, valid_frac=args.valid_frac, workbook=False)
    out = _output_directory(args.out)
    plot_path = output_in(out, LR_FIND_PLOT_NAME)
    check_outputs([plot_path], job.inputs)
    results, same = find_rates(args, job, models)
    print(lr_find_table(results, same))
    drawn = {name: found for name, found in results.items() if name not in same}
    if not plotting_available():
        note(args, f"{LR_FIND_PLOT_NAME}: skipped; no plotting library is installed (pip install matplotlib to get it)")
        return 0
    with AtomicFiles(job.inputs, create_folders=True) as batch:
        staged = batch.stage(plot_path)
        plot_lr_find(drawn, staged, config_dir=staged.parent / "matplotlib")
    note(args, f"wrote {plot_path}")
    return 0


def _typed_schema_file(args: argparse.Namespace, job: "Job") -> str:
    """The typed schema as TOML, its first line saying what it is and how to run it again after editing it."""
    from ..features import schema_toml

    again = f"{PROG} fit --train {job.train_path.name} --schema {SCHEMA_NAME}"
    again += f" --missing {job.missing}" if job.missing != "drop" else ""
    return schema_toml(
        job.schema, comment=f"titanic-nn schema typed from {job.train_path.name}; edit it, then run `{again}`"
    )


def run_predict(args: argparse.Namespace) -> int:
    from .._data import data_path
    from .._submission import submission_for, write_submission

    from .._atomic import check_output_path

    input_path = args.input if args.input is not None else data_path("test.csv")
    check_output_path(args.out, [args.model_file, input_path])  # before any reading or predicting
    fitted = load_model_file(args.model_file)
    frame = read_input(input_path, "--input", fitted.features.schema_, with_target=False, with_id=True)
    check_ids(frame, input_path, fitted.features.schema_.id_column)
    submission = submission_for(fitted, frame)
    write_submission(
        submission, args.out, inputs=[args.model_file, input_path], expected_rows=len(frame), source=input_path,
        rule=fitted.features.target_,
    )
    predicted = fitted.features.target_.describe_submission(written_columns(submission))
    note(args, f"wrote {args.out}: {len(submission)} rows, {predicted} ({fitted.name})")
    return 0


def run_workbook(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .._atomic import atomic_path

    if args.models:
        fits, job = saved_models(args)
    else:
        check_training_options(args)
        job = job_from_options(args)
        fits = None
        if job.choices is not None:
            note(args, choices_table(job.choices))
    out = args.out if args.out is not None else Path(DEFAULT_OUT) / job.workbook_name
    check_before_training(job, valid_frac=args.valid_frac if fits is None else None, workbook=True)
    _output_directory(out.parent)
    check_outputs([out], job.inputs)
    if fits is None:
        fits = train_all(args, job)
        print(results_table(fits))
    chosen, why, training, training_note = choose_and_plan(args, job, fits)
    with atomic_path(out, inputs=job.inputs, create_folders=True) as temporary:
        tn.write_workbook(temporary, fits, job.train, job.test, submission=chosen.name if job.test is not None else None,
                          training=training)
    if job.test is not None:
        note(args, f"submission sheet: {chosen.name} ({why}{', then refit on all rows' if args.refit else ''})")
    if training_note:
        note(args, training_note)
    if job.renamed and args.out is None:
        note(args, job.renamed)
    note(args, f"wrote {out}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    check_workbook_file(args.book)
    report = tn.verify(args.book, engines=args.engine, timeout=args.timeout)
    formulas = report.formulas
    if formulas is not None:
        print(("ok: " if formulas.ok else "") + f"{args.book}: {formulas}")
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
    if formulas is not None and not formulas.ok:
        print(
            f"{PROG}: error: {args.book}: {formulas.mismatches} cell(s) no longer hold what titanic-nn wrote (a formula, or a value), first "
            f"{formulas.first}; an engine's values there prove nothing: write the workbook again",
            file=sys.stderr,
        )
        return 1
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

    check_workbook_file(args.book)
    contents = read_contents(args.book, source=args.source)
    fits = contents.fits
    if not fits:
        raise DataError(f"{args.book}: holds no model sheet; give a workbook written by `{PROG} fit` or `{PROG} workbook`")
    names = [f.name for f in fits]
    if args.model is not None and args.model not in names:
        raise UsageError(f"--model {args.model}: the workbook's models are {', '.join(names)}")
    for fitted in fits:  # the record of the run that wrote the sheet is stale once its parameters change
        fitted.training = sheet_record(fitted, contents.train, args.book)
    print(results_table(fits))
    chosen, why = best(fits, args.model)
    inputs = [args.book]
    if args.test is not None:
        test = read_input(args.test, "--test", chosen.features.schema_, with_target=False, with_id=True)
        inputs.append(args.test)
    elif contents.test is not None:
        test = contents.test  # the workbook's own test rows, so its submission sheet and the CSV agree
    else:
        raise UsageError(f"{args.book} holds no test rows; give the CSV to predict with --test")
    submission = submission_for(chosen, test)
    out = _output_directory(args.out)
    with AtomicFiles(inputs, create_folders=True) as batch:
        for fitted in fits:
            # a name read from the workbook: output_in proves it a plain file name inside --out
            path = output_in(out, f"{fitted.name}.json", what="a model", source=str(args.book))
            tn.save_model(fitted, batch.stage(path))
        batch.write_text(output_in(out, SUBMISSION_NAME), submission_csv(submission, source=args.test or args.book))
        written = [final for final, _ in batch.staged]
    measured = "" if why == "--model" else "; scored with the parameters and Valid marks the sheets hold now"
    note(args, submission_note(chosen, why + measured, submission))
    for path in written:
        note(args, f"wrote {path}")
    return 0
