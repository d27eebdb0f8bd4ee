"""The `titanic-nn` command line: argument parsing here, the commands' work in their own module."""

from __future__ import annotations

from ._messages import results_table
from ._parser import build_parser, main
from ._plots import plot_lr_find, plotting_available

__all__ = ["main", "build_parser", "results_table", "plotting_available", "plot_lr_find"]
