"""The platform's exception hierarchy: every failure it raises on purpose is a `DwError`.

The CLI turns a `UserInputError` into one line and exit status 2 (the command was wrong: fix it and
run again), any other `DwError` into one line and exit status 1 (the work failed); the Dagster layer
raises them as they are, so the UI shows the same message.
"""


class DwError(Exception):
    """A failure the platform explains: its message says what happened and what to do."""


class UserInputError(DwError, ValueError):
    """Bad input: a name, an hour, a query or a declaration the platform refuses."""


class PreconditionError(DwError):
    """An operation asked of something that cannot do it (a table of the wrong kind, say)."""
