"""Errors that end a command with one line on stderr and exit code 2 (the user's input is at fault), and the one-line
form every error message takes."""
from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: a missing file, an unknown format, a bad profile, conflicting flags."""


class ResultsError(ValueError):
    """A results file that cannot be read; the message is one line for the user."""


def one_line(what: BaseException | str, limit: int | None = 300) -> str:
    """An exception's message (or any text) on one line, runs of whitespace collapsed, cut at `limit` characters
    (None: uncut); an exception with an empty message gives its type name."""
    text = " ".join(str(what).split())
    if not text and isinstance(what, BaseException):
        text = type(what).__name__
    return text if limit is None else text[:limit]
