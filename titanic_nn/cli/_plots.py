"""The pictures, drawn with matplotlib when it is installed: loss.png (loss per epoch of gradient descent) and lr_find.png."""

from __future__ import annotations

import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

if TYPE_CHECKING:
    from ..training import LRFind

__all__ = ["plotting_available", "plot_losses", "loss_figure", "plot_lr_find", "lr_find_figure"]


def plotting_available() -> bool:
    """True when matplotlib can be imported (it is optional: titanic-nn does not depend on it)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def plot_losses(
    histories: Mapping[str, Mapping[str, Sequence[float]]], path: str | Path, *, config_dir: str | Path | None = None
) -> bool:
    """Draw each model's train (solid) and valid (dashed) loss per epoch into a PNG at `path`.

    `histories` maps a model name to {"train": [...], "valid": [...]}. Returns False, writing
    nothing, when matplotlib is missing or there is no history to draw. `config_dir`: where matplotlib,
    imported here for the first time, keeps its font cache and config (a run's private folder, so nothing
    is written under $HOME), unless MPLCONFIGDIR names a place already.
    """
    curves = {name: h for name, h in histories.items() if h and len(h.get("train") or ()) > 0}
    if not curves or not plotting_available():
        return False
    _save(loss_figure, curves, path, config_dir)
    return True


def plot_lr_find(results: Mapping[str, "LRFind"], path: str | Path, *, config_dir: str | Path | None = None) -> bool:
    """Draw each learning-rate finder's smoothed loss against the rate (log x axis), its suggestion marked, into a PNG
    at `path`; `results` maps a label (a model's name, or "") to an `LRFind`. False, writing nothing, when matplotlib
    is missing. `config_dir` as for `plot_losses`."""
    if not results or not plotting_available():
        return False
    _save(lr_find_figure, results, path, config_dir)
    return True


def _save(draw, curves, path: str | Path, config_dir: str | Path | None) -> None:
    """`draw(curves)`'s figure saved as a PNG at `path`, matplotlib first imported under `config_dir`."""
    with _matplotlib_home(config_dir):
        import matplotlib.pyplot as plt

    figure = draw(curves)
    try:
        # format= because the caller may hand a temporary path whose suffix is not .png
        figure.savefig(str(path), format="png")
    finally:
        plt.close(figure)


@contextmanager
def _matplotlib_home(config_dir: str | Path | None) -> Iterator[None]:
    """MPLCONFIGDIR set to `config_dir` while matplotlib is first imported (it fixes its folders then)."""
    if config_dir is None or "matplotlib" in sys.modules or "MPLCONFIGDIR" in os.environ:
        yield
        return
    Path(config_dir).mkdir(mode=0o700, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(config_dir)
    try:
        import matplotlib  # noqa: F401  (its folders are read as it is imported)
        import matplotlib.font_manager  # noqa: F401

        yield
    finally:
        os.environ.pop("MPLCONFIGDIR", None)


def loss_figure(curves: Mapping[str, Mapping[str, Sequence[float]]]):
    """The figure of loss.png: one colour per model, train solid and valid dashed.

    Models whose curves are identical (the lesson's nnet and mmult are one net, trained from the same
    starts) would hide each other, so each copy of a curve is drawn thinner than the one before it, on
    top: the earlier one shows as a band around the later one, and the legend says which coincide.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display is needed, or wanted, to write a file
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    series = [
        (index, name, split, style, tuple(float(v) for v in curves[name].get(split) or ()))
        for index, name in enumerate(curves)
        for split, style in (("train", "-"), ("valid", "--"))
    ]
    copies = Counter(values for *_, values in series if values)
    drawn: dict[tuple[float, ...], list[str]] = {}  # a curve -> the models that drew it so far
    for index, name, split, style, values in series:
        if not values:
            continue
        before = drawn.setdefault(values, [])
        # of k identical curves, the first is widest and the last the usual 1.5: each shows around the next
        width = 1.5 + 2.5 * (copies[values] - 1 - len(before))
        label = f"{name} {split}" + (f" (same as {before[0]})" if before else "")
        axes.plot(range(1, len(values) + 1), values, color=f"C{index}", linestyle=style, linewidth=width, label=label)
        before.append(name)
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title("Loss per epoch (gradient descent)")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    return figure


def lr_find_figure(results: Mapping[str, "LRFind"]):
    """The figure of lr_find.png: one panel per finder (models' losses differ in scale), the smoothed loss against the
    rate on a log axis shared by the panels, a dot and a dotted line at the suggested rate. Each panel's y axis stops
    a little above its curve's start: past it the loss runs away within a step or two and would flatten the valley the
    suggestion is read from."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {label: found for label, found in results.items() if any(math.isfinite(v) for v in found.losses)}
    panels = max(1, len(shown))
    figure, axes = plt.subplots(panels, 1, figsize=(7, 1.2 + 2.6 * panels), dpi=100, sharex=True, squeeze=False)
    for index, (ax, (label, found)) in enumerate(zip(axes[:, 0], shown.items())):
        points = [(r, v) for r, v in zip(found.rates, found.losses) if math.isfinite(v)]
        colour = f"C{index}"
        ax.plot([r for r, _ in points], [v for _, v in points], color=colour, linewidth=1.5, label="smoothed loss")
        if found.suggestion is not None:
            ax.axvline(found.suggestion, color=colour, linestyle=":", linewidth=1)
            ax.plot([found.suggestion], [found.suggested_loss], "o", color=colour, markersize=7,
                    label=f"suggested lr {found.suggestion:.3g} (valley)")
        low, high = min(v for _, v in points), points[0][1]
        ax.set_ylim(low - 0.05 * (high - low), high + 0.6 * (high - low) if high > low else high + abs(high) * 0.1 + 1e-12)
        ax.set_xscale("log")
        ax.set_ylabel("loss (smoothed)")
        ax.set_title(f"Learning-rate finder: {label}" if label else "Learning-rate finder")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left")
    axes[-1, 0].set_xlabel("learning rate (log scale)")
    figure.tight_layout()
    return figure
