"""Command-line helpers the benchmark entry points share: sizes and comma-separated choices."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["choose", "parse_sizes"]


def parse_sizes(text: str) -> list[int]:
    """Comma-separated positive sizes, sorted and without repeats (an argparse ``type``).

    >>> parse_sizes("100,20,100")
    [20, 100]
    """
    try:
        sizes = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be integers, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def choose(
    parser: argparse.ArgumentParser, text: str, known: Sequence[str], what: str
) -> list[str]:
    """The names of ``known`` listed in the comma-separated ``text``, in ``known``'s order;
    an unknown name is a usage error (exit 2) naming the choices."""
    chosen = {part.strip() for part in text.split(",")}
    unknown = chosen.difference(known)
    if unknown:
        parser.error(
            f"unknown {what}: {', '.join(sorted(unknown))}; choose from {', '.join(known)}"
        )
    return [name for name in known if name in chosen]
