"""The deployment a command works on: a remote one (`--url`, `--admin-key`), the server that
holds the app's data (it records its URL in the data directory while it listens), or the
data itself, opened directly when no server holds it.

`open_deployment` decides; a command then works on the `Deployment` it yields, or through
the `RemoteDeployment`'s admin HTTP API (confect/server/admin.py, and `POST /api/function`
for calls, as `npx convex run` does).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Generator, Mapping
from http.client import HTTPResponse
from pathlib import Path
from typing import IO, Annotated, Any, cast

import attrs
import typer

from confect.cli._common import open_app, open_engine, reported
from confect.engine.interface import Engine
from confect.engine.sql.sqlite import EngineLockedError, SqliteEngine
from confect.runtime.deployment import Deployment
from effects import TaggedError

SERVER_RECORD = "server.json"
"""The file, in a deployment's data directory, where its server records where it listens."""
ADMIN_KEY = "admin_key"
"""The file, in a deployment's data directory, that holds its admin key."""
CALL_FAILED = 560  # a call that ran and failed (its error in the body)
REQUEST_SECONDS = 60.0  # the most one read or write of a request may wait (not for snapshots)

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="CONFECT_URL",
        help="Work on the deployment served at this URL (give its --admin-key too) instead "
        "of the app's own.",
        show_default=False,
    ),
]
AdminKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--admin-key",
        envvar="CONFECT_ADMIN_KEY",
        help="The admin key of the deployment at --url (its data directory's admin_key).",
        show_default=False,
    ),
]


class RemoteError(TaggedError):
    """A deployment reached over HTTP could not be reached, or refused a request."""

    message: str

    def __str__(self) -> str:
        return self.message


class RefusedError(RemoteError):
    """The deployment refused a request: `status` and `code` as it answered them."""

    status: int
    code: str


@attrs.frozen
class ServerRecord:
    """Where a server of the deployment whose data directory holds this record listens
    (written once it listens, removed as it shuts down), and its process."""

    url: str
    pid: int

    @staticmethod
    def read(data: Path) -> ServerRecord | None:
        """The record in the data directory `data`, if there is a readable one."""
        try:
            fields = json.loads((data / SERVER_RECORD).read_text())
            return ServerRecord(url=str(fields["url"]), pid=int(fields["pid"]))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def write(self, data: Path) -> None:
        """Record this server in `data` (replacing a record at once, never half written)."""
        partial = data / f".{SERVER_RECORD}.{self.pid}"
        partial.write_text(json.dumps(attrs.asdict(self)))
        partial.replace(data / SERVER_RECORD)

    @staticmethod
    def remove(data: Path, pid: int | None = None) -> None:
        """Remove the record in `data` (only if it is process `pid`'s, when given)."""
        record = ServerRecord.read(data)
        if record is not None and (pid is None or record.pid == pid):
            (data / SERVER_RECORD).unlink(missing_ok=True)


def _on_this_machine(url: str) -> bool:
    """Whether `url` is http on a loopback address, as `listening_url` makes it for a
    server listening on every interface or on loopback (the record could be anyone's)."""
    parsed = urllib.parse.urlsplit(url)
    try:
        return parsed.scheme == "http" and ipaddress.ip_address(parsed.hostname or "").is_loopback
    except ValueError:
        return False


