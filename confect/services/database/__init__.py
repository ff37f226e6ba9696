"""DatabaseReader and DatabaseWriter: the services queries and mutations read and write with.

The parts live in private modules (`_query`: a read and its pagination, `_reader`,
`_writer`); import them from here.
"""

from confect.model.pagination import PaginationOptions, PaginationResult
from confect.services.database._query import Query
from confect.services.database._reader import DatabaseReader, DatabaseReaderService, TableReader
from confect.services.database._writer import DatabaseWriter, DatabaseWriterService, TableWriter

__all__ = [
    "DatabaseReader",
    "DatabaseReaderService",
    "DatabaseWriter",
    "DatabaseWriterService",
    "PaginationOptions",
    "PaginationResult",
    "Query",
    "TableReader",
    "TableWriter",
]
