"""chat: the app the React client test serves (tests/integration/test_react.py)."""
