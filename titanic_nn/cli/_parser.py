"""The `titanic-nn` command line: its arguments (every choice read from its registry) and `main`."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

from .. import __version__
from .._atomic import HELD_SIGNALS, interrupt_now, written_this_run
from .._constraints import CONSTRAINTS
from .._entry import interrupted
from ..engines import ENGINES
from ..errors import InterruptSignalError, TitanicNNError, UsageError
from ..features import MAX_LEVELS, MISSING, PRESETS, TARGETS
from ..nn import ACTIVATIONS, MODELS, OUTPUTS, MatMulNet
from ..training import LR_FIND, LR_FIND_DEFAULTS, METHODS, OPTIMIZERS, SCHEDULES
from ._commands import run_fit, run_import, run_lr_find, run_predict, run_verify, run_workbook
from ._messages import DEFAULT_OUT, LOSS_PLOT_NAME, LR_FIND_PLOT_NAME, PROG, SCHEMA_NAME, SUBMISSION_NAME, WORKBOOK_NAME, one_line

__all__ = ["main", "build_parser"]



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


def _setting(name: str) -> Any:
    """An argparse type from the setting's declared constraint: its value, or argparse's one-line error naming the
    option and the range."""
    constraint = CONSTRAINTS[name]

    def parse(text: str) -> Any:
        try:
            return constraint.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name
    return parse


def _lr(text: str) -> float | str:
    """A learning rate, or "find": the learning-rate finder's suggestion."""
    if text.strip() == LR_FIND:
        return LR_FIND
    try:
        return CONSTRAINTS["lr"].parse(text)
    except ValueError as exc:
        give = ", or" if "give" in str(exc) else "; give a number or"
        raise argparse.ArgumentTypeError(f"{exc}{give} {LR_FIND} (the learning-rate finder's suggestion)") from None


def _sheet_epochs(text: str) -> int:
    """0 (no training sheets) or a training sheet's epochs."""
    return 0 if text.strip() == "0" else _setting("sheet_epochs")(text)


def _columns(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of column names such as Sex,Pclass")
    return names


def _embed(text: str) -> dict[str, int | bool] | str:
    """--embed: COL or COL:k, comma-separated (a column's width k, else fastai's rule), or "all" (every categorical
    column at fastai's width)."""
    from .._constraints import EMBED_WIDTH

    if text.strip() == "all":
        return "all"
    widths: dict[str, int | bool] = {}
    for part in _columns(text):
        name, _, width = part.partition(":")
        if not name.strip():
            raise argparse.ArgumentTypeError(f"{part!r} names no column; give COL or COL:k, e.g. Embarked:3")
        try:
            widths[name.strip()] = EMBED_WIDTH.parse(width) if width else True
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{part!r}: the width {exc}") from None
    return widths


def _target(text: str) -> str | list[str]:
    """One column's name, or several labels' columns A,B,C."""
    return _columns(text) if "," in text else text


def _kinds(text: str) -> list[str]:
    kinds = _columns(text)
    unknown = [kind for kind in kinds if kind not in MODELS]
    if unknown:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown)} is not a model kind; the kinds are {', '.join(MODELS)}")
    return list(dict.fromkeys(kinds))


def _device(text: str) -> str:
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a device; use auto, cpu, cuda, cuda:N or mps")
    return text


# every registered model kind is trained: the lesson's linear, nnet and mmult
KINDS = ", ".join(MODELS)
MODEL_FILES = "/".join(f"{kind}.json" for kind in MODELS)

FIT_EXAMPLES = f"""\
examples:
  {PROG} fit                                  # the lesson's models ({KINDS}) on the bundled Titanic data
  {PROG} fit --method gd --epochs 300 --lr 0.1 --out runs/gd
  {PROG} fit --model linear                   # submit the linear model's predictions
  {PROG} fit --hidden 8 --activation tanh     # a wider matmul net of tanh units
  {PROG} fit --hidden 8 --output sigmoid      # probabilities: the nets end in a linear head, then a sigmoid
  {PROG} fit --preset notebook                # the lesson notebook's features (missing values filled)
  {PROG} fit --valid-frac 0                   # no validation: every row trains
  {PROG} fit --refit                          # choose on the validation rows, then train the choice on all
  # your own CSVs (replace the file and column names with yours): the columns typed for you,
  {PROG} fit --train loans.csv --test new.csv --target Default --id-column LoanId
  # or some of them given (the others still typed), or left out:
  {PROG} fit --train loans.csv --test new.csv --target Default --id-column LoanId \\
      --categorical Grade,Purpose --continuous Age,Income --log Debt --ignore Notes

outputs in --out: the workbook ({WORKBOOK_NAME} for the bundled data, else named after --train, e.g.
loans.xlsx), {SUBMISSION_NAME} (from the model with the best validation score, or --model),
{MODEL_FILES} (load with `{PROG} predict`), {LOSS_PLOT_NAME} (loss per epoch, for --method gd
when matplotlib is installed), and for your own CSV {SCHEMA_NAME} (the columns as typed: edit it and give
it with --schema).
"""

