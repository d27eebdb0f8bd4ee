"""The `titanic-nn` command line: fit, predict, workbook, verify and import."""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from . import __version__
from .errors import DataError, TitanicNNError, TrainingDivergedError

if TYPE_CHECKING:  # pandas and torch stay unimported until a command needs them
    import pandas as pd

    from .fitted import FittedModel
    from .schema import Schema

__all__ = ["main", "build_parser"]

PROG = "titanic-nn"
MODEL_NAMES = ("linear", "nnet", "mmult")
DEFAULT_OUT = "titanic-nn-out"
WORKBOOK_NAME = "titanic.xlsx"
SUBMISSION_NAME = "submission.csv"
LOSS_PLOT_NAME = "loss.png"
INTERRUPTED = 130  # the shell's code for a run stopped by Ctrl-C (128 + SIGINT)


# -- argument parsing -----------------------------------------------------------------------------


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the problem, and where to look) and exit code 2.

    Abbreviated options are refused: `--epoch` silently meaning `--epochs` hides typos.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the examples' line breaks and shows each option's default where the help does not say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if "default" in text or default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return text
        return f"{text} (default: {default})"


def _fraction(text: str) -> float:
    value = _float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} is outside (0, 1); give a fraction such as 0.2")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return value


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0.0:
        raise argparse.ArgumentTypeError(f"{text} must be above 0, e.g. 0.1")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be 1 or more")
    return value


def _widths(text: str) -> list[int]:
    parts = [p.strip() for p in text.split(",")]
    try:
        return [_positive_int(p) for p in parts]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of widths such as 4,4") from None


