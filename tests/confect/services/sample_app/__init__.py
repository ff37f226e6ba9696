"""A test app touching every service."""
