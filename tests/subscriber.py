"""A query subscribed to with the official PyPI `convex` client, in its own process (its
client blocks holding the GIL): prints each result as a JSON line until it is ended.

    python -m tests.subscriber URL PATH ARGS_JSON
"""

import json
import sys

from convex import ConvexClient


def main() -> None:
    url, path, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    for value in ConvexClient(url).subscribe(path, args):
        print(json.dumps(value), flush=True)


if __name__ == "__main__":
    main()