def _columns(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of column names such as Sex,Pclass")
    return names


def _device(text: str) -> str:
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use auto, cpu, cuda, cuda:N or mps")
    return text


FIT_EXAMPLES = f"""\
examples:
  {PROG} fit                                  # the lesson's three models on the bundled Titanic data
  {PROG} fit --method gd --epochs 300 --lr 0.1 --out runs/gd
  {PROG} fit --model linear                   # submit the linear model's predictions
  {PROG} fit --hidden 8 --output sigmoid      # a wider matmul net with a sigmoid output
  {PROG} fit --preset notebook                # the lesson notebook's features (missing values filled)
  {PROG} fit --train loans.csv --test new.csv --target Default --id-column LoanId \\
      --categorical Grade,Purpose --continuous Age,Income --log Income

outputs in --out: {WORKBOOK_NAME} (the workbook), {SUBMISSION_NAME} (from the model with the best
validation accuracy, or --model), linear.json/nnet.json/mmult.json (load with `{PROG} predict`),
and {LOSS_PLOT_NAME} (loss per epoch, for --method gd when matplotlib is installed).
"""

PREDICT_EXAMPLES = f"""\
examples:
  {PROG} predict titanic-nn-out/nnet.json                  # the bundled test.csv -> submission.csv
  {PROG} predict nnet.json --input test.csv --out submission.csv
"""

WORKBOOK_EXAMPLES = f"""\
examples:
  {PROG} workbook                                  # train the three models, write only the workbook
  {PROG} workbook --out book.xlsx --method gd --epochs 200
  {PROG} workbook --models out/linear.json out/nnet.json --out two.xlsx   # saved models, no training
"""

VERIFY_EXAMPLES = f"""\
examples:
  {PROG} verify titanic-nn-out/{WORKBOOK_NAME}
exit status: 0 when LibreOffice's recalculation equals Python's numbers, 1 on a mismatch or error.
"""

IMPORT_EXAMPLES = f"""\
examples:
  {PROG} import solved.xlsx --out imported/       # one JSON per model sheet and a submission
  {PROG} import solved.xlsx --model nnet --test test.csv --out imported/
"""


def build_parser() -> ArgumentParser:
    """The parser for every command (builds no model and imports nothing heavy)."""
    common = ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress and no notes; only results and errors")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error")

    data = ArgumentParser(add_help=False)
    group = data.add_argument_group("data")
    group.add_argument("--train", type=Path, metavar="CSV", help="training CSV (default: the bundled Kaggle train.csv)")
    group.add_argument(
        "--test", type=Path, metavar="CSV", help="CSV to predict for the submission (default: the bundled test.csv when training on the bundled train.csv)"
    )
    group.add_argument(
        "--preset", choices=("sheet", "notebook"), default="sheet",
        help="Titanic features: the lesson workbook's (sheet) or the lesson notebook's",
    )
    group.add_argument(
        "--missing", choices=("drop", "mode"),
        help="rows with a blank input: drop them, or fill with the training mode (default: the preset's, drop for sheet)",
    )
    group.add_argument("--schema", type=Path, metavar="FILE", help="a TOML or JSON schema for any tabular CSV")
    group.add_argument("--target", metavar="NAME", help="the 0/1 column to predict (your own CSV)")
    group.add_argument("--id-column", metavar="NAME", help="the row id column written to the submission (your own CSV)")
    group.add_argument("--categorical", type=_columns, metavar="A,B", help="columns turned into 0/1 dummies (n-1 per column)")
    group.add_argument("--continuous", type=_columns, metavar="X,Y", help="numeric columns, divided by their training max")
    group.add_argument("--log", type=_columns, metavar="X,Y", help="numeric columns taken as log10(x+1)")

    training = ArgumentParser(add_help=False)
    group = training.add_argument_group("training")
    group.add_argument(
        "--method", choices=("solver", "gd"), default="solver",
        help="scipy's Solver-like optimiser, or gradient descent with PyTorch",
    )
    group.add_argument("--epochs", type=_positive_int, metavar="N", help="gradient-descent epochs (default: the trainer's)")
    group.add_argument("--lr", type=_positive_float, help="gradient-descent learning rate (default: the trainer's)")
    group.add_argument("--restarts", type=_positive_int, metavar="N", help="random starts per model; the best is kept (default: the trainer's)")
    group.add_argument("--hidden", type=_positive_int, metavar="N", help="units of the mmult net (default 2, the lesson's)")
    group.add_argument("--layers", type=_widths, metavar="W1,W2", help="hidden widths of a deeper mmult net, e.g. 4,4")
    group.add_argument("--output", choices=("raw", "sigmoid"), default="raw", help="every model's output: raw, or through a sigmoid")
    group.add_argument("--seed", type=int, default=0, help="random seed of the split and the starts")
    group.add_argument("--valid-frac", type=_fraction, default=0.2, metavar="F", help="share of training rows held out for validation")
    group.add_argument("--device", type=_device, metavar="NAME", help="torch device for --method gd: auto (CUDA, then Apple MPS, then the CPU), cpu, cuda, cuda:N or mps (default: the trainer's, auto)")

    parser = ArgumentParser(
        prog=PROG,
        description="fast.ai lesson 3's spreadsheet neural net on the Titanic: train, export a Kaggle submission, "
        "and write a workbook whose formulas LibreOffice proves equal to Python's numbers.",
        epilog=f"examples:\n  {PROG} fit\n  {PROG} fit --help\n  {PROG} predict titanic-nn-out/nnet.json --out submission.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    fit = commands.add_parser(
        "fit", parents=[common, data, training], formatter_class=HelpFormatter,
        help="train linear, nnet and mmult; write the workbook, a submission, the models and loss.png",
        description="Train the lesson's three models (linear, nnet: two ReLUs, mmult: the matmul net), print a "
        "results table, and write the outputs into --out.",
        epilog=FIT_EXAMPLES,
    )
    fit.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR", help="output directory")
    fit.add_argument(
        "--model", choices=MODEL_NAMES,
        help="the model whose predictions go to the submission (all three are trained; default: best validation accuracy)",
    )
    fit.set_defaults(handler=_fit)

    predict = commands.add_parser(
        "predict", parents=[common], formatter_class=HelpFormatter,
        help="write a Kaggle submission from a saved model JSON",
        description="Predict 0/1 for every row of --input with a model saved by `fit` or `import`, and write "
        "the submission (one row per input row, in input order).",
        epilog=PREDICT_EXAMPLES,
    )
    predict.add_argument("model_file", type=Path, metavar="MODEL.json", help="a model saved by fit or import")
    predict.add_argument("--input", type=Path, metavar="CSV", help="CSV to predict (default: the bundled test.csv)")
    predict.add_argument("--out", type=Path, default=Path(SUBMISSION_NAME), metavar="FILE", help="submission CSV to write")
    predict.set_defaults(handler=_predict)

    workbook = commands.add_parser(
        "workbook", parents=[common, data, training], formatter_class=HelpFormatter,
        help="train the three models and write only the workbook",
        description="Write only the workbook: train the three models as `fit` does, or take saved models with --models.",
        epilog=WORKBOOK_EXAMPLES,
    )
    workbook.add_argument("--out", type=Path, default=Path(DEFAULT_OUT) / WORKBOOK_NAME, metavar="FILE", help="workbook to write")
    workbook.add_argument("--models", type=Path, nargs="+", metavar="JSON", help="saved models to put in the workbook instead of training")
    workbook.add_argument("--model", choices=MODEL_NAMES, help="the model of the workbook's submission sheet (default: best validation accuracy)")
    workbook.set_defaults(handler=_workbook)

    verify = commands.add_parser(
        "verify", parents=[common], formatter_class=HelpFormatter,
        help="recalculate a workbook in LibreOffice and compare it with Python",
        description="Recalculate BOOK.xlsx in LibreOffice headless and compare every computed cell with Python's numbers.",
        epilog=VERIFY_EXAMPLES,
    )
    verify.add_argument("book", type=Path, metavar="BOOK.xlsx", help="a workbook written by fit or workbook")
    verify.set_defaults(handler=_verify)

    importer = commands.add_parser(
        "import", parents=[common], formatter_class=HelpFormatter,
        help="read the parameters of a workbook re-solved in Excel; write model JSONs and a submission",
        description="Take the parameters from a workbook whose models were re-solved in Excel (or edited by hand), "
        "and write one model JSON per model sheet and a submission.",
        epilog=IMPORT_EXAMPLES,
    )
    importer.add_argument("book", type=Path, metavar="BOOK.xlsx", help="a workbook written by fit or workbook, maybe re-solved")
    importer.add_argument("--out", type=Path, default=Path("titanic-nn-import"), metavar="DIR", help="output directory")
    importer.add_argument("--test", type=Path, metavar="CSV", help="CSV to predict for the submission (default: the bundled test.csv)")
    importer.add_argument("--model", metavar="NAME", help="the sheet whose model makes the submission (default: the lowest training loss)")
    importer.set_defaults(handler=_import)
    return parser


