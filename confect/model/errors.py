"""The errors confect functions and their callers can meet."""

from __future__ import annotations

import enum
from typing import Any

from effects import TaggedError


class ConvexError(TaggedError):
    """An application error whose `data` reaches the client as `errorData`."""

    data: Any
    message: str = ""


class ValidationError(TaggedError):
    """A value did not match its validator; `path` says where (`args.tags[3]`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ArgumentValidationError(ValidationError):
    """A call's arguments did not match the function's `args`: the caller's mistake."""


class InvalidValueError(TaggedError):
    """A value Convex does not accept: a reserved or invalid field name, a malformed wire
    encoding, or (`ValueLimitError`) a value over a limit; `path` says where (`args.a[2]`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path} {self.message}"


class ValueLimitError(InvalidValueError):
    """A value is over one of Convex's size limits."""


class SchemaError(TaggedError):
    """A schema definition is invalid (names, index fields, limits)."""

    message: str

    def __str__(self) -> str:
        return self.message


class GetByIdFailure(TaggedError):
    """No document with this id in this table."""

    id: str
    table: str


class GetByIndexFailure(TaggedError):
    """No document (or more than one) matched a unique lookup by index."""

    table: str
    index: str
    values: tuple[Any, ...]
    message: str = "no document matched"


class CorruptDocumentError(TaggedError):
    """A stored document cannot be decoded (damaged, or written by something other than
    confect): a read that reaches it fails with this; the other documents are served."""

    table: str
    id: str
    message: str

    def __str__(self) -> str:
        return (
            f"the stored document {self.id} of table {self.table!r} cannot be read: {self.message}"
        )


class DocumentDecodeError(TaggedError):
    """A stored document does not fit its table's document class."""

    table: str
    id: str
    message: str


class NotUniqueError(TaggedError):
    """`unique()` found more than one document."""

    table: str
    index: str


class InvalidCursorError(TaggedError):
    """A pagination cursor was not made by this query."""

    cursor: str


class NoUserIdentityFoundError(TaggedError):
    """The call is anonymous, but the function asked for the user's identity."""


class TransactionLimitError(TaggedError):
    """A transaction read or wrote more than Convex allows."""

    message: str

    def __str__(self) -> str:
        return self.message


class TimestampTooOldError(TaggedError):
    """A read at a timestamp further back than the engine still knows the commits since."""

    ts: int

    def __str__(self) -> str:
        return f"cannot read at {self.ts}: the commits since then are no longer known"


class FunctionNotFoundError(TaggedError):
    """No function at this path (or it is internal and the caller is not an admin)."""

    path: str


class ServiceNotAvailable(Exception):
    """A defect: a handler used a service its function type does not have."""


class WriteConflict(TaggedError):
    """An optimistic-concurrency conflict: the transaction must be retried."""

    message: str = "a concurrent commit changed what this transaction read"


class FunctionTimeout(TaggedError):
    """A call's user code ran past its time limit (`seconds`); it was stopped and
    nothing it wrote was committed."""

    seconds: float

    def __str__(self) -> str:
        # Convex's words, with its Rust Duration spelling of the limit ("1s", "600s")
        return f"Function execution timed out (maximum duration: {self.seconds:g}s)"


class MultiplePaginatedQueriesError(TaggedError):
    """A function called `paginate` twice: Convex allows one paginated query per function
    (the one whose end a reactive query's journal pins)."""

    def __str__(self) -> str:
        return (
            "This query or mutation function ran multiple paginated queries. Convex only "
            "supports a single paginated query in each function."
        )


class EnvVarProblem(enum.StrEnum):
    """Why a change to a deployment's environment variables is refused: Convex's code for
    the rule it breaks."""

    NAME_INVALID = "EnvironmentVariableNameInvalid"
    NAME_TOO_LONG = "EnvironmentVariableNameTooLong"
    NAME_FORBIDDEN = "EnvVarNameForbidden"
    VALUE_TOO_LARGE = "EnvironmentVariableValueTooLarge"
    LIMIT_MET = "EnvVarLimitMet"
    TOTAL_SIZE_LIMIT_MET = "EnvVarTotalSizeLimitMet"


class EnvironmentVariableError(TaggedError):
    """A change to the deployment's environment variables that breaks one of Convex's
    rules (`problem`), naming the variable and the rule; nothing of the change was made."""

    problem: EnvVarProblem
    name: str
    message: str

    def __str__(self) -> str:
        return self.message
