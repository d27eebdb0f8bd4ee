"""Every numeric setting's range, declared once: the models, the trainers, the model-file validator and the command line
all read it (scikit-learn's `_param_validation`, for a package of a few settings).

A constraint checks a value given in Python (`check`, raising one line that names the setting and its range) and
parses one typed on the command line (`parse`, whose error argparse prints after the option's name). Each upper bound
is one a 2-core machine can honour; what several settings do together (epochs x rows x parameters) is bounded by the
trainers' estimate of the work (training/_budget.py), not here.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

from ._plain import shown
from .errors import TitanicNNError

__all__ = [
    "Constraint", "Whole", "Real", "Widths", "SettingError",
    "SEED", "EPOCHS", "RESTARTS", "HIDDEN", "LAYERS", "MEMBERS", "SHEET_EPOCHS", "LR", "VALID_FRAC", "THREADS",
    "MAXITER", "MOMENTUM", "BETA", "EPS", "WD", "DIV", "PCT_START", "FOLDS", "REPEATS", "NUM_IT", "CONSTRAINTS",
    "EMBED_WIDTH", "EMBED_ROWS", "ENGINE_TIMEOUT",
]


class SettingError(TitanicNNError, ValueError):
    """A setting outside its declared range (or of the wrong type); the message names the setting and the range."""


class Constraint:
    """What values a setting takes; `name` is how messages call it."""

    name: str

    def describe(self) -> str:
        raise NotImplementedError

    def problem(self, value: Any) -> str | None:
        """Why `value` is refused (None: it is taken)."""
        raise NotImplementedError

    def check(self, value: Any, name: str | None = None) -> Any:
        """`value` unchanged, or a SettingError naming the setting (`name`, else its own) and its range."""
        problem = self.problem(value)
        if problem is not None:
            raise SettingError(f"{name or self.name} must be {self.describe()}, not {shown(value)}")
        return value

    def parse(self, text: str) -> Any:
        """The value of a command-line argument, or a ValueError whose message says why (argparse shows it)."""
        value = self.convert(text)
        if self.problem(value):
            raise ValueError(f"{text} is outside {self.interval()}; give {self.describe()}")
        return value

    def convert(self, text: str) -> Any:
        """The argument's text as a value of the setting's type, or a ValueError saying it is none."""
        raise NotImplementedError

    def interval(self) -> str:
        raise NotImplementedError


def _thousands(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


@dataclass(frozen=True)
class Whole(Constraint):
    """A whole number from `low` to `high`, both included (a bool is not a number here); `noun` names what it counts."""

    name: str
    low: int
    high: int
    noun: str = ""

    def describe(self) -> str:
        what = f"a number of {self.noun}" if self.noun else "a whole number"
        return f"{what} from {_thousands(self.low)} to {_thousands(self.high)}"

    def check(self, value: Any, name: str | None = None) -> Any:
        if self.problem(value) is not None:
            of = f" of {self.noun}" if self.noun else ""
            raise SettingError(
                f"{name or self.name} must be a whole number{of} from {_thousands(self.low)} to "
                f"{_thousands(self.high)}, not {shown(value)}"
            )
        return value

    def interval(self) -> str:
        return f"[{self.low}, {self.high}]"

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return "not a whole number"
        return None if self.low <= int(value) <= self.high else "outside its range"

    def convert(self, text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None


@dataclass(frozen=True)
class Real(Constraint):
    """A finite number between `low` and `high`; `low_open`/`high_open` leave that end out."""

    name: str
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    example: str = ""

    def describe(self) -> str:
        low, high = _thousands(self.low), _thousands(self.high)
        ends = {
            (False, False): "both included", (True, True): "neither included",
            (False, True): f"{low} included, {high} not", (True, False): f"{high} included, {low} not",
        }[(self.low_open, self.high_open)]
        example = f", e.g. {self.example}" if self.example else ""
        if self.low == 0 and self.low_open:
            return f"a positive number {'below' if self.high_open else 'of at most'} {high}{example}"
        return f"a number between {low} and {high} ({ends}){example}"

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return "not a number"
        value = float(value)
        if not math.isfinite(value):
            return "not finite"
        low_ok = value > self.low if self.low_open else value >= self.low
        high_ok = value < self.high if self.high_open else value <= self.high
        return None if low_ok and high_ok else "outside its range"

    def interval(self) -> str:
        low, high = (int(v) if float(v).is_integer() else v for v in (self.low, self.high))
        return f"{'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"

    def convert(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{text} is not a finite number")
        return value


@dataclass(frozen=True)
class Widths(Constraint):
    """A list of widths, each `width`'s, at most `most` of them (a net's hidden layers)."""

    name: str
    width: Whole
    most: int

    def describe(self) -> str:
        return f"a list of 1 to {self.most} widths, each {self.width.describe()}"

    def problem(self, value: Any) -> str | None:
        if isinstance(value, (str, bytes)):
            return "not a list"
        try:
            widths = list(value)
        except TypeError:  # a number (a numpy scalar too): not a list of widths
            return "not a list"
        if not 1 <= len(widths) <= self.most:
            return "too many or too few"
        return next((p for p in map(self.width.problem, widths) if p), None)

    def parse(self, text: str) -> list[int]:
        parts = [p.strip() for p in text.split(",")]
        try:
            widths = [self.width.parse(p) for p in parts]
        except ValueError:
            widths = []
        if not widths or len(widths) > self.most:
            raise ValueError(f"{text!r} is not a comma-separated list of widths such as 4,4 ({self.describe()})")
        return widths


# -- the settings ------------------------------------------------------------------------------------

# numpy's SeedSequence takes non-negative seeds; 2**32 - 1 is the largest every numpy version takes as one word
SEED = Whole("seed", 0, 2**32 - 1)
# full-batch epochs: a million of the lesson's 712 rows is minutes; more rows are bounded by the work estimate
EPOCHS = Whole("epochs", 1, 1_000_000)
RESTARTS = Whole("restarts", 1, 10_000)
# a layer's units: a sheet has 16,384 columns, so no wider layer can be written or read back
HIDDEN = Whole("hidden", 1, 16_384, noun="units")
LAYERS = Widths("layers", HIDDEN, 16)
MEMBERS = Whole("ensemble", 1, 64, noun="members")
# a model's output units: one, or one per class (a multi-class target of up to 50 levels) or per label
OUTPUT_UNITS = Whole("outputs", 1, 50, noun="output units")
# an embedding's width: fastai's rule never gives more than 600
EMBED_WIDTH = Whole("embed", 1, 600, noun="columns")
# an embedding table's rows: a column's levels (each on a row of the sheet) and the row for unseen levels
EMBED_ROWS = Whole("embedding rows", 2, 1_048_576, noun="rows")
# seconds an engine may take to recalculate one workbook (verify --timeout): up to a day
ENGINE_TIMEOUT = Real("timeout", 0.0, 86_400.0, low_open=True, example="600")
# a training sheet's epochs; its recalculation (epochs x rows x parameters) is bounded by SheetTraining
SHEET_EPOCHS = Whole("sheet epochs", 1, 100_000)
LR = Real("the learning rate", 0.0, 1e6, low_open=True, example="0.01")
VALID_FRAC = Real("valid_frac", 0.0, 1.0, high_open=True, example="0.2, or 0 for no validation")
THREADS = Whole("threads", 1, 1024)
MAXITER = Whole("maxiter", 1, 10_000_000)
MOMENTUM = Real("momentum", 0.0, 1.0, high_open=True)
BETA = Real("beta", 0.0, 1.0, high_open=True)
EPS = Real("eps", 0.0, 1.0, low_open=True)
# weight decay: 0 is none; each step scales a weight by 1 - lr * wd, so past 1 / lr it flips the weights' signs (the
# bound is lr's, not a judgement of what is sensible)
WD = Real("wd", 0.0, 1e6, example="0.01, fastai's default")
# the one-cycle schedule's divisors of the learning rate, at the start and at the end
DIV = Real("div", 0.0, 1e12, low_open=True, example="25")
PCT_START = Real("pct_start", 0.0, 1.0, example="0.25")
FOLDS = Whole("folds", 2, 1000)
REPEATS = Whole("repeats", 1, 1000)
# the learning-rate finder's steps, each a full-batch epoch; fastai's least is 6, which leaves its valley rule one point
# (it drops the first num_it // 10 and the last 5)
NUM_IT = Whole("num_it", 6, 100_000, noun="steps")

# Every declared constraint by its setting's name (the command line's options and the trainers' keywords).
CONSTRAINTS: dict[str, Constraint] = {
    "seed": SEED, "epochs": EPOCHS, "restarts": RESTARTS, "hidden": HIDDEN, "layers": LAYERS, "ensemble": MEMBERS,
    "outputs": OUTPUT_UNITS,
    "sheet_epochs": SHEET_EPOCHS, "lr": LR, "valid_frac": VALID_FRAC, "threads": THREADS, "maxiter": MAXITER,
    "momentum": MOMENTUM, "beta1": BETA, "beta2": BETA, "eps": EPS, "folds": FOLDS, "repeats": REPEATS,
    # the learning-rate finder's range: from one learning rate to another
    "start_lr": LR, "end_lr": LR, "num_it": NUM_IT,
    "timeout": ENGINE_TIMEOUT,
    "wd": WD, "div": DIV, "div_final": DIV, "pct_start": PCT_START,
    "mom_start": MOMENTUM, "mom_mid": MOMENTUM, "mom_end": MOMENTUM,
}
