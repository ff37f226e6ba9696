"""An app whose data directory (tests/confect/model/data/legacy_ids) was written by confect-py
0.x before its ids matched Convex's (commit e520b7a), by tests/confect/model/make_legacy_ids_data.py."""
