"""Errors a user can act on. The CLI prints `str(e)` as one line and exits with `exit_code`."""


class FormcheckError(Exception):
    """Base: the message says what is wrong and what to do."""

    exit_code = 2


class InputError(FormcheckError):
    """The clip is missing, unreadable, empty or truncated before any frame."""

    exit_code = 3


class ModelError(FormcheckError):
    exit_code = 4


class NoPersonError(FormcheckError):
    exit_code = 5


class NoRepsError(FormcheckError):
    exit_code = 6


class OutputError(FormcheckError):
    exit_code = 7
