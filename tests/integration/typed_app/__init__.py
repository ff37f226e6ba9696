"""A small app for the typed client's tests (`tests/integration/test_typed_client.py`):
tasks of an attrs class, a declared error, an internal function and a paginated query."""
