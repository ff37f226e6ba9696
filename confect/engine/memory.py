"""The in-memory engine: dicts and sorted key lists, for tests and `ConfectTest`."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from confect.engine._single_process import SingleProcessEngine
from confect.engine.catalog import IndexCatalog, number_new_tables
from confect.engine.interface import BLOB_CHUNK_BYTES, BlobWriter, Commit, Document, Write
from confect.model.schema import Schema


class _Index:
    """One index: its keys sorted, and the document id under each key."""

    __slots__ = ("ids", "keys")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.ids: dict[bytes, str] = {}

    def add(self, key: bytes, id_: str) -> None:
        bisect.insort(self.keys, key)
        self.ids[key] = id_

    def remove(self, key: bytes) -> None:
        del self.keys[bisect.bisect_left(self.keys, key)]
        del self.ids[key]


class _TermIndex:
    """One search index: the ids of the documents holding each word, and the words sorted
    (for prefix matches)."""

    __slots__ = ("ids", "words")

    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = {}
        self.words: list[str] = []

    def add(self, word: str, id_: str) -> None:
        holders = self.ids.get(word)
        if holders is None:
            holders = self.ids[word] = set()
            bisect.insort(self.words, word)
        holders.add(id_)

    def remove(self, word: str, id_: str) -> None:
        holders = self.ids[word]
        holders.discard(id_)
        if not holders:
            del self.ids[word]
            del self.words[bisect.bisect_left(self.words, word)]

    def candidates(self, terms: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for term in terms[:-1]:
            found |= self.ids.get(term, set())
        if terms:
            prefix = terms[-1]
            for word in self.words[bisect.bisect_left(self.words, prefix) :]:
                if not word.startswith(prefix):
                    break
                found |= self.ids[word]
        return found


class MemoryEngine(SingleProcessEngine):
    """Everything in process memory; gone when the object is."""

    def __init__(self) -> None:
        super().__init__()
        self._documents: dict[str, dict[str, Document]] = {}
        self._indexes: dict[tuple[str, str], _Index] = {}
        self._term_indexes: dict[tuple[str, str], _TermIndex] = {}
        self._numbers: dict[str, int] = {}
        self._blobs: dict[str, bytes] = {}

    def configure(self, schema: Schema) -> dict[str, int]:
        self.catalog = IndexCatalog(schema)
        self._numbers = number_new_tables(self._numbers, self.catalog.fields)
        for table, indexes in self.catalog.fields.items():
            documents = self._documents.setdefault(table, {})
            for name in indexes:
                if (table, name) not in self._indexes:
                    index = self._indexes[(table, name)] = _Index()
                    for document in documents.values():
                        index.add(self.catalog.keys(table, document)[name], str(document["_id"]))
            for name in self.catalog.search[table]:
                if (table, name) not in self._term_indexes:
                    terms = self._term_indexes[(table, name)] = _TermIndex()
                    for document in documents.values():
                        for word in self.catalog.terms(table, document)[name]:
                            terms.add(word, str(document["_id"]))
        return dict(self._numbers)

    def close(self) -> None:
        """Nothing to release: the data goes with the object."""

    def set_table_numbers(self, numbers: dict[str, int]) -> None:
        self._numbers.update(numbers)

    def get(self, table: str, id_: str) -> Document | None:
        return self._documents.get(table, {}).get(id_)

    def scan(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool
    ) -> Iterator[tuple[bytes, Document]]:
        found = self._indexes[(table, index)]
        keys = found.keys[bisect.bisect_left(found.keys, lo) : bisect.bisect_left(found.keys, hi)]
        if descending:
            keys.reverse()
        documents = self._documents[table]
        for key in keys:
            id_ = found.ids.get(key)
            document = documents.get(id_) if id_ is not None else None
            if document is not None:
                yield key, document

    def search_candidates(self, table: str, index: str, terms: Sequence[str]) -> set[str]:
        return self._term_indexes[(table, index)].candidates(terms)

    def _store(self, commits: list[Commit], last_creation: float) -> None:
        for commit in commits:
            for write in commit.writes:
                self._apply(write)

    def _apply(self, write: Write) -> None:
        documents = self._documents[write.table]
        if write.old is not None:
            for name, key in self.catalog.keys(write.table, write.old).items():
                self._indexes[(write.table, name)].remove(key)
            for name, found in self.catalog.terms(write.table, write.old).items():
                for word in found:
                    self._term_indexes[(write.table, name)].remove(word, write.id)
            del documents[write.id]
        if write.new is not None:
            for name, key in self.catalog.keys(write.table, write.new).items():
                self._indexes[(write.table, name)].add(key, write.id)
            for name, found in self.catalog.terms(write.table, write.new).items():
                for word in found:
                    self._term_indexes[(write.table, name)].add(word, write.id)
            documents[write.id] = write.new

    def new_blob(self) -> BlobWriter:
        return _MemoryBlob(self._blobs)

    def read_blob(self, sha256: str) -> Iterator[bytes] | None:
        data = self._blobs.get(sha256)
        if data is None:
            return None
        return (data[at : at + BLOB_CHUNK_BYTES] for at in range(0, len(data), BLOB_CHUNK_BYTES))

    def delete_blob(self, sha256: str) -> None:
        self._blobs.pop(sha256, None)


class _MemoryBlob(BlobWriter):
    """A blob built as a list of pieces, joined when it is kept."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        super().__init__()
        self._blobs = blobs
        self._pieces: list[bytes] = []

    def _store(self, piece: bytes | bytearray | memoryview) -> None:
        self._pieces.append(bytes(piece))

    def _keep(self) -> str:
        sha256 = self.sha256
        self._blobs.setdefault(sha256, b"".join(self._pieces))
        self._pieces = []
        return sha256

    def _discard(self) -> None:
        self._pieces = []
