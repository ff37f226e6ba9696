"""Drives confect servers with the official PyPI `convex` client, in its own process:
subscribes to `settings:greeting` (tests/confect/env_app) on each server, changes the
deployment's GREETING, and prints what every subscription saw before and after, one JSON
line each.

    python -m tests.integration.env_client URL[,URL...] CHANGE

CHANGE is JSON: `{"command": [argv...]}` runs a command (`confect env set ...`);
`{"post": URL, "admin_key": KEY, "body": {...}}` posts the body with the admin key.
"""

import json
import subprocess
import sys
import urllib.request

from convex import ConvexClient


def report(step: str, value: object) -> None:
    print(json.dumps({"step": step, "value": value}), flush=True)


def change(how: dict) -> None:
    if "command" in how:
        done = subprocess.run(how["command"], capture_output=True, text=True, timeout=60)
        report("command", {"status": done.returncode, "output": done.stdout + done.stderr})
        return
    request = urllib.request.Request(
        how["post"],
        data=json.dumps(how["body"]).encode(),
        headers={"Authorization": f"Convex {how['admin_key']}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        report("posted", response.status)


def main(urls: str, how: str) -> None:
    subscriptions = [
        iter(ConvexClient(url).subscribe("settings:greeting", {})) for url in urls.split(",")
    ]
    report("before", [next(updates) for updates in subscriptions])
    change(json.loads(how))
    report("after", [next(updates) for updates in subscriptions])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
