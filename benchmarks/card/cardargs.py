"""`bench card`'s input options (--input-shape and --data, parsed as `bench run` parses them), and the guard that
turns a failure of the card's own work into one line."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def add_shape_args(parser: argparse.ArgumentParser) -> None:
    from edgebench.benchmarks.variants.shapes import parse_shape_arg

    def shape(text: str) -> tuple[str, list[int]]:
        try:
            return parse_shape_arg(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser.add_argument("--input-shape", type=shape, action="append", metavar="NAME=D0,D1,...",
                        help="the shape load tests and the golden vector feed this input, e.g. x=1,3,48,320 "
                        "(repeat per input; default: from the model's hints, stated in the card)")
    parser.add_argument("--data", metavar="FILE.npz", help="real inputs (one array per input, as for bench run): "
                        "load tests run on their first sample")


def guarded(what: str, work: Callable[[], T]) -> T:
    """work(), with anything but a user error (which is one line already) turned into one line (exit 2): a card
    that cannot be made says why, never with a traceback."""
    from edgebench.results.errors import UserError, one_line

    try:
        return work()
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise UserError(f"no card for {what}: {type(exc).__name__}: {one_line(exc, 300)}") from None


