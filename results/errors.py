"""Errors that end a command with one line on stderr and exit code 2 (the user's input is at fault)."""


class UserError(Exception):
    """Bad input from the user: a missing file, an unknown format, a bad profile, conflicting flags."""


class ResultsError(ValueError):
    """A results file that cannot be read; the message is one line for the user."""
