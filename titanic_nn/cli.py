"""The `titanic-nn` command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from .summary import summary

    print(summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