LR_FIND_EXAMPLES = f"""\
examples:
  {PROG} lr-find                                   # each model on the bundled data; {LR_FIND_PLOT_NAME} in {DEFAULT_OUT}/
  {PROG} lr-find --model nnet --optimizer sgd --out runs/lr
  {PROG} fit --method gd --lr find                 # train at each model's suggestion
"""

PREDICT_EXAMPLES = f"""\
examples:
  {PROG} predict titanic-nn-out/nnet.json                  # the bundled test.csv -> submission.csv
  {PROG} predict titanic-nn-out/nnet.json --input new.csv --out new-submission.csv   # new.csv: yours
"""

WORKBOOK_EXAMPLES = f"""\
examples:
  {PROG} workbook                                  # train the models as fit does, write only the workbook
  {PROG} workbook --out book.xlsx --method gd --epochs 200
  {PROG} workbook --models titanic-nn-out/linear.json titanic-nn-out/nnet.json --out two.xlsx   # no training
  {PROG} workbook --models out/linear.json --train loans.csv   # saved on your own data: their CSV only
"""

VERIFY_EXAMPLES = f"""\
examples:
  {PROG} verify titanic-nn-out/{WORKBOOK_NAME}                  # every installed engine
  {PROG} verify --engine all workbooks/titanic.xlsx             # LibreOffice, Gnumeric and HyperFormula (with Node), each required
  {PROG} verify --engine gnumeric titanic-nn-out/{WORKBOOK_NAME}
exit status: 0 when every engine's recalculation equals Python's numbers, 1 on a mismatch or error.
"""

IMPORT_EXAMPLES = f"""\
examples:
  {PROG} import titanic-nn-out/{WORKBOOK_NAME} --out imported/   # after re-running Solver in it and saving
  {PROG} import titanic-nn-out/{WORKBOOK_NAME} --model nnet --test new.csv --out imported/   # new.csv: yours
  {PROG} import titanic-nn-out/{WORKBOOK_NAME} --from training --out imported/   # after the sheet trained, saved
"""


