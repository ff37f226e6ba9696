"""The SQL engines: SQLite (embedded) and PostgreSQL (several processes), over one core
(`_core`, `_statements`, `_reads`, `_stored`) spelled in each one's dialect (`_dialect`)."""
