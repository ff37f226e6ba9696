"""The data model: values, ids, validators, schema, documents and errors. Pure: no I/O."""
