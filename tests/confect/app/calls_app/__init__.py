"""An app whose functions call each other by keywords, through refs made at import."""
