"""The app the server benchmark serves: one table, a lookup by index, an insert."""
