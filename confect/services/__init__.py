"""The services confect functions use, one module per service."""
