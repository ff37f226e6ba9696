"""An app one of whose modules uses its refs while the app is being imported."""