def listening_url(address: tuple[Any, ...]) -> str:
    """The URL that reaches, from this machine, a server listening on socket `address`."""
    host, port = str(address[0]), int(address[1])
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@attrs.frozen
class RemoteDeployment:
    """A deployment served at `url`, worked on with its admin key."""

    url: str
    admin_key: str

    @contextlib.contextmanager
    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: bytes | IO[bytes] | None = None,
        size: int | None = None,
        timeout: float | None = REQUEST_SECONDS,
        answers: frozenset[int] = frozenset(),
    ) -> Generator[HTTPResponse]:
        """The response to `method path` (`body` of `size` bytes if a file; JSON if bytes);
        `RefusedError` for an error status (but those in `answers`), `RemoteError` if the
        deployment cannot be reached. `timeout`: the most one read or write waits."""
        url = self.url.rstrip("/") + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Authorization": f"Convex {self.admin_key}"}
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
        elif body is not None:
            headers["Content-Type"] = "application/octet-stream"
            headers["Content-Length"] = str(size)
        request = urllib.request.Request(url, body, headers, method=method)
        try:
            response = cast(HTTPResponse, urllib.request.urlopen(request, timeout=timeout))
        except urllib.error.HTTPError as error:
            if error.code not in answers:
                raise self._refused(error) from None
            response = cast(HTTPResponse, error)
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RemoteError(
                message=f"cannot reach the deployment at {self.url}: {reason}"
            ) from None
        with response:
            yield response

    def json(self, method: str, path: str, body: Any = None, **options: Any) -> Any:
        """The JSON answer to `method path` with the JSON `body` (if any)."""
        encoded = None if body is None else json.dumps(body).encode()
        with self.request(method, path, body=encoded, **options) as response:
            return json.loads(response.read())

    def _refused(self, error: urllib.error.HTTPError) -> RefusedError:
        try:
            answer = json.loads(error.read())
            code, message = str(answer["code"]), str(answer["message"])
        except (ValueError, TypeError, KeyError):
            code, message = "", error.reason
        where = f"the deployment at {self.url}"
        if error.code == 401:
            message = f"{where} refused the admin key ({message})"
        else:
            message = f"{where} answered {error.code}: {message}"
        return RefusedError(message=message, status=error.code, code=code)


Target = Deployment | RemoteDeployment
"""What a command works on: the deployment's data opened here, or a running deployment."""


@contextlib.contextmanager
def open_deployment(
    app: Path, engine_url: str | None, url: str | None, admin_key: str | None
) -> Generator[Target]:
    """The deployment a command works on: the one at `url` (with `admin_key`) if given;
    else the app's: its data opened directly when no process holds it (a record left by a
    server that was killed is removed), or the server that holds it, at the URL it recorded,
    with the admin key in the data directory. Errors are reported as one line."""
    if url is not None:
        if engine_url is not None:
            raise typer.BadParameter("--url and --engine name two deployments: give one")
        if not admin_key:
            raise typer.BadParameter("--url needs the deployment's --admin-key")
        with reported():
            yield RemoteDeployment(url, admin_key)
        return
    loaded, data = open_app(app)
    with reported():
        opened = _engine_or_server(engine_url, data)
    if isinstance(opened, RemoteDeployment):
        with reported():
            yield opened
        return
    # the data is ours, so no server holds it: a record of one is stale
    ServerRecord.remove(opened.directory if isinstance(opened, SqliteEngine) else data)
    with reported():
        try:
            backend = Deployment.open(loaded, opened)
            yield backend
            backend.close()
        finally:
            opened.close()


def _engine_or_server(engine_url: str | None, data: Path) -> Engine | RemoteDeployment:
    """The engine `engine_url` names, opened here; or, if a process holds it, the server
    that does."""
    try:
        return open_engine(engine_url, data)
    except EngineLockedError as locked:
        return _served(locked)


def _served(locked: EngineLockedError) -> RemoteDeployment:
    """The server that holds the data directory `locked` names, as it recorded itself."""
    data = locked.directory
    record = ServerRecord.read(data)
    if record is None:
        raise RemoteError(
            message=f"{data} is in use by another process, which is not a confect server "
            f"(none recorded its URL in {data / SERVER_RECORD}): another confect command?"
        )
    if not _on_this_machine(record.url):
        raise RemoteError(
            message=f"{data / SERVER_RECORD} says the server holding {data} is at {record.url}, "
            "which is not on this machine: the admin key is not sent there (give --url and "
            "--admin-key to work on a deployment elsewhere)"
        )
    try:
        key = (data / ADMIN_KEY).read_text().strip()
    except OSError as error:
        raise RemoteError(
            message=f"the server at {record.url} holds {data}, but its admin key cannot "
            f"be read: {error}"
        ) from None
    return RemoteDeployment(record.url, key)
