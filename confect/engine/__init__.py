"""Storage engines: the interface (interface.py) with what engines exchange (records.py),
the index catalog (catalog.py) and optimistic concurrency (occ.py); the in-memory engine
(memory.py); the SQL engines, one core and two dialects, in sql/."""
