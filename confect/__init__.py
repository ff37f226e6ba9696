"""confect: Convex's programming model for Python, written with `effects`.

Define a schema and functions (queries, mutations, actions) whose handlers are effects;
each call gets the services of its function type through a per-call layer.
"""

from confect.app import App, Refs, load_app, refs
from confect.backend import Backend
from confect.crons import Crons
from confect.ctx import ActionCtx, MutationCtx, QueryCtx
from confect.documents import Doc
from confect.errors import (
    ArgumentValidationError,
    ConvexError,
    CorruptDocumentError,
    DocumentDecodeError,
    GetByIdFailure,
    GetByIndexFailure,
    InvalidCursorError,
    InvalidValueError,
    NotUniqueError,
    NoUserIdentityFoundError,
    SchemaError,
    ServiceNotAvailable,
    TransactionLimitError,
    ValidationError,
    ValueLimitError,
)
from confect.functions import (
    FunctionDefinition,
    action,
    http_action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from confect.ids import Id
from confect.schema import define_schema, define_table
from confect.services.auth import Auth, UserIdentity
from confect.services.database import DatabaseReader, DatabaseWriter, PaginationResult
from confect.services.runners import ActionRunner, MutationRunner, QueryRunner
from confect.services.scheduler import Scheduler
from confect.services.storage import StorageActionWriter, StorageReader, StorageWriter
from confect.services.vector_search import ScoredId, VectorSearch
from confect.validators import v

__all__ = [
    "ActionCtx",
    "ActionRunner",
    "App",
    "ArgumentValidationError",
    "Auth",
    "Backend",
    "ConvexError",
    "CorruptDocumentError",
    "Crons",
    "DatabaseReader",
    "DatabaseWriter",
    "Doc",
    "DocumentDecodeError",
    "FunctionDefinition",
    "GetByIdFailure",
    "GetByIndexFailure",
    "Id",
    "InvalidCursorError",
    "InvalidValueError",
    "MutationCtx",
    "MutationRunner",
    "NoUserIdentityFoundError",
    "NotUniqueError",
    "PaginationResult",
    "QueryCtx",
    "QueryRunner",
    "Refs",
    "Scheduler",
    "SchemaError",
    "ScoredId",
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
    "internal_query",
    "load_app",
    "mutation",
    "query",
    "refs",
    "v",
]
