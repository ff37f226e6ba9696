"""Drives a confect server with the official PyPI `convex` client, in its own process
(the client blocks holding the GIL). Prints one JSON line per step.

    python -m tests.integration.python_client URL SCENARIO [TOKEN or what the scenario takes]
"""

import contextlib
import io
import json
import sys
import urllib.request

from convex import ConvexClient, ConvexError, ConvexInt64
from convex.http_client import ConvexHttpClient


def report(step: str, value: object) -> None:
    print(json.dumps({"step": step, "value": value}), flush=True)


def basics(url: str, token: str) -> None:
    anonymous = ConvexClient(url)
    report("empty", anonymous.query("notes:list_by_author", {"author": "py-user"}))
    try:
        anonymous.mutation("notes:add", {"text": "nope"})
    except Exception as error:
        report("anonymous mutation", str(error))
    user = ConvexClient(url)
    user.set_auth(token)
    for i in range(5):
        user.mutation("notes:add", {"text": f"py note {i}"})
    report("listed", [n["text"] for n in user.query("notes:list_by_author", {"author": "py-user"})])
    first = user.query("notes:page", {"num_items": 2})
    second = user.query("notes:page", {"num_items": 2, "cursor": first["continue_cursor"]})
    third = user.query("notes:page", {"num_items": 2, "cursor": second["continue_cursor"]})
    report("pages", [first["page"], second["page"], third["page"], third["is_done"]])


def paginated(url: str, token: str) -> None:
    """Pages through a `@paginated_query` as Convex's clients do: `paginationOpts` in."""
    user = ConvexClient(url)
    user.set_auth(token)
    for i in range(5):
        user.mutation("notes:add", {"text": f"paged note {i}"})
    pages, cursor, result = [], None, {"isDone": False}
    while not result["isDone"]:
        options = {"numItems": 2, "cursor": cursor}
        result = user.query(
            "notes:by_author_paginated", {"author": "py-pager", "paginationOpts": options}
        )
        pages.append([note["text"] for note in result["page"]])
        cursor = result["continueCursor"]
    report("pages", pages)
    try:
        user.query("notes:by_author_paginated", {"author": "py-pager"})
    except Exception as error:
        report("without paginationOpts", str(error))


def subscription(url: str, token: str) -> None:
    watcher = ConvexClient(url)
    updates = iter(watcher.subscribe("notes:list_by_author", {"author": "py-user"}))
    before = [n["text"] for n in next(updates)]
    writer = ConvexClient(url)  # another client's mutation reaches the subscriber
    writer.set_auth(token)
    writer.mutation("notes:add", {"text": "seen by the watcher"})
    after = [n["text"] for n in next(updates)]
    report("subscription", {"before": before, "after": after})


def rerun(url: str, token: str) -> None:
    """A subscriber of `notes:list` sees another client's `notes:add` (no auth: an app of a
    test's own)."""
    watcher = ConvexClient(url)
    updates = iter(watcher.subscribe("notes:list", {}))
    before = next(updates)
    ConvexClient(url).mutation("notes:add", {"text": "traced"})
    report("rerun", {"before": before, "after": next(updates)})


def across_servers(urls: str, token: str) -> None:
    """A subscriber on one server sees a mutation made through another server process."""
    first, second = urls.split(",")
    watcher = ConvexClient(first)
    updates = iter(watcher.subscribe("notes:list_by_author", {"author": "py-user"}))
    before = [n["text"] for n in next(updates)]
    writer = ConvexClient(second)
    writer.set_auth(token)
    writer.mutation("notes:add", {"text": "written through the other server"})
    after = [n["text"] for n in next(updates)]
    report("subscription", {"before": before, "after": after})
    report(
        "read back",
        [n["text"] for n in writer.query("notes:list_by_author", {"author": "py-user"})],
    )


def errors(url: str, tokens: str) -> None:
    owner_token, stranger_token = tokens.split(",")
    owner = ConvexClient(url)
    owner.set_auth(owner_token)
    note_id = owner.mutation("notes:add", {"text": "mine"})
    stranger = ConvexClient(url)
    stranger.set_auth(stranger_token)
    try:
        stranger.mutation("notes:edit", {"note_id": note_id, "text": "x"})
    except ConvexError as error:
        report("convex error", error.data)
    except Exception as error:
        report("other error", str(error))


def files(url: str, token: str) -> None:
    client = ConvexClient(url)
    upload_url = client.mutation("files:generate_upload_url")
    request = urllib.request.Request(
        upload_url, data=b"file body", method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request) as response:
        storage_id = json.loads(response.read())["storageId"]
    download = client.query("files:file_url", {"storage_id": storage_id})
    with urllib.request.urlopen(download) as response:
        report("file", {"body": response.read().decode(), "type": response.headers["content-type"]})


def values(url: str, token: str) -> None:
    """How Python ints arrive: the type name of what the client gives back."""
    client = ConvexClient(url)

    def kind(value: object) -> dict:
        return {"type": type(value).__name__, "value": repr(value)}

    report("count", kind(client.query("values:count")["n"]))
    report("count int64", kind(client.query("values:count_int64")["n"]))
    report("echo int64", kind(client.query("values:echo", {"value": ConvexInt64(5)})["value"]))
    report("echo int", kind(client.query("values:echo", {"value": 5})["value"]))
    try:
        client.query("values:too_big")
    except Exception as error:
        report("too big", str(error))


def logs(url: str, token: str) -> None:
    """What the HTTP client prints of a query's log lines when debugging."""
    client = ConvexHttpClient(url)
    client.set_debug(True)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        value = client.query("values:greet")
    report("greet", {"value": value, "printed": printed.getvalue().splitlines()})


def watch(url: str, token: str) -> None:
    """Every value of a subscription to `items:names`, as it comes, until killed."""
    for value in ConvexClient(url).subscribe("items:names"):
        report("update", value)


def watch_note(url: str, wanted: str) -> None:
    """Subscribes to an author's notes (`wanted` is `author:text`): reports the first
    result, then waits for a result holding the text and reports it."""
    author, text = wanted.split(":", 1)
    updates = iter(ConvexClient(url).subscribe("notes:list_by_author", {"author": author}))
    report("initial", [n["text"] for n in next(updates)])
    for result in updates:
        texts = [n["text"] for n in result]
        if text in texts:
            report("seen", texts)
            return


if __name__ == "__main__":
    url, scenario, token = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
    scenarios = {
        "basics": basics,
        "paginated": paginated,
        "subscription": subscription,
        "rerun": rerun,
        "across_servers": across_servers,
        "errors": errors,
        "files": files,
        "values": values,
        "logs": logs,
        "watch": watch,
        "watch_note": watch_note,
    }
    scenarios[scenario](url, token)
