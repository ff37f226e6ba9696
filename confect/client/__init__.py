"""A typed Python client of a confect (or Convex) deployment, over the official `convex`
client: `Client` for scripts and workers, `AsyncClient` for asyncio code.

Calls take a function's definition (or a ref typed as one) with its arguments as keywords,
which pyright checks against the handler's parameters, and give the result decoded by the
function's `returns`: documents as their table's class, ids as `Id`s. A declared error is
raised as its `TaggedError` class. A `"module:name"` path works too (typed `Any`, and
decoded through `app=` when the client has it)."""

from confect.client._async import AsyncClient, AsyncSubscription
from confect.client._auth import Auth
from confect.client._sync import Client, Subscription

__all__ = ["AsyncClient", "AsyncSubscription", "Auth", "Client", "Subscription"]
