"""Storage engines: one interface (interface.py), the in-memory engine, and the SQL engines in sql/, several implementations."""
