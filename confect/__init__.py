"""confect: Convex's programming model for Python, written with `effects`.

Define a schema and functions (queries, mutations, actions) whose handlers are effects;
each call gets the services of its function type through a per-call layer.

Convex values in Python: an `int` in a number position is a float64, `ConvexInt64` (the
`convex` client's type, exported here) an int64; `MISSING` is a field that is not there
(JavaScript's `undefined`), apart from `None` (`null`). docs/confect.md has the mapping.
"""

from convex import ConvexInt64

from confect.app.auth_config import AuthenticationError, JwtProvider
from confect.app.crons import Crons
from confect.app.functions import (
    ActionDefinition,
    FunctionDefinition,
    HttpActionDefinition,
    MutationDefinition,
    QueryDefinition,
    action,
    http_action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from confect.app.http import HttpRequest, HttpResponse, HttpRouter
from confect.app.paginated import internal_paginated_query, paginated_query
from confect.app.registry import App, Refs, load_app, refs
from confect.model.documents import Doc, Document
from confect.model.errors import (
    ArgumentValidationError,
    ConvexError,
    CorruptDocumentError,
    DocumentDecodeError,
    EnvironmentVariableError,
    EnvVarProblem,
    GetByIdFailure,
    GetByIndexFailure,
    InvalidCursorError,
    InvalidValueError,
    MultiplePaginatedQueriesError,
    NotUniqueError,
    NoUserIdentityFoundError,
    SchemaError,
    ServiceNotAvailable,
    TransactionLimitError,
    ValidationError,
    ValueLimitError,
)
from confect.model.ids import Id
from confect.model.schema import define_schema, define_table
from confect.model.validators import v
from confect.model.values import MISSING, Missing
from confect.runtime.deployment import Backend
from confect.runtime.environment import EnvVarChange
from confect.services.auth import Auth, UserIdentity
from confect.services.ctx import ActionCtx, MutationCtx, QueryCtx
from confect.services.database import (
    DatabaseReader,
    DatabaseWriter,
    PaginationOptions,
    PaginationResult,
)
from confect.services.filters import Expression, FilterBuilder
from confect.services.query_builder import IndexRangeBuilder, SearchFilterBuilder
from confect.services.runners import ActionRunner, MutationRunner, QueryRunner
from confect.services.scheduler import Scheduler
from confect.services.storage import StorageActionWriter, StorageReader, StorageWriter
from confect.services.vector_search import ScoredId, VectorSearch

__all__ = [
    "MISSING",
    "ActionCtx",
    "ActionDefinition",
    "ActionRunner",
    "App",
    "ArgumentValidationError",
    "Auth",
    "AuthenticationError",
    "Backend",
    "ConvexError",
    "ConvexInt64",
    "CorruptDocumentError",
    "Crons",
    "DatabaseReader",
    "DatabaseWriter",
    "Doc",
    "Document",
    "DocumentDecodeError",
    "EnvVarChange",
    "EnvVarProblem",
    "EnvironmentVariableError",
    "Expression",
    "FilterBuilder",
    "FunctionDefinition",
    "GetByIdFailure",
    "GetByIndexFailure",
    "HttpActionDefinition",
    "HttpRequest",
    "HttpResponse",
    "HttpRouter",
    "Id",
    "IndexRangeBuilder",
    "InvalidCursorError",
    "InvalidValueError",
    "JwtProvider",
    "Missing",
    "MultiplePaginatedQueriesError",
    "MutationCtx",
    "MutationDefinition",
    "MutationRunner",
    "NoUserIdentityFoundError",
    "NotUniqueError",
    "PaginationOptions",
    "PaginationResult",
    "QueryCtx",
    "QueryDefinition",
    "QueryRunner",
    "Refs",
    "Scheduler",
    "SchemaError",
    "ScoredId",
    "SearchFilterBuilder",
    "ServiceNotAvailable",
    "StorageActionWriter",
    "StorageReader",
    "StorageWriter",
    "TransactionLimitError",
    "UserIdentity",
    "ValidationError",
    "ValueLimitError",
    "VectorSearch",
    "action",
    "define_schema",
    "define_table",
    "http_action",
    "internal_action",
    "internal_mutation",
    "internal_paginated_query",
    "internal_query",
    "load_app",
    "mutation",
    "paginated_query",
    "query",
    "refs",
    "v",
]