# -- running --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 error, 2 usage error, 130 interrupted)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, --version and usage errors
        return exit.code if isinstance(exit.code, int) else 2
    if args.command is None:
        print(f"{PROG}: error: choose a command, e.g. `{PROG} fit`; see `{PROG} --help`", file=sys.stderr)
        return 2
    try:
        with _one_line_warnings():
            return args.handler(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{PROG}: interrupted; no partial output was left", file=sys.stderr)
        return INTERRUPTED
    except UsageError as exc:
        if args.debug:
            raise
        print(f"{PROG} {args.command}: error: {_one_line(exc)}; see `{PROG} {args.command} --help`", file=sys.stderr)
        return 2
    except (TitanicNNError, OSError) as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_describe(exc)}", file=sys.stderr)
        return 1


class UsageError(TitanicNNError):
    """Options that do not fit together (exit code 2, like argparse's own errors)."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, TitanicNNError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return _one_line(f"{where}{exc.strerror}")
    return _one_line(exc)


def _one_line(message: object) -> str:
    return " ".join(str(message).split()) or "unknown error"


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings print as one `titanic-nn: warning:` line each, not Python's two-line form."""

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        print(f"{PROG}: warning: {_one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


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
    from .schema import Categorical, Continuous, Schema, preset_schema

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
    if not path.exists():
        raise DataError(f"{path}: no such file (given as {what}); check the path")
    if path.is_dir():
        raise DataError(f"{path}: is a directory (given as {what}); give the path of a file inside it")


def _read(path: Path, what: str, schema: "Schema", *, with_target: bool, with_id: bool) -> "pd.DataFrame":
    """A CSV checked up front, so a bad file is named (with the fix) before any training starts."""
    import numpy as np

    from .data import read_csv

    _check_input_file(path, what)
    required = list(schema.input_columns)
    if with_target and schema.target:
        required.append(schema.target)
    if with_id and schema.id_column:
        required.append(schema.id_column)
    numeric = [c.column for c in schema.continuous] + ([schema.target] if with_target and schema.target else [])
    frame = read_csv(path, required=required, numeric=numeric)
    if with_target and schema.target:
        target = frame[schema.target]
        blank = target.isna().to_numpy()
        if blank.any():
            raise DataError(
                f"{path}: target {schema.target} is blank in {int(blank.sum())} row(s), first on line "
                f"{int(blank.argmax()) + 2}; give every training row a 0 or 1, or remove the row"
            )
        bad = ~np.isin(target.to_numpy(), (0, 1))
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"{path}: target {schema.target} must be 0 or 1, but line {first + 2} holds {_plain(target.iloc[first])}; "
                "recode it to 0/1 or choose another --target"
            )
    return frame


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds, a whole float as an int: 2, not np.float64(2.0)."""
    value = value.item() if hasattr(value, "item") else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _job(args: argparse.Namespace) -> Job:
    from .data import data_path

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
    from .models import Linear, MatMulNet, TwoReLU

    if args.hidden is not None and args.layers is not None:
        raise UsageError("give --hidden (one layer of that many units) or --layers (several widths), not both")
    if args.layers is not None:
        mmult = MatMulNet(layers=args.layers, output=args.output)
    else:
        mmult = MatMulNet(hidden=args.hidden or 2, output=args.output)
    return {"linear": Linear(output=args.output), "nnet": TwoReLU(output=args.output), "mmult": mmult}


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
        options["device"] = _checked_device(args.device)
    return options


def _checked_device(device: str) -> str:
    """The device, refused here (naming --device) when this machine lacks it; "auto" is the trainer's to resolve."""
    if device in ("auto", "cpu"):
        return device
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TitanicNNError(f"--device {device}: torch finds no CUDA GPU here; use --device cpu or auto")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise TitanicNNError(f"--device {device}: there are only {torch.cuda.device_count()} CUDA device(s)")
    mps = getattr(torch.backends, "mps", None)
    if device == "mps" and not (mps is not None and mps.is_available()):
        raise TitanicNNError("--device mps: Apple MPS is not available here; use --device cpu or auto")
    return device


