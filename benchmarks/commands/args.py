"""What every sub-command shares on the command line: exit codes, argument types and the one-line-error parser."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

EXIT_OK, EXIT_FAILED_RECORDS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

Subparsers = Any  # argparse's _SubParsersAction, whose parser class is BenchParser (it is private in typeshed)


class BenchParser(argparse.ArgumentParser):
    commands: Mapping[str, argparse.ArgumentParser] = {}  # the sub-commands' parsers, on the top-level parser

    def error(self, message: str) -> NoReturn:  # one line, exit 2, as for every user error; names this parser's help
        self.exit(EXIT_USAGE, f"bench: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        # argparse reports a sub-command's unknown options from the top-level parser: the sub-command says it, unless
        # they come before the sub-command's name
        argv = list(sys.argv[1:] if args is None else args)
        parsed, extras = self.parse_known_args(argv, namespace)
        if extras:
            command: str = getattr(parsed, "command", None) or ""
            before = extras[0] in argv and command in argv and argv.index(extras[0]) < argv.index(command)
            (self if before else self.commands.get(command, self)).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def int_list(text: str) -> list[int]:
    """`1,4` -> [1, 4]: thread counts and batch sizes."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}")
    return values


def _positive(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):  # also refuses nan and inf, which float() accepts
        raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}")
    return value


def positive(text: str) -> float:
    """A finite number > 0 (a rate, a price)."""
    return _positive(text, "number")


def positive_seconds(text: str) -> float:
    """A finite number of seconds > 0 (a time limit)."""
    return _positive(text, "number of seconds")


def positive_list(text: str) -> list[float]:
    """`100,200` -> [100.0, 200.0]: request rates."""
    try:
        return [positive(v) for v in text.split(",") if v.strip()] or [positive("")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive rates, got {text!r}") from None


def name_list(text: str | None) -> list[str] | None:
    """`--variants a,b` -> ["a", "b"]; not given -> None (the profile's)."""
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


def default_profile() -> str:
    """The built-in profile of this machine's architecture, for commands given no --profile."""
    from edgebench.hardware_profiles import host_arch
    return "arm64" if host_arch() == "arm64" else "x86_64"


def user_error(msg: str) -> Exception:
    """A one-line user error (main prints it and exits 2); the results package is imported only when one happens."""
    from edgebench.results.errors import UserError
    return UserError(msg)
