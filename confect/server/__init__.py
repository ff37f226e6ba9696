"""The server: Convex's HTTP API and WebSocket sync protocol over a `Deployment`."""
