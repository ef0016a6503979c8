"""The one error type that reaches a person.

Anything a user can get wrong (a bad time, an unknown vehicle, a bad config key, a missing
headset, a corrupt cache) raises :class:`AstpError` with one readable sentence that names the
problem and the fix. Front ends print it on one line and exit with ``exit_code``; they never show
a traceback for it.
"""

from __future__ import annotations


class AstpError(Exception):
    """A problem the user can fix. ``str(err)`` is the whole message."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


class DataFileError(AstpError):
    """A shipped data file is missing or malformed (names the file, and the line where known)."""
