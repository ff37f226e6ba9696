"""The dashboard API's bodies, as types: what the page posts to `/_dashboard/api/<name>`
and what the server answers, and the events of its live channel.

Values of documents and arguments travel as Convex's wire JSON (`{"$integer": ...}` for
an int64), as in the HTTP API. Field names are snake_case on both sides: only the
dashboard's own page reads them. `read` structures a request strictly (no coercion,
unknown fields refused) and raises a `RequestError` naming what is wrong and where.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import attrs
import cattrs

from confect.runtime.call_log import CallRecord
from confect.server.calls import ErrorCode, RequestError

T = TypeVar("T")

Order = Literal["asc", "desc"]
MAX_PAGE = 500

# --- tables and documents -------------------------------------------------------------------


@attrs.frozen
class IndexInfo:
    """An index of a table: its name and the fields it orders by (before `_creationTime`)."""

    name: str
    fields: list[str]


@attrs.frozen
class SearchIndexInfo:
    name: str
    search_field: str
    filter_fields: list[str]


@attrs.frozen
class TableInfo:
    """A table: its document type (as TypeScript spells it), its indexes; `system` for the
    tables the server keeps (read-only here)."""

    name: str
    system: bool
    document: str
    indexes: list[IndexInfo]
    search_indexes: list[SearchIndexInfo]


@attrs.frozen
class TablesResponse:
    tables: list[TableInfo]


@attrs.frozen
class Bound:
    """One end of an index range on the field after the equalities: `gt`/`gte` below,
    `lt`/`lte` above."""

    op: Literal["gt", "gte", "lt", "lte"]
    value: Any


@attrs.frozen
class FieldFilter:
    """Only documents whose field at `path` (dotted) equals `value`."""

    path: str
    value: Any


@attrs.frozen
class DocumentsRequest:
    """A page of a table's documents through `index` (the creation time by default),
    newest first by default: `eq` gives values for the index's leading fields in order,
    `lower`/`upper` bound the next one; `field` filters what the range holds. `cursor`
    continues where the previous page ended."""

    table: str
    index: str = "by_creation_time"
    order: Order = "desc"
    eq: list[Any] = attrs.field(factory=list[Any])
    lower: Bound | None = None
    upper: Bound | None = None
    field: FieldFilter | None = None
    cursor: str | None = None
    limit: int = 50


@attrs.frozen
class DocumentsPage:
    """The documents found, the cursor of the next page (None: the range is read to its
    end) and how many documents were read to find them (a filter reads more than it
    finds, up to a bound per page)."""

    documents: list[Any]
    cursor: str | None
    scanned: int


@attrs.frozen
class InsertRequest:
    table: str
    document: dict[str, Any]


@attrs.frozen
class Inserted:
    id: str


@attrs.frozen
class ReplaceRequest:
    """Replace the user fields of document `id` of `table` (`_id` and `_creationTime` may
    be given, unchanged)."""

    table: str
    id: str
    document: dict[str, Any]


@attrs.frozen
class DeleteRequest:
    table: str
    ids: list[str]


@attrs.frozen
class Done:
    """A write that has no other answer: how many documents it changed."""

    count: int


# --- functions ------------------------------------------------------------------------------


@attrs.frozen
class FunctionInfo:
    """A function of the app: its validators as TypeScript types (None: not declared)."""

    path: str
    kind: str
    visibility: str
    args: str | None
    returns: str | None


@attrs.frozen
class FunctionsResponse:
    functions: list[FunctionInfo]


@attrs.frozen
class Identity:
    """Whom a run acts as: a user with these claims (`issuer` defaults to the dashboard)."""

    subject: str
    issuer: str = "confect-dashboard"
    name: str | None = None
    email: str | None = None


@attrs.frozen
class RunRequest:
    """Run the function at `path` with `args` (wire JSON), as `identity` if given; with
    the admin key either way, so internal functions run too."""

    path: str
    args: dict[str, Any] = attrs.field(factory=dict[str, Any])
    identity: Identity | None = None


@attrs.frozen
class LogLineInfo:
    level: str
    text: str
    timestamp: float


@attrs.frozen
class RunResult:
    """A run's outcome: its value (wire JSON) or its error, and its log lines."""

    success: bool
    value: Any
    error: str
    log_lines: list[LogLineInfo]


# --- the calls' record -----------------------------------------------------------------------


