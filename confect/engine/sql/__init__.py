"""The SQL engines: SQLite (embedded) and PostgreSQL (several processes)."""
