"""Training for the command line: the models its options build, the trainers' options, each model trained once."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..errors import MissingDependencyError, TitanicNNError, TrainingDivergedError, UsageError
from ._inputs import Job, run_kinds, unlabelled
from ._messages import note, one_line

if TYPE_CHECKING:
    from ..training import FittedModel, LRFind

__all__ = ["models_from_options", "trainer_options", "check_training_options", "train_all", "train_one", "refit", "find_rates"]

def models_from_options(args: argparse.Namespace) -> dict[str, Any]:
    """One model of each kind --kinds names (default: the lesson's kinds of the registry), each taking the options its
    class has (--hidden, --layers, ...)."""
    from ..nn import build_model

    kinds = run_kinds(args)

    if args.hidden is not None and args.layers is not None:
        raise UsageError("give --hidden (one layer of that many units) or --layers (several widths), not both")
    options = {
        "hidden": args.hidden, "layers": args.layers, "head": args.head, "activation": args.activation,
        "output": args.output,
    }
    try:
        models = {kind: build_model(kind, **options) for kind in kinds}
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


def embeddings_note(features: Any) -> str:
    """What each embedded column became: its levels, its width, and the table's row for unseen levels."""
    parts = [
        f"{column} ({len(levels)} levels, {width} values each)"
        for (column, levels), (_, width) in zip(features.embedded_levels_.items(), features.embeddings_)
    ]
    return f"embeddings: {', '.join(parts)}; each table has a row more, for levels unseen in training"


def trainer_options(args: argparse.Namespace) -> dict[str, Any]:
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
        if args.schedule is not None:
            options["schedule"] = args.schedule
    else:
        from ..training import LR_FIND

        if args.lr == LR_FIND:
            raise UsageError(
                f"--lr {LR_FIND} runs the learning-rate finder for gradient descent; the solver takes no learning "
                "rate: add --method gd, or leave it out"
            )
        given = [name for name in ("epochs", "lr", "optimizer", "schedule") if getattr(args, name) is not None]
        if given:
            flags = " and ".join(f"--{name}" for name in given)
            raise UsageError(f"{flags} set gradient descent; add --method gd, or leave {'them' if len(given) > 1 else 'it'} out")
    if args.restarts is not None:
        options["restarts"] = args.restarts
    if args.wd is not None:  # both trainers: decoupled in gradient descent, its L2 form in the solver
        options["wd"] = args.wd
    if args.device is not None:
        if args.method != "gd":
            raise UsageError("--device sets where gradient descent runs; add --method gd, or leave it out")
        if args.device not in ("auto", "cpu"):
            from ..training import resolve_device

            resolve_device(args.device, option="--device")  # refused now, naming --device, before any training
        options["device"] = args.device
    return options


def check_training_options(args: argparse.Namespace) -> None:
    """Every option of a training command that does not fit the others, as a usage error before any work."""
    trainer_options(args)
    models_from_options(args)
    if args.refit and args.valid_frac == 0:
        raise UsageError(
            "--refit trains the chosen model again on every row after choosing it on the validation rows, but "
            "--valid-frac 0 holds none out: every model already trains on all rows; leave out one of them"
        )


def train_all(args: argparse.Namespace, job: Job) -> list["FittedModel"]:
    from ..features import Features

    from ..training import trained_alike, training_signature

    options = trainer_options(args)
    # One fit of the features for every model: each would learn the same statistics, and a workbook holds
    # models sharing one.
    features = Features(job.schema, missing=job.missing)
    X, y = features.fit_transform(job.train, unlabelled=unlabelled(job))
    note(args, _rows_note(args, job, features))
    if features.embeddings_:
        note(args, embeddings_note(features))
    from ..training import check_work, train_valid_split

    n_train = len(train_valid_split(len(X), args.valid_frac, args.seed)[0])
    # each model as the target trains it (a target of several classes ends it in as many outputs)
    models = {name: features.model_for(model) for name, model in models_from_options(args).items()}
    for name, model in models.items():  # every model's work, before any trains
        check_work(model, n_train, X.shape[1], args.method, name=name, **options)
    fits: list["FittedModel"] = []
    trained: dict[Any, "FittedModel"] = {}  # by training signature: one program trains once
    for name, model in models.items():
        signature = training_signature(model, X.shape[1])
        same = trained.get(signature)
        if same is not None:
            note(args, f"training {name} ({args.method}): the same program and starts as {same.name}, so its "
                        f"parameters, in {name}'s layout")
            fitted = trained_alike(same, model)
            fitted.name = name
        else:
            note(args, f"training {name} ({args.method}) ...")
            fitted = trained[signature] = train_one(args, name, model, features, (X, y), args.valid_frac, options)
        fits.append(fitted)
    return fits


def train_one(
    args: argparse.Namespace, name: str, model: Any, features: Any, data: tuple[Any, Any], valid_frac: float,
    options: dict,
) -> "FittedModel":
    from ..training import train_transformed

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
    found = (fitted.training.get("settings") or {}).get("lr_find")
    if found:
        members = fitted.training["settings"].get("ensemble")
        whose = f" for member 0 of {members}, each member finding its own from its start" if members else ""
        note(args, f"{name}: learning rate {found['suggestion']:.3g}, the learning-rate finder's suggestion{whose} (--lr "
                   f"find: fastai's valley rule, {found['steps']} steps on its {found['n_rows']} training rows)")
    return fitted


def find_rates(args: argparse.Namespace, job: Job, models: dict[str, Any]) -> tuple[dict[str, "LRFind"], dict[str, str]]:
    """`lr-find`: the learning-rate finder on each model and the rows `fit` trains it on (the features fitted once, the
    split of --valid-frac and --seed); and which models are another's program (their finder's run is that one's)."""
    from ..features import Features
    from ..training import LR_FIND_DEFAULTS, check_work, lr_find, train_valid_split, training_signature

    features = Features(job.schema, missing=job.missing)
    X, y = features.fit_transform(job.train, unlabelled=unlabelled(job))
    note(args, _rows_note(args, job, features))
    train_idx = train_valid_split(len(X), args.valid_frac, args.seed)[0]
    X, y = X[train_idx], y[train_idx]
    settings = {"start_lr": args.start_lr, "end_lr": args.end_lr, "num_it": args.num_it, "stop_div": args.stop_div,
                "optimizer": args.optimizer}
    if features.embeddings_:
        note(args, embeddings_note(features))
    models = {name: features.model_for(model) for name, model in models.items()}
    num_it = args.num_it or LR_FIND_DEFAULTS["num_it"]
    for name, model in models.items():  # every model's work, before any runs
        check_work(model.member, len(X), X.shape[1], "gd", name=name, epochs=num_it, restarts=1, dtype="float64")
    results: dict[str, "LRFind"] = {}
    same: dict[str, str] = {}
    first: dict[Any, str] = {}  # by training signature: one program is tested once
    for name, model in models.items():
        signature = training_signature(model.member, X.shape[1])
        if signature in first:
            same[name] = first[signature]
            results[name] = results[first[signature]]
            continue
        first[signature] = name
        try:
            results[name] = lr_find(model.member, X, y, seed=args.seed, **settings)
        except TitanicNNError as exc:
            raise type(exc)(f"{name}: {one_line(exc)}") from exc
    found = next(iter(results.values()))
    note(args, f"learning-rate finder: {found.settings['optimizer']}, {found.settings['num_it']} full-batch steps from "
               f"lr {found.settings['start_lr']:g} toward {found.settings['end_lr']:g}, each model from the first random "
               f"start of --seed {args.seed}, on the {len(X)} training rows")
    return results, same


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


def refit(args: argparse.Namespace, job: Job, fits: list["FittedModel"], chosen: "FittedModel") -> "FittedModel":
    """The chosen model trained again, on every kept row, in the chosen one's place; the selection it won is kept."""
    note(args, f"refitting {chosen.name} ({args.method}) on all rows ...")
    data = chosen.features.fit_transform(job.train, unlabelled=unlabelled(job))  # the statistics it was trained with
    refit = train_one(args, chosen.name, chosen.model, chosen.features, data, 0.0, trainer_options(args))
    refit.training["refit_of"] = {
        key: chosen.training.get(key)
        for key in ("train_loss", "valid_loss", *(f"valid_{m}" for m in chosen.features.target_.metrics), "split")
    }
    fits[fits.index(chosen)] = refit
    return refit
