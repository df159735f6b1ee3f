"""The platform's exception hierarchy: every failure it raises on purpose is a `DwError`.

One module, as aws-sdk-pandas keeps its `exceptions`: the categories below, and the errors shared by
several packages. An error that belongs to one module's concept may be defined there (its import path
stays), but always below one of these classes. The CLI turns a `UserInputError` or a
`PreconditionError` into one line and exit status 2 (refused: fix the input or the state and run
again), any other `DwError` into one line and exit status 1 (the work failed). Anything that is not a
`DwError` is a bug: `dw` says so in one line and writes the traceback to a file. The Dagster layer
raises them as they are, so the UI shows the same message.
"""


class DwError(Exception):
    """A failure the platform explains: its message says what happened and what to do."""


class UserInputError(DwError, ValueError):
    """Bad input: a name, an hour, a query or a declaration the platform refuses."""


class PreconditionError(DwError):
    """An operation asked of something that cannot do it (a table of the wrong kind, say)."""


class UnknownTableError(UserInputError, LookupError):
    """A table name the warehouse does not declare."""