@attrs.frozen
class CallInfo:
    """A call that ran (see `CallRecord`): `started` in seconds since the epoch."""

    started: float
    kind: str
    path: str
    origin: str
    duration_ms: float
    success: bool
    cached: bool
    error: str
    where: str
    log_lines: list[LogLineInfo]

    @staticmethod
    def of(record: CallRecord) -> CallInfo:
        lines = [LogLineInfo(line.level, line.text, line.timestamp) for line in record.log_lines]
        return CallInfo(
            record.started,
            record.kind,
            record.path,
            record.origin,
            record.duration_ms,
            record.success,
            record.cached,
            record.error,
            record.where,
            lines,
        )


@attrs.frozen
class CallEvent:
    """Live channel: a call ran."""

    call: CallInfo
    type: Literal["call"] = "call"


@attrs.frozen
class CommitEvent:
    """Live channel: a commit wrote to `tables`."""

    tables: list[str]
    type: Literal["commit"] = "commit"


@attrs.frozen
class ReadyEvent:
    """Live channel: signed in; the recent calls came before this, the live ones follow."""

    type: Literal["ready"] = "ready"


@attrs.frozen
class SignIn:
    """Live channel: the first message the page sends."""

    admin_key: str


# --- schedules and crons ---------------------------------------------------------------------


@attrs.frozen
class JobsRequest:
    """A page of scheduled functions, newest first; only those in `state` if given
    (`pending`, `inProgress`, `success`, `failed`, `canceled`)."""

    state: str | None = None
    cursor: str | None = None
    limit: int = 50


@attrs.frozen
class JobInfo:
    id: str
    name: str
    args: Any
    scheduled_time: float
    completed_time: float | None
    state: str
    error: str | None


@attrs.frozen
class JobsPage:
    jobs: list[JobInfo]
    cursor: str | None


@attrs.frozen
class CancelRequest:
    id: str


@attrs.frozen
class CronInfo:
    name: str
    schedule: str
    function: str
    args: Any
    next_run: float


@attrs.frozen
class CronsResponse:
    crons: list[CronInfo]


# --- files ----------------------------------------------------------------------------------


@attrs.frozen
class FilesRequest:
    cursor: str | None = None
    limit: int = 50


@attrs.frozen
class FileInfo:
    id: str
    creation_time: float
    size: float
    content_type: str | None
    sha256: str
    url: str


@attrs.frozen
class FilesPage:
    files: list[FileInfo]
    cursor: str | None


@attrs.frozen
class UploadUrl:
    url: str


@attrs.frozen
class DeleteFileRequest:
    id: str


# --- environment variables ------------------------------------------------------------------


@attrs.frozen
class EnvironmentVariable:
    name: str
    value: str


@attrs.frozen
class EnvironmentResponse:
    variables: list[EnvironmentVariable]


@attrs.frozen
class EnvironmentChange:
    """Set `name` to `value`, or unset it (`value` None)."""

    name: str
    value: str | None = None


@attrs.frozen
class EnvironmentChanges:
    changes: list[EnvironmentChange]


# --- the deployment --------------------------------------------------------------------------


@attrs.frozen
class DeploymentInfo:
    """What serves: the engine and where its data is, the app's size."""

    engine: str
    location: str
    url: str
    tables: int
    functions: int
    crons: int


@attrs.frozen
class Empty:
    """A request that takes nothing."""


# --- reading and writing ---------------------------------------------------------------------


def _strict(kind: type[Any]) -> Any:
    def check(value: Any, _: Any) -> Any:
        if kind is float and type(value) is int:
            return float(value)
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return check


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    for kind in (str, int, float, bool):
        converter.register_structure_hook(kind, _strict(kind))
    converter.register_structure_hook(Any, lambda value, _: value)  # pyright: ignore[reportUnknownLambdaType]
    return converter


converter = _converter()


def read(body: dict[str, Any], kind: type[T]) -> T:
    """The request `body` as a `kind`; a `RequestError` saying which field is wrong."""
    try:
        request = converter.structure(body, kind)
    except Exception as error:  # cattrs' validation errors group the field's
        problems = cattrs.transform_error(error, path="request")
        raise RequestError(ErrorCode.BAD_REQUEST, "; ".join(problems)) from None
    limit = getattr(request, "limit", None)
    if isinstance(limit, int) and not 1 <= limit <= MAX_PAGE:
        raise RequestError(ErrorCode.BAD_REQUEST, f"limit must be from 1 to {MAX_PAGE}")
    return request


def write(answer: Any) -> Any:
    """`answer` as the JSON value sent."""
    return converter.unstructure(answer)