def _train_all(args: argparse.Namespace, job: Job) -> list["FittedModel"]:
    import titanic_nn as tn

    from .features import Features

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
            raise TrainingDivergedError(f"{name}: {_one_line(exc)}{hint}") from exc
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
    from .atomic import ensure_directory

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


def _fit(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .atomic import AtomicFiles
    from .plots import plot_losses, plotting_available
    from .submission import submission_csv, submission_for

    started = time.perf_counter()
    _trainer_options(args)  # options that do not go together are usage errors, found before any work
    _models(args)
    job = _job(args)
    with _output_directory(args.out) as out:
        fits = _train_all(args, job)
        print(results_table(fits))
        chosen = _best(fits, args.model)
        with AtomicFiles(job.inputs) as batch:
            submission = None
            if job.test is not None:
                submission = submission_for(chosen, job.test)
                batch.stage(out / SUBMISSION_NAME).write_text(submission_csv(submission), encoding="utf-8")
            tn.write_workbook(
                batch.stage(out / WORKBOOK_NAME), fits, job.train, job.test,
                submission=chosen.name if job.test is not None else None,
            )
            for fitted in fits:
                tn.save_model(fitted, batch.stage(out / f"{fitted.name}.json"))
            histories = {f.name: f.training.get("history") for f in fits if f.training.get("history")}
            plot_note = _plot_note(args, histories, plotting_available())
            if plot_note is None:
                plot_losses(histories, batch.stage(out / LOSS_PLOT_NAME))
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


def _predict(args: argparse.Namespace) -> int:
    from .data import data_path
    from .submission import submission_for, write_submission

    fitted = _load_model(args.model_file)
    input_path = args.input if args.input is not None else data_path("test.csv")
    frame = _read(input_path, "--input", fitted.features.schema_, with_target=False, with_id=True)
    submission = submission_for(fitted, frame)
    write_submission(submission, args.out, inputs=[args.model_file, input_path], expected_rows=len(frame))
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
        raise DataError(f"{_one_line(exc)}; give a model saved by `{PROG} fit` or `{PROG} import`") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: is not a titanic-nn model file ({_one_line(exc)}); save one with `{PROG} fit`") from exc


def _refitted(fits: list["FittedModel"], job: Job, paths: Sequence[Path]) -> list["FittedModel"]:
    """Saved models with their features fitted again on --train, which must give the statistics they were saved with.

    A saved model's features keep their statistics but not which training rows they came from, and the
    workbook lays out exactly those rows; so the rows are found again, and proven to be the same ones.
    """
    from .features import Features

    first = fits[0].features
    features = Features(first.schema_, missing=first.missing_)
    features.fit_transform(job.train)
    for fitted, path in zip(fits, paths):
        if fitted.features.to_dict() != features.to_dict():
            raise DataError(
                f"{path}: was trained on other data or features than {job.train_path}; give its training CSV with "
                "--train (and models saved by one run)"
            )
        fitted.features = features
    return fits


def _workbook(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .atomic import atomic_path, ensure_directory

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
    created_parent = not out.parent.exists()
    ensure_directory(out.parent)
    try:
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


def _verify(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    _check_workbook_file(args.book)
    report = tn.verify(args.book)
    if report.ok:
        print(f"ok: {report}")
        return 0
    print(f"{PROG}: error: LibreOffice disagrees with Python: {_one_line(report)}", file=sys.stderr)
    return 1


def _import(args: argparse.Namespace) -> int:
    import titanic_nn as tn

    from .atomic import AtomicFiles
    from .readback import read_contents
    from .submission import submission_csv, submission_for

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
                tn.save_model(fitted, batch.stage(out / f"{fitted.name}.json"))
            batch.stage(out / SUBMISSION_NAME).write_text(submission_csv(submission), encoding="utf-8")
            written = [final for final, _ in batch.staged]
    _note(args, f"submission: {chosen.name} ({why}), {len(submission)} rows")
    for path in written:
        _note(args, f"wrote {path}")
    return 0


def _sheet_loss(fitted: "FittedModel", train: "pd.DataFrame") -> float:
    """The model's loss on the training rows the workbook holds, with the parameters it holds now."""
    from .metrics import LOSSES

    features = fitted.features
    return LOSSES[fitted.model.loss_name](fitted.predict(train), features.target(train))


if __name__ == "__main__":
    sys.exit(main())