def _add_model_options(group: Any) -> None:
    """The options that build the models (--kinds, --hidden, --layers, --activation, --output, --head): training and
    lr-find."""
    group.add_argument(
        "--kinds", type=_kinds, metavar="A,B",
        help=f"the model kinds to train, of {', '.join(MODELS)} (default: the lesson's, "
        f"{', '.join(k for k, cls in MODELS.items() if cls.lesson)})",
    )
    group.add_argument("--hidden", type=_setting("hidden"), metavar="N", help="units of the mmult net (default 2, the lesson's)")
    group.add_argument(
        "--layers", type=_setting("layers"), metavar="W1,W2",
        help="hidden widths of a deeper mmult net, e.g. 4,4, and of the tabular model (default 10,10)",
    )
    group.add_argument(
        "--activation", choices=tuple(ACTIVATIONS), default="relu",
        help="the mmult net's hidden units, one of the registered activations (relu is the lesson's)",
    )
    # a softmax is the output of several classes, which their target gives every model (with its units) by itself
    group.add_argument(
        "--output", choices=tuple(o for o in OUTPUTS if o != "softmax"), default="raw",
        help="every model's output: raw, or through a sigmoid (several classes end in a softmax, several labels in a "
        "sigmoid each, by themselves)",
    )
    group.add_argument(
        "--head", choices=MatMulNet.HEADS,
        help="how the nets' hidden units make the output: their sum (the lesson's), or a linear layer with a bias "
        "(default: sum for --output raw, linear for --output sigmoid, since a sum of ReLUs is never negative)",
    )


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
        "--preset", choices=tuple(PRESETS),
        help="Titanic features: the lesson workbook's (sheet, the default), the lesson notebook's, or kaggle's (title, family, ticket frequency, deck, woman-or-child group survival)",
    )
    group.add_argument(
        "--missing", choices=MISSING,
        help="rows with a blank input: drop them, or fill with the training mode (default: the preset's, drop for sheet)",
    )
    group.add_argument("--schema", type=Path, metavar="FILE", help="a TOML or JSON schema for any tabular CSV")
    group.add_argument(
        "--target", metavar="NAME", type=_target,
        help="the column to predict (your own CSV: 0/1, two values with --positive, numbers or classes; its other "
        "columns are typed for you, see --ignore), or several 0/1 columns A,B,C (several labels, predicted at once)",
    )
    group.add_argument(
        "--task", choices=tuple(TARGETS),
        help="what the target is: binary (0/1, or two values), regression (numbers), multiclass (2 to 50 levels) or "
        "multilabel (several 0/1 columns); by default inferred: numbers of more than two values are regression, text "
        "of 3 to 50 values multiclass, several --target columns multilabel",
    )
    group.add_argument("--id-column", metavar="NAME", help="the row id column written to the submission (your own CSV)")
    group.add_argument(
        "--positive", metavar="VALUE",
        help="for a target of two values that are not 0/1 (e.g. yes/no): the value that counts as 1",
    )
    group.add_argument(
        "--blank", action="append", metavar="TEXT",
        help="a text that marks a blank cell, as an empty one does (repeat for several, e.g. --blank NA --blank null); "
        "by default only an empty cell is blank",
    )
    group.add_argument("--categorical", type=_columns, metavar="A,B", help="columns turned into 0/1 dummies (n-1 per column)")
    group.add_argument("--continuous", type=_columns, metavar="X,Y", help="numeric columns, divided by their training max")
    group.add_argument("--log", type=_columns, metavar="X,Y", help="numeric columns taken as log10(x+1)")
    group.add_argument(
        "--embed", type=_embed, metavar="COL[:k],...",
        help="categorical columns learned as embeddings (a table of k values per level, and a row for unseen levels) "
        "instead of dummies; k defaults to fastai's min(600, round(1.6 n^0.56)) for n levels; 'all' embeds every "
        "categorical column (the default for --kinds with tabular)",
    )
    group.add_argument(
        "--ignore", type=_columns, metavar="A,B",
        help="columns of your own CSV left out of the inputs; every column not named by --categorical, --continuous, "
        f"--log or --ignore is typed from the training rows (numbers continuous, text of at most {MAX_LEVELS} levels "
        f"categorical, the rest left out), said in a table and written to --out as {SCHEMA_NAME}",
    )

    training = ArgumentParser(add_help=False)
    group = training.add_argument_group("training")
    group.add_argument(
        "--method", choices=tuple(METHODS), default="solver",
        help="scipy's Solver-like optimiser, or gradient descent with PyTorch",
    )
    group.add_argument("--epochs", type=_setting("epochs"), metavar="N", help="gradient-descent epochs (default: the trainer's)")
    group.add_argument(
        "--lr", type=_lr,
        help=f"gradient-descent learning rate, or {LR_FIND}: run the learning-rate finder (as `{PROG} lr-find`) on each "
        "model's training rows and train at its suggestion (default: the trainer's)",
    )
    group.add_argument(
        "--optimizer", choices=tuple(OPTIMIZERS),
        help="gradient descent's update: sgd (the lesson's w -= lr * grad), momentum, adam, or rmsprop (fastai's: sqr_mom 0.99, eps 1e-8) (default: the trainer's, adam)",
    )
    group.add_argument(
        "--wd", type=_setting("wd"), metavar="WD",
        help="weight decay (default 0, none; fastai's default is 0.01): gradient descent scales each weight by "
        "1 - lr * wd before each step (fastai's true weight decay), the solver adds wd/2 * the sum of the squared "
        "weights to its objective; biases are not decayed",
    )
    group.add_argument(
        "--schedule", choices=tuple(SCHEDULES),
        help="gradient descent's learning-rate schedule: constant, or one-cycle (fastai's fit_one_cycle: the rate "
        "rises from lr/25 to lr over the first quarter of the epochs, then falls to lr/1e5; momentum and Adam's "
        "beta1 run 0.95 to 0.85 and back) (default: constant)",
    )
    group.add_argument(
        "--sheet-epochs", type=_sheet_epochs, metavar="N",
        help="epochs of each model's training sheet, gradient descent written in formulas (0: no training sheets; "
        "default: 300, or none where 300 would take a spreadsheet too long to recalculate)",
    )
    group.add_argument("--restarts", type=_setting("restarts"), metavar="N", help="random starts per model; the best is kept (default: the trainer's)")
    group.add_argument(
        "--ensemble", type=_setting("ensemble"), metavar="K",
        help="make each model an ensemble of K members, trained with seeds seed..seed+K-1, whose predictions are "
        "averaged (in the sheet, Preds is the AVERAGE of the members' Preds columns; no training sheet); default 1",
    )
    _add_model_options(group)
    group.add_argument("--seed", type=_setting("seed"), default=0, help="random seed of the split and the starts")
    group.add_argument(
        "--valid-frac", type=_setting("valid_frac"), default=0.2, metavar="F",
        help="share of training rows held out for validation; 0: none, every row trains and the submission "
        "model is the one of lowest training loss (or --model)",
    )
    group.add_argument(
        "--refit", action="store_true",
        help="after choosing the submission model on the validation rows, train it again on every row; its "
        "sheet, JSON and the submission hold the refit parameters",
    )
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
        help=f"train {KINDS}; write the workbook, a submission, the models and loss.png",
        description=f"Train one model of each kind ({KINDS}: the lesson's linear regression, its net of two "
        "ReLUs and the same net as one matrix multiplication), print a results table, and write the outputs into --out.",
        epilog=FIT_EXAMPLES,
    )
    fit.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR", help="output directory")
    fit.add_argument(
        "--model", choices=tuple(MODELS),
        help="the model whose predictions go to the submission (all are trained; default: best validation score: accuracy, or RMSE)",
    )
    fit.set_defaults(handler=run_fit)

    predict = commands.add_parser(
        "predict", parents=[common], formatter_class=HelpFormatter,
        help="write a Kaggle submission from a saved model JSON",
        description="Predict the target (0/1, a number, a class, or several labels) for every row of --input with a model saved by `fit` or `import`, and write "
        "the submission (one row per input row, in input order).",
        epilog=PREDICT_EXAMPLES,
    )
    predict.add_argument("model_file", type=Path, metavar="MODEL.json", help="a model saved by fit or import")
    predict.add_argument("--input", type=Path, metavar="CSV", help="CSV to predict (default: the bundled test.csv)")
    predict.add_argument("--out", type=Path, default=Path(SUBMISSION_NAME), metavar="FILE", help="submission CSV to write")
    predict.set_defaults(handler=run_predict)

    workbook = commands.add_parser(
        "workbook", parents=[common, data, training], formatter_class=HelpFormatter,
        help="train the models as fit does and write only the workbook",
        description="Write only the workbook: train the models as `fit` does, or take saved models with --models.",
        epilog=WORKBOOK_EXAMPLES,
    )
    workbook.add_argument(
        "--out", type=Path, metavar="FILE",
        help=f"workbook to write (default: {DEFAULT_OUT}/{WORKBOOK_NAME} for the bundled data, else "
        f"{DEFAULT_OUT}/<training CSV's name>.xlsx)",
    )
    workbook.add_argument("--models", type=Path, nargs="+", metavar="JSON", help="saved models to put in the workbook instead of training")
    workbook.add_argument("--model", choices=tuple(MODELS), help="the model of the workbook's submission sheet (default: best validation score)")
    workbook.set_defaults(handler=run_workbook)

    verify = commands.add_parser(
        "verify", parents=[common], formatter_class=HelpFormatter,
        help="check a workbook's formulas, recalculate it in LibreOffice, Gnumeric and HyperFormula and compare it with Python",
        description="Check that every formula of BOOK.xlsx is still the one titanic-nn wrote, then recalculate it in "
        "each spreadsheet engine (forced) and compare every computed cell with Python's numbers (within 1e-9 of the "
        "value, or of the terms summed into it, plus 1e-12).",
        epilog=VERIFY_EXAMPLES,
    )
    verify.add_argument("book", type=Path, metavar="BOOK.xlsx", help="a workbook written by fit or workbook")
    verify.add_argument(
        "--engine", choices=(*ENGINES, "all"),
        help="the engine to recalculate with, or all of them (each then required) (default: every installed engine)",
    )
    verify.add_argument(
        "--timeout", type=_setting("timeout"), metavar="SECONDS",
        help="seconds each engine may take to recalculate the workbook (default: 120; LibreOffice 150)",
    )
    verify.set_defaults(handler=run_verify)

    finder = commands.add_parser(
        "lr-find", parents=[common, data], formatter_class=HelpFormatter,
        help=f"the learning-rate finder: suggest gradient descent's learning rate; draw {LR_FIND_PLOT_NAME}",
        description="fastai's learning-rate range test on each model (or --model): from the first random start of "
        "--seed, one full-batch gradient-descent step at each of --num-it learning rates growing exponentially from "
        "--start-lr toward --end-lr, on the training rows `fit` trains on (the split of --valid-frac and --seed), "
        f"stopping once the smoothed loss passes 4 times its least. It prints the rate fastai's valley rule suggests "
        f"and draws the loss against the rate, the suggestion marked, as {LR_FIND_PLOT_NAME} in --out (when "
        f"matplotlib is installed). `{PROG} fit --method gd --lr {LR_FIND}` trains at the suggestion.",
        epilog=LR_FIND_EXAMPLES,
    )
    finder.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), metavar="DIR", help=f"output directory of {LR_FIND_PLOT_NAME}")
    finder.add_argument("--model", choices=tuple(MODELS), help="the model to test (default: each of them)")
    group = finder.add_argument_group("the range test")
    group.add_argument("--start-lr", type=_setting("start_lr"), metavar="X", help=f"the first learning rate (default {LR_FIND_DEFAULTS['start_lr']:g})")
    group.add_argument("--end-lr", type=_setting("end_lr"), metavar="X", help=f"the rate it grows toward (default {LR_FIND_DEFAULTS['end_lr']:g})")
    group.add_argument("--num-it", type=_setting("num_it"), metavar="N", help=f"steps, each one full-batch epoch (default {LR_FIND_DEFAULTS['num_it']})")
    group.add_argument(
        "--no-stop-div", dest="stop_div", action="store_false",
        help="run every step, even after the loss passes 4 times its least (fastai's stop_div=False)",
    )
    group.add_argument(
        "--optimizer", choices=tuple(OPTIMIZERS),
        help="gradient descent's update, as fit's --optimizer (default: the trainer's, adam)",
    )
    group.add_argument("--seed", type=_setting("seed"), default=0, help="random seed of the split and the start")
    group.add_argument(
        "--valid-frac", type=_setting("valid_frac"), default=0.2, metavar="F",
        help="share of training rows held out, as fit's: the finder runs on the rows fit trains on",
    )
    _add_model_options(finder.add_argument_group("model"))
    finder.set_defaults(handler=run_lr_find)

    importer = commands.add_parser(
        "import", parents=[common], formatter_class=HelpFormatter,
        help="read the parameters of a workbook re-solved in Excel; write model JSONs and a submission",
        description="Take the parameters from a workbook whose models were re-solved in Excel (or edited by hand), "
        "and write one model JSON per model sheet and a submission.",
        epilog=IMPORT_EXAMPLES,
    )
    importer.add_argument("book", type=Path, metavar="BOOK.xlsx", help="a workbook written by fit or workbook, maybe re-solved")
    importer.add_argument("--out", type=Path, default=Path("titanic-nn-import"), metavar="DIR", help="output directory")
    importer.add_argument(
        "--test", type=Path, metavar="CSV", help="CSV to predict for the submission (default: the workbook's own test rows)"
    )
    importer.add_argument(
        "--model", metavar="NAME",
        help="the sheet whose model makes the submission (default: the best validation score with the parameters "
        "and Valid marks the sheets hold now; without Valid rows, the lowest training loss)",
    )
    importer.add_argument(
        "--from", dest="source", choices=("sheets", "training"), default="sheets",
        help="take the parameters from the model sheets (e.g. re-solved by Solver) or from each training sheet's "
        "last epoch, gd_final (the workbook saved by a spreadsheet after it trained)",
    )
    importer.set_defaults(handler=run_import)
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
    before = len(written_this_run())
    try:
        with _one_line_warnings(), _signals_interrupt():
            return args.handler(args)
    except KeyboardInterrupt as exc:
        if args.debug:
            raise
        return interrupted(exc, written_this_run(before))
    except UsageError as exc:
        if args.debug:
            raise
        print(f"{PROG} {args.command}: error: {one_line(exc)}; see `{PROG} {args.command} --help`", file=sys.stderr)
        return 2
    except (TitanicNNError, OSError) as exc:
        if args.debug:
            raise
        print(f"{PROG}: error: {_describe(exc)}", file=sys.stderr)
        return 1


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, TitanicNNError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return one_line(f"{where}{exc.strerror}")
    return one_line(exc)


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings print as one `titanic-nn: warning:` line each, not Python's two-line form, and each once a run
    (the features warn once per sheet they build)."""
    shown: set[str] = set()

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        text = one_line(message)
        if text not in shown:
            shown.add(text)
            print(f"{PROG}: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP handled like Ctrl-C: each raises `InterruptSignalError` once, so every `with` and `finally`
    of the run removes its temporaries and stops its engines; a second signal during that cleanup is ignored, so
    the cleanup finishes.

    The previous handlers come back when the command ends (main may run inside another program).
    """
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    received: list[int] = []

    def interrupt(number: int, frame: Any) -> None:
        if received:
            return
        received.append(number)
        if interrupt_now(number):  # else outputs are being renamed into place: raised as the last one is
            raise InterruptSignalError(number)

    previous = {number: signal.signal(number, interrupt) for number in HELD_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)

